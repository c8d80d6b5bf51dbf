"""Project middleware: Danish first, a request id with one access line per request, and no
NUL characters in a request's path or query."""

from __future__ import annotations

import logging
import time

from django.core.exceptions import BadRequest
from django.utils.functional import SimpleLazyObject, empty

from rfi import observability

access_logger = logging.getLogger("rfi.access")


class DanishFirstMiddleware:
    """Drop Accept-Language so LocaleMiddleware falls back to LANGUAGE_CODE.

    Many Danish officials run English-language browsers; the collaboration's
    working language is Danish, and English is a choice made with the switch.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class RefuseNulMiddleware:
    """Answer 400 to a request whose path or query parameters hold a NUL character.

    PostgreSQL text cannot hold one: a lookup with it (``/udbud/a%00b/``, ``?region=%00``)
    failed with a server error in every view that filters on what it was sent. Forms
    refuse NUL in their fields already (Django's ProhibitNullCharactersValidator); this
    covers the path and the query, which views also read directly.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            raise BadRequest("A NUL character in the path or the query.")
        return self.get_response(request)


class RequestIdMiddleware:
    """Give each request an id (the proxy's X-Request-ID, or a new one) and log the request.

    The id is on every log line of the request and of the tasks it sends
    (rfi.observability) and comes back in the response's X-Request-ID header, so an
    operator can find one request's lines from what the user's browser saw. One access
    line per request records the method, path, status, duration and the client address
    as forwarded by the proxy; health checks and scrapes are logged at DEBUG only.
    """

    QUIET_PATHS = ("/healthz", "/metrics")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = observability.incoming_request_id(request.META)
        token = observability.request_id_var.set(request_id)
        request.request_id = request_id
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[observability.REQUEST_ID_HEADER] = request_id
            self._log(request, response.status_code, started)
            return response
        finally:
            observability.request_id_var.reset(token)

    def _log(self, request, status: int, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        quiet = request.path.startswith(self.QUIET_PATHS) and status < 400
        access_logger.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s %s %.1fms",
            request.method,
            request.get_full_path(),
            status,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": duration_ms,
                "client": observability.client_address(request.META),
                "user_id": _user_id(request),
            },
        )


def _user_id(request) -> int | None:
    """The signed-in user's id, if the request looked the user up (never a query of its own)."""
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None
    return getattr(user, "pk", None)
