"""Danish first: the language comes from the switch (cookie), never from the browser."""

from __future__ import annotations


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
