"""The pages of the project package: language, formats, my roles, history, API access."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from rfi.models import Membership, Region
from rfi.templatetags.rfi_format import money
from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "the page has no <html lang>"
    return match.group(1)


def _rows(html: str) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)


# --- language --------------------------------------------------------------------------------


def test_home_is_danish_by_default(client, regions):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert _html_lang(response) == "da"
    assert response["Content-Language"] == "da"
    assert "Log ind" in response.content.decode()
    assert "Region Midtjylland" in response.content.decode()


def test_an_english_browser_still_gets_danish(client, regions):
    response = client.get(reverse("home"), headers={"Accept-Language": "en-GB,en;q=0.9"})

    assert _html_lang(response) == "da"


def test_the_language_switch_turns_the_site_english_and_back(client, regions):
    # when
    switched = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("home"))

    # then
    assert switched.status_code == 302
    assert switched["Location"] == "/"
    assert _html_lang(english) == "en"
    assert "Log in" in english.content.decode()
    assert "Central Denmark Region" in english.content.decode()

    client.post(reverse("set_language"), {"language": "da", "next": "/"})
    assert _html_lang(client.get(reverse("home"))) == "da"


def test_the_language_switch_refuses_an_unknown_language(client):
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})

    assert _html_lang(client.get(reverse("home"))) == "da"


# --- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "amount", "decimals", "text"),
    [
        ("da", 1234567, 0, "1.234.567 kr."),
        ("en", 1234567, 0, "DKK 1,234,567"),
        ("da", "1234567.5", 2, "1.234.567,50 kr."),
        ("en", "1234567.5", 2, "DKK 1,234,567.50"),
        ("da", -2500, 0, "-2.500 kr."),
        ("da", None, 0, "–"),
    ],
)
def test_money(language, amount, decimals, text):
    with translation.override(language):
        assert money(amount, decimals) == text


def test_money_in_a_template():
    template = Template("{% load rfi_format %}{{ amount|money }}")

    with translation.override("da"):
        assert template.render(Context({"amount": 1234567})) == "1.234.567 kr."


def test_money_in_another_currency(settings):
    settings.CURRENCY = "SEK"

    with translation.override("da"):
        assert money(1234567) == "SEK 1.234.567"


def test_dates_are_dd_mm_yyyy_in_danish():
    with translation.override("da"):
        assert formats.date_format(date(2026, 3, 5), "SHORT_DATE_FORMAT") == "05-03-2026"
        assert formats.date_format(date(2026, 3, 5)) == "05-03-2026"


# --- my region and roles ------------------------------------------------------------------


def test_me_page_lists_region_and_role(officer_rm):
    with translation.override("da"):
        officer_label = str(Membership.Role.OFFICER.label)

    response = client_for(officer_rm).get(reverse("me"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "officer_rm" in html
    [row] = [row for row in _rows(html) if "Region Midtjylland" in row]
    assert officer_label in row
    assert "Region Syddanmark" not in html


def test_me_page_of_someone_with_several_roles(officer_rm, regions):
    Membership.objects.create(user=officer_rm, region=regions["RSD"], role=Membership.Role.CHIEF)
    with translation.override("da"):
        chief_label = str(Membership.Role.CHIEF.label)

    html = client_for(officer_rm).get(reverse("me")).content.decode()

    [row] = [row for row in _rows(html) if "Region Syddanmark" in row]
    assert chief_label in row


# --- history -----------------------------------------------------------------------------------


def test_audit_log_shows_a_region_change_with_who_made_it(secretariat, regions):
    # given: the secretariat renames a region through the API
    client = client_for(secretariat)
    rm = regions["RM"]
    patched = client.patch(
        reverse("region-detail", kwargs={"pk": rm.pk}),
        {"name_da": "Region Midt (omdøbt)"},
        content_type="application/json",
    )
    assert patched.status_code == 200

    # when
    response = client.get(reverse("audit_log"))

    # then
    assert response.status_code == 200
    rows = [row for row in _rows(response.content.decode()) if "Region Midt (omdøbt)" in row]
    assert len(rows) == 1
    assert "secretariat" in rows[0]


def test_admin_history_shows_a_change_made_in_the_admin(secretariat, regions):
    # given: the secretariat edits the region through the admin change form
    client = client_for(secretariat)
    rm = regions["RM"]
    response = client.post(
        reverse("admin:rfi_region_change", args=[rm.pk]),
        {"code": "RM", "name_da": "Region Midtjylland", "name_en": "Mid Jutland", "active": "on"},
    )
    assert response.status_code == 302
    rm.refresh_from_db()
    assert rm.name_en == "Mid Jutland"

    # when
    history = client.get(reverse("admin:rfi_region_history", args=[rm.pk]))

    # then
    assert history.status_code == 200
    html = history.content.decode()
    assert "secretariat" in html
    assert rm.history.latest().history_user == secretariat
    audit = client.get(reverse("audit_log")).content.decode()
    assert any("secretariat" in row and "Region Midtjylland" in row for row in _rows(audit))


def test_a_change_with_an_api_token_is_recorded_under_its_user(client, secretariat, regions):
    token = client.post(
        reverse("api-token"), {"username": "secretariat", "password": PASSWORD}
    ).json()["token"]

    response = client.patch(
        reverse("region-detail", kwargs={"pk": regions["RN"].pk}),
        {"name_en": "Northern Jutland"},
        content_type="application/json",
        headers={"Authorization": f"Token {token}"},
    )

    assert response.status_code == 200
    assert Region.history.filter(code="RN").latest().history_user == secretariat


# --- the API ---------------------------------------------------------------------------------


def test_api_token_login_and_me(client, officer_rm):
    # given
    answer = client.post(reverse("api-token"), {"username": "officer_rm", "password": PASSWORD})
    assert answer.status_code == 200
    token = answer.json()["token"]

    # when: a fresh client with no session, only the token
    response = Client().get(reverse("api-me"), headers={"Authorization": f"Token {token}"})

    # then
    assert response.status_code == 200
    assert response.json() == {
        "username": "officer_rm",
        "is_secretariat": False,
        "memberships": [{"region": "RM", "role": "officer"}],
    }


def test_api_token_refuses_a_wrong_password(client, officer_rm):
    answer = client.post(reverse("api-token"), {"username": "officer_rm", "password": "wrong"})

    assert answer.status_code == 400
    assert "token" not in answer.json()


def test_api_refuses_a_made_up_token(client, officer_rm):
    response = client.get(reverse("api-me"), headers={"Authorization": "Token not-a-real-token"})

    assert response.status_code in {401, 403}
    assert "memberships" not in response.json()


def test_api_me_for_the_secretariat(secretariat):
    response = client_for(secretariat).get(reverse("api-me"))

    assert response.json() == {
        "username": "secretariat",
        "is_secretariat": True,
        "memberships": [],
    }


# --- security headers and the API docs ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "signed_in"), [("home", False), ("login", False), ("categories", True)]
)
def test_pages_carry_a_content_security_policy(url_name, signed_in, officer_rm):
    client = client_for(officer_rm) if signed_in else Client()

    response = client.get(reverse(url_name))

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_api_docs_use_no_external_scripts(officer_rm):
    client = client_for(officer_rm)

    response = client.get(reverse("api-docs"))

    html = response.content.decode()
    assert response.status_code == 200
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle" in source for source in sources)
    external = [s for s in sources if s.startswith(("http:", "https:", "//"))]
    assert external == []
    assert "Content-Security-Policy" in response


def test_api_docs_script_points_at_our_own_schema(officer_rm):
    client = client_for(officer_rm)

    script = client.get(reverse("api-docs"), {"script": ""})
    schema = client.get(reverse("schema"))

    assert script.status_code == 200
    assert reverse("schema") in script.content.decode()
    assert "https://" not in script.content.decode()
    assert schema.status_code == 200
    assert b"/api/v1/regions/" in schema.content


def test_the_favicon_answers_and_every_page_links_it():
    client = Client()
    # when
    icon = client.get("/favicon.ico")
    home = client.get("/")

    # then
    assert icon.status_code == 200
    assert icon["Content-Type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg")
    assert b'<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in home.content
