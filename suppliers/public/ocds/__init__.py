"""The OCDS open-data feed of the public portal (docs/ocds.md)."""

from suppliers.public.ocds.build import EXTENSIONS, ocid, release, release_package, release_tag

__all__ = ["EXTENSIONS", "ocid", "release", "release_package", "release_tag"]
