"""Identity behind a proxy and API tokens (issue: safe data paths, §5).

- The client's address comes from one setting, NUM_PROXIES: a spoofed X-Forwarded-For
  neither bypasses a throttle nor locks other people out, with 0 and with 1 proxy.
- API tokens are stored hashed, expire, are revoked by a password change, and a user
  sees and revokes their own on /mig/.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.throttling import SimpleRateThrottle

from rfi.network import client_address
from rfi.services import api_token_issue
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PASSWORD = "test-password-123"


@pytest.fixture(autouse=True)
def _clean_throttles():
    cache.clear()
    yield
    cache.clear()


# The client's address --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "client"),
    [
        (0, "93.184.215.14", "", "93.184.215.14"),
        (0, "93.184.215.14", "1.2.3.4", "93.184.215.14"),  # no proxy: the header is a claim
        (1, "172.18.0.5", "1.2.3.4, 198.51.100.7", "198.51.100.7"),  # the proxy's entry
        (1, "172.18.0.5", "198.51.100.7", "198.51.100.7"),
        (2, "172.18.0.5", "6.6.6.6, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (2, "172.18.0.5", "198.51.100.7", "198.51.100.7"),
        (1, "172.18.0.5", "", "172.18.0.5"),
    ],
)
def test_the_client_address_follows_num_proxies(settings, proxies, remote, forwarded, client):
    settings.NUM_PROXIES = proxies

    meta = {"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_address(meta) == client


def rates(monkeypatch, **changed):
    # DRF binds the rates to the throttle class when it is imported.
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, **changed}
    )


@pytest.mark.parametrize("proxies", [0, 1])
def test_rotating_x_forwarded_for_does_not_bypass_the_anonymous_throttle(
    settings, monkeypatch, proxies
):
    settings.NUM_PROXIES = proxies
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
    rates(monkeypatch, anon="3/minute", token="100/minute")
    client = Client()
    codes = []
    for attempt in range(6):
        # the attacker claims a new address each time; the proxy appends the real one
        spoofed = f"203.0.113.{attempt}"
        forwarded = f"{spoofed}, 198.51.100.7" if proxies else spoofed
        response = client.post(
            reverse("api-token"),
            {"username": "nobody", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=forwarded,
            REMOTE_ADDR="172.18.0.5" if proxies else "198.51.100.7",
        )
        codes.append(response.status_code)

    assert codes == [400, 400, 400, 429, 429, 429]


@pytest.mark.parametrize("proxies", [0, 1])
def test_bad_logins_from_one_client_do_not_lock_the_user_out_for_everyone(
    settings, secretariat, proxies
):
    settings.NUM_PROXIES = proxies
    secretariat.set_password(PASSWORD)
    secretariat.save()
    attacker = Client()
    # behind one proxy every request reaches gunicorn from the proxy's address
    proxy_peer = "172.18.0.5"

    def login(client, password, real_address):
        forwarded = f"{real_address}" if proxies else ""
        remote = proxy_peer if proxies else real_address
        return client.post(
            reverse("login"),
            {"username": secretariat.username, "password": password},
            HTTP_X_FORWARDED_FOR=forwarded,
            REMOTE_ADDR=remote,
        )

    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        login(attacker, "wrong", "198.51.100.66")
    locked = login(attacker, PASSWORD, "198.51.100.66")
    colleague = login(Client(), PASSWORD, "192.0.2.10")

    assert locked.status_code == 429 or "låst" in locked.content.decode().lower()
    assert colleague.status_code == 302, colleague.content.decode()[:300]


def test_the_token_endpoint_is_throttled_per_client(monkeypatch, officer_rm):
    rates(monkeypatch, token="3/minute")
    codes = [
        Client()
        .post(reverse("api-token"), {"username": "officer_rm", "password": "wrong"})
        .status_code
        for _ in range(5)
    ]

    assert codes == [400, 400, 400, 429, 429]


# API tokens ---------------------------------------------------------------------------------


def test_a_token_is_stored_only_as_a_hash_and_expires_after_the_setting(officer_rm):
    secret, record = api_token_issue(user=officer_rm)

    stored = AuthToken.objects.get()
    assert secret not in {stored.digest, stored.token_key}
    assert stored.token_key == secret[: len(stored.token_key)]
    lifetime = stored.expiry - stored.created
    assert dt.timedelta(days=29, hours=23) < lifetime <= dt.timedelta(days=30)


def test_an_expired_token_is_refused(officer_rm):
    secret, record = api_token_issue(user=officer_rm)
    AuthToken.objects.filter(pk=record.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))

    response = Client().get(reverse("api-me"), headers={"Authorization": f"Token {secret}"})

    assert response.status_code == 401


def test_a_password_change_revokes_the_users_tokens(officer_rm, officer_rsd):
    mine, _ = api_token_issue(user=officer_rm)
    theirs, _ = api_token_issue(user=officer_rsd)
    client = client_for(officer_rm)
    officer_rm.set_password(PASSWORD)
    officer_rm.save()
    client.force_login(officer_rm)

    answer = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Et-nyt-kodeord-2026",
            "new_password2": "Et-nyt-kodeord-2026",
        },
    )

    assert answer.status_code == 302
    assert (
        Client().get(reverse("api-me"), headers={"Authorization": f"Token {mine}"}).status_code
        == 401
    )
    assert (
        Client().get(reverse("api-me"), headers={"Authorization": f"Token {theirs}"}).status_code
        == 200
    )


def test_a_user_sees_and_revokes_their_own_tokens_on_the_profile_page(officer_rm, officer_rsd):
    first, first_record = api_token_issue(user=officer_rm)
    second, _ = api_token_issue(user=officer_rm)
    _other, other_record = api_token_issue(user=officer_rsd)
    client = client_for(officer_rm)

    page = client.get(reverse("me")).content.decode()
    assert first_record.token_key[:8] in page
    assert other_record.token_key[:8] not in page
    assert first not in page  # the secret is never shown again

    client.post(reverse("api_token_revoke", args=[first_record.token_key]))
    # someone else's token cannot be revoked by naming its key
    client.post(reverse("api_token_revoke", args=[other_record.token_key]))

    assert (
        Client().get(reverse("api-me"), headers={"Authorization": f"Token {first}"}).status_code
        == 401
    )
    assert (
        Client().get(reverse("api-me"), headers={"Authorization": f"Token {second}"}).status_code
        == 200
    )
    assert AuthToken.objects.filter(user=officer_rsd).count() == 1

    client.post(reverse("api_token_revoke", args=["all"]))
    assert not AuthToken.objects.filter(user=officer_rm).exists()
