"""Seeding a fresh site: the reference data, the demo users, and logging in as one."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from rfi.models import Category, Membership, PartnerBody, Region
from tests.conftest import kept_for_module

pytestmark = pytest.mark.django_db

User = get_user_model()
DEMO_PASSWORD = "demo-rfi-2026"
REGION_CODES = ["RH", "RSJ", "RSD", "RM", "RN"]
DEMO_USERNAMES = ["sekretariat"] + [
    f"{code.lower()}-{slug}" for code in REGION_CODES for slug in ("officer", "ufo", "chief")
]


@dataclass
class Counts:
    users: int
    memberships: int
    regions: int
    partner_bodies: int
    categories: int
    region_history: int
    membership_history: int

    @classmethod
    def now(cls) -> Counts:
        return cls(
            users=User.objects.count(),
            memberships=Membership.objects.count(),
            regions=Region.objects.count(),
            partner_bodies=PartnerBody.objects.count(),
            categories=Category.objects.count(),
            region_history=Region.history.count(),
            membership_history=Membership.history.count(),
        )


@dataclass
class Seeding:
    after_reference: Counts
    after_first_demo: Counts
    after_second_demo: Counts
    first_output: str
    second_output: str


def _run(command: str) -> str:
    out = io.StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Seeding:
    """seed_reference, then seed_demo twice, on an empty database, once for the module."""
    with kept_for_module(django_db_blocker):
        with django_db_blocker.unblock():
            _run("seed_reference")
            after_reference = Counts.now()
            first_output = _run("seed_demo")
            after_first_demo = Counts.now()
            second_output = _run("seed_demo")
            after_second_demo = Counts.now()
        yield Seeding(
            after_reference, after_first_demo, after_second_demo, first_output, second_output
        )


def test_seed_reference_loads_regions_partner_bodies_and_cpv_but_no_users(seeded):
    counts = seeded.after_reference

    assert counts.regions == 5
    assert counts.partner_bodies == 5
    assert counts.categories == 9454
    assert counts.users == 0
    assert counts.memberships == 0


def test_the_five_danish_regions(seeded):
    names = dict(Region.objects.values_list("code", "name_da"))

    assert set(names) == set(REGION_CODES)
    assert names["RM"] == "Region Midtjylland"
    assert names["RSD"] == "Region Syddanmark"


def test_amgros_is_the_medicine_body(seeded):
    amgros = PartnerBody.objects.get(code="AMGROS")

    assert amgros.name_da == "Amgros"
    assert amgros.is_medicine_body is True
    assert list(PartnerBody.objects.filter(is_medicine_body=True)) == [amgros]


def test_seed_demo_creates_one_user_per_role_per_region_and_the_secretariat(seeded):
    assert set(User.objects.values_list("username", flat=True)) == set(DEMO_USERNAMES)
    assert seeded.after_first_demo.memberships == 15
    for code in REGION_CODES:
        roles = set(Membership.objects.filter(region__code=code).values_list("role", flat=True))
        assert roles == {"officer", "ufo", "chief"}, code
    rm_chief = Membership.objects.get(user__username="rm-chief")
    assert (rm_chief.region.code, rm_chief.role) == ("RM", "chief")
    secretariat = User.objects.get(username="sekretariat")
    assert secretariat.is_staff
    assert not secretariat.memberships.exists()


def test_seed_demo_twice_changes_nothing(seeded):
    assert seeded.after_second_demo == seeded.after_first_demo


def test_seed_demo_computes_the_kpis_once_not_once_per_region_and_load(seeded):
    from kpi.models import KpiRun

    assert KpiRun.objects.count() == 1
    assert seeded.first_output.count("KPI figures:") == 1


def test_seed_demo_prints_the_credentials(seeded):
    for username in DEMO_USERNAMES:
        line = next(line for line in seeded.first_output.splitlines() if username in line)
        assert DEMO_PASSWORD in line
    assert "already existed, password unchanged" not in seeded.first_output
    assert seeded.second_output.count("already existed, password unchanged") == len(DEMO_USERNAMES)


def _log_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.parametrize("username", DEMO_USERNAMES)
def test_demo_user_logs_in_through_the_form(seeded, client, username):
    response = _log_in(client, username, DEMO_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(User.objects.get(username=username).pk)


def test_a_wrong_password_is_refused(seeded, client):
    response = _log_in(client, "rm-officer", "not-the-password")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors


def test_four_failures_do_not_lock_the_account(seeded, client):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _log_in(client, "rm-officer", "not-the-password")

    response = _log_in(client, "rm-officer", DEMO_PASSWORD)

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_too_many_failures_lock_the_account(seeded, client):
    # given: the language cookie makes the page English whatever the translations say
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, "rm-officer", "not-the-password")

    # when: the right password comes too late
    response = _log_in(client, "rm-officer", DEMO_PASSWORD)

    # then
    assert "_auth_user_id" not in client.session
    assert response.status_code == 429
    assert "Account locked" in response.content.decode()
    assert "registration/locked_out.html" in [t.name for t in response.templates]


def test_a_lockout_is_per_user(seeded, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _log_in(client, "rm-officer", "not-the-password")

    response = _log_in(client, "rsd-officer", DEMO_PASSWORD)

    assert response.status_code == 302
    assert "_auth_user_id" in client.session
