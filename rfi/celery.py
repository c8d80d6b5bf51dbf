"""The Celery app (cookiecutter-django's config/celery_app.py shape)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rfi.settings")

app = Celery("rfi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
