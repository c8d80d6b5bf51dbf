"""The OCDS 1.1 schema patched with the feed's extensions, for offline validation.

OCDS applies an extension's ``release-schema.json`` to the core release schema as a
JSON Merge Patch (RFC 7396); we do the same with the copies in ``suppliers/public/ocds_data``
(no network, no libcoveocds). The *strict* variant also closes every object
(``additionalProperties: false``), so a misspelt or unknown field fails. Validation
needs the ``jsonschema`` package (a test dependency), imported only when asked for.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

DATA_DIR = Path(__file__).resolve().parent.parent / "ocds_data"
CORE_DIR = DATA_DIR / "1.1"
EXTENSIONS_DIR = DATA_DIR / "extensions"
# The local copies of the extensions the feed declares, in the order they are applied.
EXTENSION_FOLDERS = (
    "lots",
    "options",
    "techniques",
    "communication",
    "renewal",
    "option_participation",
)
RELEASE_SCHEMA_ID = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply ``patch`` to ``target`` as a JSON Merge Patch (RFC 7396); return a new value."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@cache
def release_schema(*, strict: bool = False) -> dict:
    """The core release schema with every declared extension applied (and closed if strict)."""
    schema = _load(CORE_DIR / "release-schema.json")
    for folder in EXTENSION_FOLDERS:
        schema = merge_patch(schema, _load(EXTENSIONS_DIR / folder / "release-schema.json"))
    if strict:
        schema = _closed(schema)
    return schema


@cache
def release_package_schema() -> dict:
    return _load(CORE_DIR / "release-package-schema.json")


def _closed(node: Any) -> Any:
    """Every object schema that lists properties admits no others (patternProperties still do:
    they carry the language variants such as ``title_en``)."""
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    closed = {key: _closed(value) for key, value in node.items()}
    # No OCDS field is named "properties", so a "properties" key is always a schema keyword.
    if isinstance(node.get("properties"), dict):
        closed["additionalProperties"] = False
    return closed


_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)


def _is_date_time(value: object) -> bool:
    """RFC 3339 date-time, as OCDS requires (an offset is mandatory)."""
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path)) and " " not in value


def validator(*, strict: bool = False):
    """A draft-4 validator of a release package against core + extensions (+ strict)."""
    release = release_schema(strict=strict)
    package = copy.deepcopy(release_package_schema())
    if strict:
        package = _closed(package)
    registry = Registry().with_resource(
        RELEASE_SCHEMA_ID, Resource.from_contents(release, default_specification=DRAFT4)
    )
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_is_date_time)
    checker.checks("uri")(_is_uri)
    return Draft4Validator(package, registry=registry, format_checker=checker)


def validation_errors(package: dict, *, strict: bool = False) -> list[str]:
    """Every error of the package, as "path: message" lines (empty when valid)."""
    errors = sorted(
        validator(strict=strict).iter_errors(package), key=lambda error: list(error.path)
    )
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(package)'}: {error.message}"
        for error in errors
    ]
