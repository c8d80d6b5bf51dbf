# One image for web, worker, beat and the one-shot migrate service (docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=rfi.settings MEDIA_ROOT=/data/media BACKUP_ROOT=/data/backups
# gettext: compilemessages; curl: the web health check; postgresql-client: manage.py backup
# and restore (pg_dump/pg_restore 15, the major version of the compose file's PostgreSQL).
RUN apt-get update && apt-get install -y --no-install-recommends gettext curl postgresql-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Static files are built with the production settings (DEBUG=0), so the manifest
# (staticfiles/staticfiles.json) that CompressedManifestStaticFilesStorage reads is there.
# The SECRET_KEY here only lets the settings load; it is not in the running containers.
RUN python manage.py compilemessages --ignore=.venv -v0 \
    && DEBUG=0 SECRET_KEY=build-time-collectstatic-only python manage.py collectstatic --no-input -v0 \
    && test -s staticfiles/staticfiles.json
# The volumes' mount points belong to the app user: a new named volume takes their owner.
RUN useradd --create-home rfi && mkdir -p /data/media /data/backups /data/beat \
    && chown -R rfi /app /data
USER rfi
EXPOSE 8000
# gunicorn is PID 1 (exec form, no shell), so SIGTERM reaches it; settings in the file.
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "rfi.wsgi:application"]
