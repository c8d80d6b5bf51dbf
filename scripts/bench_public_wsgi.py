"""The site's WSGI application plus one bare view, for benchmark_public only.

The bare view (``/bench-bare/``) returns a short string through the same middleware
and server settings: PERFORMANCE.md measures the public listing against it.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rfi.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

from django.http import HttpResponse  # noqa: E402
from django.urls import clear_url_caches, path  # noqa: E402

from rfi import urls  # noqa: E402


def bare(request):
    return HttpResponse("ok")


urls.urlpatterns.insert(0, path("bench-bare/", bare, name="bench-bare"))
clear_url_caches()
