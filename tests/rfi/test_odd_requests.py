"""Odd requests get an answer, never a server error.

PostgreSQL text cannot hold a NUL character: a path or a query parameter with one
(``/udbud/a%00b/``, ``?region=%00``) reached a lookup and failed with a 500 in every view
that filters on what it was sent, the public portal's included. Forms already refuse NUL
in their fields (Django's ProhibitNullCharactersValidator); the query and the path are
refused as a bad request (400) before any view runs.
"""

from __future__ import annotations

import pytest
from django.utils.html import escape

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

NUL_URLS = [
    "/udbud/FUP-2026%00/",  # public tender page: the reference in the path
    "/udbud/?q=%00",
    "/fup/sag/FUP-2026-001%00/",
    "/fup/region/R%00M/",
    "/forbrug/?region=R%00M",
    "/kpi/?region=%00",
    "/kategorier/?q=33%00",
    "/api/v1/tenders/FUP%00/",
    "/forbrug/?%00=1",
]


@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_character_in_the_path_or_query_is_a_bad_request(url, regions, secretariat):
    response = client_for(secretariat).get(url)

    assert response.status_code == 400


def test_an_anonymous_visitor_gets_a_bad_request_too(client, regions):
    assert client.get("/udbud/FUP-2026%00/").status_code == 400


def test_odd_but_harmless_characters_are_answered_and_shown_escaped(client, regions):
    for typed in ("æøå 🦷", "<script>alert(1)</script>", "%", "שלום"):
        response = client.get("/udbud/", {"q": typed})

        assert response.status_code == 200, typed
        assert escape(typed) in response.content.decode(), typed
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_a_login_with_a_pasted_essay_for_a_username_is_refused_on_the_field(client, db):
    # Django's login form caps the username in the browser only (maxlength); the attempt
    # went on to the lockout's records, whose username column holds 255 characters (a
    # server error on PostgreSQL).
    from axes.models import AccessAttempt

    response = client.post("/login/", {"username": "x" * 5000, "password": "forkert"})

    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [
        "Denne værdi må højst have 150 tegn (den har 5000)."
    ]
    assert not AccessAttempt.objects.exists()


def test_an_api_token_asked_for_with_a_pasted_essay_for_a_username_is_refused(client, db):
    from axes.models import AccessAttempt

    response = client.post("/api/token/", {"username": "x" * 5000, "password": "forkert"})

    assert response.status_code == 400
    assert "username" in response.json()
    assert not AccessAttempt.objects.exists()
