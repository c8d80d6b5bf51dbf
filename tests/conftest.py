"""The cast: one persona per kind of user the collaboration has (healthchecks' alice/bob)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.utils import translation

from rfi.health import forget_anonymous_answers
from rfi.models import Category, Membership, Region
from rfi.services import collaboration_load
from tests.factories import MembershipFactory, UserFactory

PERSONAS = (
    "anonymous",
    "officer_rm",
    "officer_rsd",
    "ufo_member",
    "chief",
    "secretariat",
    "outsider",
)
MEMBER_PERSONAS = ("officer_rm", "officer_rsd", "ufo_member", "chief")


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    # PBKDF2 with a million rounds costs ~0.3 s per user; the tests create hundreds.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session", autouse=True)
def _small_demo_ledger(tmp_path_factory):
    # seed_demo imports 15,000 ledger lines per region and year by default (about 20 s);
    # tests of the seed need the shape, not the volume. Stored files go to a temp folder.
    saved = os.environ.get("DEMO_LEDGER_ROWS")
    os.environ["DEMO_LEDGER_ROWS"] = "300"
    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        yield
    if saved is None:
        os.environ.pop("DEMO_LEDGER_ROWS", None)
    else:
        os.environ["DEMO_LEDGER_ROWS"] = saved


@pytest.fixture(scope="session", autouse=True)
def _flush_postgresql_by_delete():
    """Empty the tables after a transactional test with DELETE, not TRUNCATE (PostgreSQL).

    The browser, real-worker and concurrency tests commit for real, so pytest-django
    empties every table after each of them (Django's ``flush``). On PostgreSQL that is one
    TRUNCATE of all 82 tables: ~0.3 s, as each table gets new files, even when the test
    left a handful of rows; DELETE of the same tables takes ~0.02 s. Same end state (every
    table empty, sequences left as they are, as with TRUNCATE here), so the next test starts
    from the same place. Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, so the
    order of the DELETEs does not matter within flush's one transaction. Only the test
    harness's flush changes: the application never flushes.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or reset_sequences or allow_cascade:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return ["SET CONSTRAINTS ALL DEFERRED;"] + [
            f"DELETE FROM {self.quote_name(table)};" for table in tables
        ]

    with mock.patch.object(DatabaseOperations, "sql_flush", sql_flush):
        yield


@pytest.fixture(autouse=True)
def _site_language():
    # A test-client request leaves its page's language active on this thread (Django's
    # LocaleMiddleware activates it, nothing deactivates it): the next test would read
    # lazy translations in English after an English page. Each test starts in the site's
    # language (LANGUAGE_CODE) and leaves it so. tests/test_isolation.py
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # DRF throttling counts requests in the cache; one test must not use up another's quota.
    cache.clear()
    forget_anonymous_answers()  # /healthz's few-second answer for anonymous callers
    yield
    cache.clear()
    forget_anonymous_answers()


@pytest.fixture
def regions(db) -> dict[str, Region]:
    """The five Danish regions (and the partner bodies) from the collaboration file."""
    collaboration_load(path=settings.COLLABORATION_FILE)
    return {region.code: region for region in Region.objects.all()}


@pytest.fixture
def category_33(db) -> Category:
    """CPV division 33 (medical equipment, pharmaceuticals and personal care products)."""
    category, _ = Category.objects.get_or_create(
        code="33000000",
        defaults={
            "check_digit": "0",
            "label_en": "Medical equipments, pharmaceuticals and personal care products",
            "label_da": "Medicinsk udstyr, lægemidler og produkter til personlig pleje",
            "level": 1,
        },
    )
    return category


def _member(username: str, region: Region, role: str):
    return MembershipFactory(user__username=username, region=region, role=role).user


@pytest.fixture
def officer_rm(regions):
    return _member("officer_rm", regions["RM"], Membership.Role.OFFICER)


@pytest.fixture
def officer_rsd(regions):
    return _member("officer_rsd", regions["RSD"], Membership.Role.OFFICER)


@pytest.fixture
def ufo_member(regions):
    return _member("ufo_rm", regions["RM"], Membership.Role.UFO)


@pytest.fixture
def chief(regions):
    return _member("chief_rm", regions["RM"], Membership.Role.CHIEF)


@pytest.fixture
def chiefs(regions, chief) -> dict[str, object]:
    """A procurement chief for every region (RM's is the ``chief`` fixture)."""
    made = {"RM": chief}
    for code, region in regions.items():
        if code != "RM":
            made[code] = _member(f"chief_{code.lower()}", region, Membership.Role.CHIEF)
    return made


@pytest.fixture
def secretariat(db):
    return UserFactory(username="secretariat", is_staff=True)


@pytest.fixture
def outsider(db):
    """Signed in, but holds no role in any region and is not staff."""
    return UserFactory(username="outsider")


@pytest.fixture
def anonymous():
    return AnonymousUser()


def client_for(user) -> Client:
    """A test client signed in as ``user`` (or anonymous)."""
    client = Client()
    if user.is_authenticated:
        client.force_login(user)
    return client


@pytest.fixture
def persona_client(request):
    """``persona_client("officer_rm")`` → (user, signed-in client)."""

    def make(name: str):
        user = request.getfixturevalue(name)
        return user, client_for(user)

    return make


@contextmanager
def kept_for_module(django_db_blocker):
    """Data built once for a whole module, rolled back when the module ends.

    Each test still runs in its own savepoint inside this transaction, so what a
    test writes is undone after it, and what the module built is undone at the end.
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
