"""The Celery app (cookiecutter-django's config/celery_app.py shape)."""

from __future__ import annotations

import os

from celery import Celery

# Connects the signals that carry the request id into tasks and let the worker and beat
# log as settings.LOGGING says.
from rfi import observability  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rfi.settings")

app = Celery("rfi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
