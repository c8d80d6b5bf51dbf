#!/usr/bin/env bash
# Fuzz the API from its own OpenAPI schema: no 5xx, responses match the schema.
# Serves a throwaway SQLite database seeded with the reference data.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
work=$(mktemp -d)
# A free port, so two runs (or a developer's server) never answer for each other.
port=${SCHEMATHESIS_PORT:-$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
# Uploaded ledger files go to the throwaway folder too, not the project's media/.
export DATABASE_URL="sqlite:///$work/api.sqlite3" API_THROTTLE_USER=100000/minute MEDIA_ROOT="$work/media"
$PY manage.py migrate --no-input -v0
$PY manage.py seed_reference >/dev/null
token=$($PY manage.py shell -c "
from django.contrib.auth.models import User
from rfi.services import api_token_issue
user, _ = User.objects.get_or_create(username='api-fuzz', defaults={'is_staff': True})
print(api_token_issue(user=user)[0])" 2>/dev/null | tail -1)
$PY manage.py runserver "127.0.0.1:$port" --noreload >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
[ -n "$token" ] || { echo "no API token was created"; exit 1; }
.venv/bin/schemathesis run "http://127.0.0.1:$port/api/schema/" \
  -H "Authorization: Token $token" \
  --checks not_a_server_error,response_schema_conformance,content_type_conformance \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-30}" \
  --generation-deterministic
