"""Gunicorn settings for the web container (docker-compose.yml runs it as PID 1).

Environment: WEB_CONCURRENCY (workers, read by gunicorn itself), GUNICORN_TIMEOUT,
FORWARDED_ALLOW_IPS (the TLS proxy's address; only it may set X-Forwarded-*),
PROMETHEUS_MULTIPROC_DIR (docs/operations.md). GUNICORN_CMD_ARGS overrides this file.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys

bind = "0.0.0.0:8000"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# The proxy buffers request bodies (deploy/Caddyfile), so a slow client's upload reaches
# gunicorn at local speed; the timeout only has to cover the request's own work.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM, running requests get this long; compose's stop_grace_period is longer.
graceful_timeout = 20
keepalive = 5
# The heartbeat files live in memory, not on the container's overlay filesystem.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# rfi.access logs every request with its duration and request id (docs/operations.md).
accesslog = None
errorlog = "-"

# Only the proxy may say the request came over HTTPS or from which client. Requests from
# any other address lose their X-Forwarded-* headers before Django sees them, so Django's
# SECURE_PROXY_SSL_HEADER and the access log's client address trust only the proxy.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
_TRUSTED = [
    ipaddress.ip_network(item.strip(), strict=False)
    for item in forwarded_allow_ips.split(",")
    if item.strip() and item.strip() != "*"
]
_ANY = forwarded_allow_ips.strip() == "*"
_FORWARDING_HEADERS = ("X-FORWARDED-", "FORWARDED", "X-REAL-IP")


def _trusted(peer) -> bool:
    if _ANY or not isinstance(peer, tuple):  # a UNIX socket: the proxy on this machine
        return True
    try:
        address = ipaddress.ip_address(peer[0])
    except ValueError:
        return False
    return any(address in network for network in _TRUSTED)


def pre_request(worker, req):
    if not _trusted(req.peer_addr):
        req.headers = [
            (name, value)
            for name, value in req.headers
            if not name.upper().startswith(_FORWARDING_HEADERS)
        ]


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker):
    """A booted worker that exits normally skips the interpreter's teardown.

    Its requests are done; tearing down ~1,800 modules took 3-7 s a worker on a busy
    2-core machine and held up a stop (SIGTERM) or a restart for that long.
    """
    exiting = sys.exc_info()[1]
    if not isinstance(exiting, SystemExit) or not getattr(worker, "booted", False):
        return
    code = exiting.code if isinstance(exiting.code, int) else (0 if exiting.code is None else 1)
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001 – the process ends either way
        pass
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
