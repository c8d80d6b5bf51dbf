#!/usr/bin/env python
"""Validate an OCDS release package offline: core 1.1 + the declared extensions, and strict.

    python scripts/validate_ocds.py                 # the feed built from this site's database
    python scripts/validate_ocds.py feed.json       # a saved /udbud/ocds.json
    python scripts/validate_ocds.py https://…/udbud/ocds.json

Exit code 0 when valid against both, 1 otherwise (each error on its own line). The
test suite does the same on a fixture (tests/public/test_ocds.py), so CI needs no
extra step; this script is for checking a live feed or a copy of one.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rfi.settings")


def _load(source: str | None) -> dict:
    if source is None:
        from django.test import Client

        response = Client().get("/udbud/ocds.json")
        if response.status_code != 200:
            raise SystemExit(f"/udbud/ocds.json answered {response.status_code}")
        return response.json()
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310
            return json.load(response)
    return json.loads(Path(source).read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from suppliers.public.ocds.schema import validation_errors

    package = _load(argv[1] if len(argv) > 1 else None)
    failed = False
    for strict in (False, True):
        errors = validation_errors(package, strict=strict)
        label = "strict (no unknown fields)" if strict else "core 1.1 + extensions"
        releases = len(package.get("releases", []))
        sys.stdout.write(f"{label}: {len(errors)} error(s) in {releases} release(s)\n")
        for error in errors:
            sys.stdout.write(f"  {error}\n")
        failed = failed or bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
