"""/udbud/ocds.json and the project's own OCDS extension, public, no login."""

from __future__ import annotations

import json
from functools import lru_cache

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from suppliers.public import selectors as public_selectors
from suppliers.public import views as public_views
from suppliers.public.ocds.build import SERVED_COPIES, release_package
from suppliers.public.ocds.schema import EXTENSIONS_DIR

OWN_EXTENSION_DIR = EXTENSIONS_DIR / "option_participation"
_CONTENT_TYPES = {
    "extension.json": "application/json",
    "release-schema.json": "application/json",
    "README.md": "text/markdown; charset=utf-8",
}
_CODELISTS = {"participation.csv"}


def _json(data: dict, *, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    # Open data: any site may read the feed from a browser.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def package(request: HttpRequest) -> HttpResponse:
    """The release package of the publishable tenders, narrowed by the portal's filters.

    Cached like the portal's pages (suppliers.public.cache): a change to a tender sets
    a new cache version, so the feed shows it at once.
    """
    try:
        tender_filter = public_selectors.filter_public_tenders(request.GET)
    except public_selectors.BadQuery as exc:
        return _json({"errors": exc.parameter_messages}, status=400)

    def build(request: HttpRequest) -> HttpResponse:
        data = release_package(
            tender_filter.qs,
            uri=request.build_absolute_uri(),
            own_extension_url=request.build_absolute_uri(
                reverse("public:ocds_extension", kwargs={"filename": "extension.json"})
            ),
            copy_extension_urls=[
                request.build_absolute_uri(
                    reverse(
                        "public:ocds_extension_copy",
                        kwargs={"name": name, "filename": "extension.json"},
                    )
                )
                for name in SERVED_COPIES
            ],
        )
        content = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        return HttpResponse(content, content_type="application/json")

    # Plain and gzipped copies under the portal's cache version (4 MB for 2,000 tenders),
    # the same bytes for everyone: a change to a tender shows at once.
    response = public_views.serve_file(request, "ocds", build)
    response["Access-Control-Allow-Origin"] = "*"
    return response


@lru_cache(maxsize=8)
def _read(name: str) -> bytes:
    return (OWN_EXTENSION_DIR / name).read_bytes()


@require_safe
def extension_file(request: HttpRequest, filename: str) -> HttpResponse:
    """extension.json, release-schema.json and README.md of the option-participation extension."""
    if filename not in _CONTENT_TYPES:
        raise Http404
    content = _read(filename)
    if filename == "extension.json":
        # The file in the repository names its README relatively; a registry needs a URL.
        metadata = json.loads(content)
        metadata["documentationUrl"] = {
            "en": request.build_absolute_uri(
                reverse("public:ocds_extension", kwargs={"filename": "README.md"})
            )
        }
        return _json(metadata)
    response = HttpResponse(content, content_type=_CONTENT_TYPES[filename])
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def extension_codelist(request: HttpRequest, filename: str) -> HttpResponse:
    if filename not in _CODELISTS:
        raise Http404
    response = HttpResponse(_read(f"codelists/{filename}"), content_type="text/csv; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _copy_file(name: str, filename: str) -> bytes:
    """A file of a served copy (SERVED_COPIES): the names its extension.json lists, only."""
    if name not in SERVED_COPIES:
        raise Http404
    folder = EXTENSIONS_DIR / name
    metadata = json.loads((folder / "extension.json").read_bytes())
    allowed = {"extension.json", *metadata.get("schemas", ())}
    allowed |= {f"codelists/{codelist}" for codelist in metadata.get("codelists", ())}
    if filename not in allowed:
        raise Http404
    return (folder / filename).read_bytes()


@require_safe
def extension_copy_file(request: HttpRequest, name: str, filename: str) -> HttpResponse:
    """extension.json and release-schema.json of an upstream extension, as validated."""
    response = HttpResponse(_copy_file(name, filename), content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def extension_copy_codelist(request: HttpRequest, name: str, filename: str) -> HttpResponse:
    content = _copy_file(name, f"codelists/{filename}")
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response
