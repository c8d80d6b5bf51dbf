"""A cache outage (the cache Redis down): pages render uncached, the API answers, reads are
not throttled, logins still are, and /healthz says so."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from rfi import cache as resilient
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: connections are refused at once.
DEAD_CACHE = "redis://127.0.0.1:1/0"


@pytest.fixture
def cache_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "rfi.cache.ResilientRedisCache",
            "LOCATION": DEAD_CACHE,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    resilient.CIRCUIT.worked()
    yield
    resilient.CIRCUIT.worked()


def test_the_cache_answers_as_an_empty_one(cache_down):
    assert cache.get("anything", "default") == "default"
    assert cache.set("k", "v") is None
    assert cache.add("k", "v") is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.get_or_set("k", lambda: "computed") == "computed"


def test_after_one_failure_the_cache_is_not_asked_again_for_a_while(cache_down, monkeypatch):
    cache.get("first")  # the failure
    calls = []
    monkeypatch.setattr(
        "django.core.cache.backends.redis.RedisCache.get",
        lambda *a, **k: calls.append(a) or "served",
    )

    started = time.monotonic()
    for _ in range(50):
        assert cache.get("again") is None
    assert time.monotonic() - started < 0.5
    assert calls == []


def test_public_pages_render_uncached(cache_down, client):
    response = client.get("/udbud/")

    assert response.status_code == 200


def test_the_api_answers_and_reads_are_not_throttled(cache_down, client, officer_rm):
    api = client_for(officer_rm)
    statuses = {api.get("/api/v1/me/").status_code for _ in range(3)}
    anonymous = {client.get("/api/v1/me/").status_code for _ in range(3)}

    assert statuses == {200}
    assert 429 not in anonymous and 500 not in anonymous


def test_logins_stay_limited_with_the_cache_down(cache_down, client, db):
    # given: a user, and the failure limit reached with the cache down
    User = get_user_model()
    User.objects.create_user("cache-down-user", password="right-password-123")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "cache-down-user", "password": "wrong"})

    # when: the right password comes too late
    response = client.post(
        reverse("login"), {"username": "cache-down-user", "password": "right-password-123"}
    )

    # then: locked out all the same (closed)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_healthz_reports_the_outage_and_stays_alive(cache_down, client, secretariat):
    client.get("/udbud/")  # the process finds the cache down
    client.force_login(secretariat)  # the operator sees each check's detail

    live = client.get(reverse("healthz"))
    ready = client.get(reverse("healthz"), {"ready": "1"})

    assert live.status_code == 200
    assert live.json()["checks"]["cache"]["ok"] is False
    assert live.json()["status"] == "degraded"
    # Readiness: uncached pages still serve, so the site stays in rotation, degraded.
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["ok"] is False
    assert "unreachable" in body["checks"]["cache"]["detail"]
    assert body["checks"]["database"]["ok"] is True
