"""The public portal's cache: rendered pages and feeds under one version key.

Every save or delete of what the portal shows (a tender case, a participation, a
category, a region, a partner body) sets a new version, so the next request renders
afresh: a change appears at once, nothing waits for a timeout. The receivers only
bump the version; they hold no business logic.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import get_language

from rfi.models import Category, PartnerBody, Region
from rfi.tasks import on_commit_once
from tenders.models import Participation, TenderCase

VERSION_KEY = "public-portal:version"
# Pages also expire, as a safety net for changes made behind the ORM's back (raw SQL).
PAGE_TIMEOUT = 60 * 60


def cache_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        # A new random version: pages cached under a lost version are never served again.
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY) or "unversioned"
    return version


def bump_version() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def page_key(name: str, request, *parts: str) -> str:
    """The cache key of one page: language, today's date (tabs), path and query."""
    query = "&".join(f"{k}={v}" for k, v in sorted(request.GET.lists()))
    digest = hashlib.sha256(f"{request.path}?{query}|{'|'.join(parts)}".encode()).hexdigest()
    today = timezone.localdate().isoformat()
    return f"public-portal:{get_language()}:{today}:{name}:{digest}"


class _LocalPages:
    """This process's copies of the page bodies it served lately, by key and version.

    A hit then costs one round trip for the (tiny) version key, not the transfer and
    unpickling of a page of up to megabytes. The version key stays the only truth: an
    entry is used only while its version is the current one, so freshness is Redis's.
    Bounded by bytes; the oldest entries go first.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, tuple[str, object, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str, version: str):
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry[0] != version:
                return None
            self.entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, version: str, value) -> None:
        size = _size(value)
        if size > self.max_bytes // 4:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= old[2]
            self.entries[key] = (version, value, size)
            self.size += size
            while self.size > self.max_bytes and self.entries:
                _, (_, _, dropped) = self.entries.popitem(last=False)
                self.size -= dropped


def _size(value) -> int:
    if isinstance(value, bytes | str):
        return len(value)
    if isinstance(value, tuple | list):
        return sum(_size(v) for v in value) + 64
    return 64


LOCAL = _LocalPages(max_bytes=int(getattr(settings, "PUBLIC_LOCAL_CACHE_BYTES", 32 * 2**20)))


def lookup(key: str):
    """(current version, the entry if it was stored under that version, else None).

    A hit in this process's copies costs one round trip for the version alone;
    otherwise one round trip fetches both: each entry carries the version it was
    rendered under, and an entry of an older version is not served.
    """
    version = cache.get(VERSION_KEY)
    if version is not None:
        local = LOCAL.get(key, version)
        if local is not None:
            return version, local
    values = cache.get_many([VERSION_KEY, key])
    version = values.get(VERSION_KEY) or cache_version()
    entry = values.get(key)
    if entry is not None and entry[0] == version:
        LOCAL.put(key, version, entry[1])
        return version, entry[1]
    return version, None


def store(entries: dict, version: str) -> None:
    """Keep entries (key → value) under the version read before they were rendered.

    A change committed while a page was rendered sets a newer version, so that page is
    rendered again on the next request rather than served stale.
    """
    cache.set_many({key: (version, value) for key, value in entries.items()}, PAGE_TIMEOUT)
    for key, value in entries.items():
        LOCAL.put(key, version, value)


def _bump_after_commit() -> None:
    bump_version()


def _changed(sender, using=None, **kwargs) -> None:
    bump_version()
    # Bump again once the transaction commits: a request that rendered the old rows
    # between the save and the commit must not stay cached under the new version.
    # Once per transaction is enough (a CPV load saves thousands of rows).
    on_commit_once(_bump_after_commit, using=using)


def connect() -> None:
    """Connect the receivers (called from SuppliersConfig.ready)."""
    for model in (TenderCase, Participation, Category, Region, PartnerBody):
        post_save.connect(_changed, sender=model, dispatch_uid=f"public-portal-{model.__name__}")
        post_delete.connect(
            _changed, sender=model, dispatch_uid=f"public-portal-del-{model.__name__}"
        )
