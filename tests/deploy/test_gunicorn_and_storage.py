"""deploy/gunicorn.conf.py trusts X-Forwarded-* from the proxy only; MEDIA_STORAGE picks S3."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADERS = [
    ("HOST", "rfi.example.org"),
    ("X-FORWARDED-PROTO", "https"),
    ("X-FORWARDED-FOR", "203.0.113.9"),
    ("X-REQUEST-ID", "abc"),
]


@pytest.fixture
def gunicorn_config(monkeypatch):
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "172.30.0.10")
    return runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))


def _request_from(address: str, config) -> list[str]:
    request = SimpleNamespace(peer_addr=(address, 51234), headers=list(HEADERS))
    config["pre_request"](None, request)
    return [name for name, _value in request.headers]


def test_the_proxy_may_say_https_and_the_client_address(gunicorn_config):
    assert gunicorn_config["forwarded_allow_ips"] == "172.30.0.10"
    assert _request_from("172.30.0.10", gunicorn_config) == [n for n, _v in HEADERS]


def test_any_other_peer_loses_its_forwarded_headers(gunicorn_config):
    assert _request_from("172.30.0.23", gunicorn_config) == ["HOST", "X-REQUEST-ID"]


def _storage(**env) -> dict:
    code = (
        "import django, json; django.setup(); "
        "from django.core.files.storage import storages; s = storages['default']; "
        "print(json.dumps([type(s).__module__ + '.' + type(s).__name__, "
        "getattr(s, 'bucket_name', None), getattr(s, 'endpoint_url', None)]))"
    )
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MEDIA_", "AWS_"))},
        "DJANGO_SETTINGS_MODULE": "rfi.settings",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_uploads_go_to_the_filesystem_by_default_and_to_s3_when_chosen():
    assert _storage()[0] == "django.core.files.storage.filesystem.FileSystemStorage"
    backend, bucket, endpoint = _storage(
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="rfi-uploads",
        AWS_S3_ENDPOINT_URL="https://s3.example.org",
    )
    assert (backend, bucket, endpoint) == (
        "storages.backends.s3.S3Storage",
        "rfi-uploads",
        "https://s3.example.org",
    )
