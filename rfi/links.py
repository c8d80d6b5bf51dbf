"""Absolute links to the site, for mails and feeds read outside a request."""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    """``path`` (as ``reverse`` gives it) on the site's public address, SITE_URL."""
    return settings.SITE_URL.rstrip("/") + path
