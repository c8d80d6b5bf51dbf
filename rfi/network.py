"""Who is asking: the client's address behind a known number of proxies.

One setting, ``NUM_PROXIES`` (environment ``NUM_PROXIES``, default 0), says how many
proxies in front of the application append to ``X-Forwarded-For``. DRF's throttles read
it as ``REST_FRAMEWORK["NUM_PROXIES"]``, django-axes reads :func:`client_ip`, and the
access log reads :func:`client_address`, all with the same rule as DRF:

- 0 proxies: the peer address (``REMOTE_ADDR``); a client's ``X-Forwarded-For`` is ignored.
- N proxies: the N-th entry from the right of ``X-Forwarded-For``, the one our outermost
  proxy appended. Entries further left are whatever the client claimed and never count.
"""

from __future__ import annotations

from django.conf import settings


def num_proxies() -> int:
    return int(getattr(settings, "NUM_PROXIES", 0) or 0)


def client_address(meta) -> str:
    """The client's address from a request's META (or any mapping of WSGI variables)."""
    remote = meta.get("REMOTE_ADDR", "") or ""
    proxies = num_proxies()
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    entries = [entry.strip() for entry in forwarded.split(",")]
    return entries[-min(proxies, len(entries))] or remote


def client_ip(request) -> str:
    """django-axes' ``AXES_CLIENT_IP_CALLABLE``: the address lockouts are counted against."""
    return client_address(request.META)
