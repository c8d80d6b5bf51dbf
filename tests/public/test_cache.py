"""The portal caches whole pages and feeds, and a change appears at once."""

from __future__ import annotations

import datetime as dt
import gzip

import feedparser
import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse

from rfi.models import Membership
from suppliers.public import cache as public_cache
from tenders import services
from tenders.models import Participation
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

INDEX = reverse("public:index")


def test_a_second_visit_is_served_from_the_cache_without_the_database(
    plan, django_assert_num_queries
):
    Client().get(INDEX)

    with django_assert_num_queries(0):
        response = Client().get(INDEX)

    assert response.status_code == 200
    assert "Sutur og hæftemateriale" in response.content.decode()


def test_a_tender_change_through_the_service_appears_at_once(plan, officer_rm):
    detail = reverse("public:detail", args=["FUP-2026-101"])
    assert "15-05-2027" in Client().get(detail).content.decode()
    assert "Sutur og hæftemateriale" in Client().get(INDEX).content.decode()

    services.tender_update(
        tender=plan["sutures"],
        actor=officer_rm,
        title="Sutur, hæfteklammer og vævslim",
        expected_tender_start=dt.date(2027, 8, 1),
    )

    page = Client().get(detail).content.decode()
    listing = Client().get(INDEX).content.decode()
    assert "Sutur, hæfteklammer og vævslim" in page and "01-08-2027" in page
    assert "Sutur, hæfteklammer og vævslim" in listing
    assert "Q2 2027" in page and "Q3 2027" in page  # the change log moved it


def test_a_participation_decision_appears_at_once(plan, regions, officer_rsd):
    participation = plan["gloves"].participations.create(region=regions["RM"])
    row_before = Client().get(INDEX, {"tab": "current"}).content.decode()
    assert "Region Midtjylland" not in row_before.split("FUP-2025-060", 1)[1].split("</tr>")[0]
    officer_rm_user = _officer(regions["RM"])

    services.participation_decide(
        participation=participation, actor=officer_rm_user, status=Participation.Status.FULL
    )

    row_after = Client().get(INDEX, {"tab": "current"}).content.decode()
    assert "Region Midtjylland" in row_after.split("FUP-2025-060", 1)[1].split("</tr>")[0]


def _officer(region):
    return MembershipFactory(
        user__username=f"officer-{region.code}", region=region, role=Membership.Role.OFFICER
    ).user


def test_publishing_and_unpublishing_a_case_shows_at_once(plan):
    internal = plan["internal"]
    assert "Intern sag om dialyse" not in Client().get(INDEX).content.decode()

    internal.is_publishable = True
    internal.save()
    assert "Intern sag om dialyse" in Client().get(INDEX).content.decode()

    internal.is_publishable = False
    internal.save()
    assert "Intern sag om dialyse" not in Client().get(INDEX).content.decode()
    detail = reverse("public:detail", args=[internal.reference])
    assert Client().get(detail).status_code == 404


def test_deleting_a_case_removes_it_at_once(plan):
    assert "Printere via SKI" in Client().get(INDEX).content.decode()

    plan["ski"].delete()

    assert "Printere via SKI" not in Client().get(INDEX).content.decode()


def test_a_category_label_change_appears_at_once(plan):
    category = plan["sutures"].category
    assert "Ikke-kemiske" in Client().get(INDEX).content.decode()

    category.label_da = "Sterile engangsartikler"
    category.save()

    assert "Sterile engangsartikler" in Client().get(INDEX).content.decode()


def test_feeds_and_exports_are_invalidated_too(plan):
    feed = reverse("public:feed")
    csv = reverse("public:csv")
    Client().get(feed)
    Client().get(csv)

    plan["office"].title = "Kontorartikler og papir"
    plan["office"].save()

    entries = feedparser.parse(Client().get(feed).content).entries
    assert entries[0].title.endswith(": Kontorartikler og papir")
    assert "Kontorartikler og papir" in Client().get(csv).content.decode("utf-8")


@pytest.mark.django_db(transaction=True)
def test_the_version_is_bumped_again_once_when_the_transaction_commits(plan, monkeypatch):
    bumps = []
    monkeypatch.setattr(public_cache, "bump_version", lambda: bumps.append(1))

    with transaction.atomic():
        plan["office"].save()
        plan["beds"].save()
        saves = len(bumps)

    # A request that rendered between the save and the commit is not served afterwards:
    # the version is bumped once more at the commit, once however many saves.
    assert saves == 2
    assert len(bumps) == 3


def test_a_lost_version_key_never_serves_old_pages(plan):
    Client().get(INDEX)
    # A change behind the ORM's signals (no bump), then the version key is evicted.
    type(plan["sutures"]).objects.filter(pk=plan["sutures"].pk).update(title="Ny titel")
    cache.delete(public_cache.VERSION_KEY)

    assert "Ny titel" in Client().get(INDEX).content.decode()


def test_a_cached_page_carries_no_per_visitor_secret_and_the_language_switch_still_works(plan):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.get(INDEX)  # fills the cache

    served = second.get(INDEX)
    html = served.content.decode()
    # The language switch is a form without a token (a forged switch only changes the
    # language): the cached page holds nothing per visitor and sets no cookie.
    switched = second.post(reverse("set_language"), {"language": "en", "next": INDEX})

    assert "csrfmiddlewaretoken" not in html
    assert "csrftoken" not in served.cookies
    assert switched.status_code == 302
    assert '<html lang="en">' in second.get(INDEX).content.decode()


@pytest.mark.parametrize(
    ("name", "args"),
    [("index", []), ("timeline", []), ("region", ["RM"]), ("detail", ["FUP-2026-101"])],
)
def test_no_cached_page_holds_a_csrf_token(plan, name, args):
    url = reverse(f"public:{name}", args=args)
    Client().get(url)  # fills the cache

    served = Client().get(url)

    assert served.status_code == 200
    assert "csrfmiddlewaretoken" not in served.content.decode()
    assert "csrftoken" not in served.cookies


def test_a_cached_page_is_sent_gzipped_to_a_client_that_asks(plan):
    plain = Client().get(INDEX)
    packed = Client().get(INDEX, headers={"accept-encoding": "gzip, deflate"})
    packed_again = Client().get(INDEX, headers={"accept-encoding": "gzip"})

    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert len(packed.content) < len(plain.content) / 2
    assert gzip.decompress(packed.content) == plain.content
    assert packed_again.content == packed.content


def test_the_cache_keeps_languages_apart(plan):
    english = Client()
    english.post(reverse("set_language"), {"language": "en"})

    danish_page = Client().get(INDEX).content.decode()
    english_page = english.get(INDEX).content.decode()

    assert "Region Midtjylland" in danish_page
    assert "Central Denmark Region" in english_page


def test_a_page_rendered_across_a_change_is_not_served_afterwards(db):
    # given a request that read the version, then a change that committed mid-render
    version, hit = public_cache.lookup("public-portal:test")
    public_cache.bump_version()
    # when the request stores what it rendered from the old rows
    public_cache.store({"public-portal:test": "old page"}, version)

    # then the next request renders afresh
    assert hit is None
    assert public_cache.lookup("public-portal:test")[1] is None
    public_cache.store({"public-portal:test": "new page"}, public_cache.cache_version())
    assert public_cache.lookup("public-portal:test")[1] == "new page"
