"""POST /api/v1/ledger-batches/: a region's ERP uploads an extract with its token."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from rfi.services import api_token_issue
from spend.models import ImportBatch, LedgerLine
from tests.conftest import client_for
from tests.spend.ledger_files import (
    FEBRUARY,
    JANUARY,
    JANUARY_TOTAL,
    csv_bytes,
    current_total,
    media,  # noqa: F401 – fixture
    snapshot,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

LIST = reverse("importbatch-list")


def erp(user) -> Client:
    """A client that authenticates the way an ERP does: a token, no session, no CSRF."""
    token, _record = api_token_issue(user=user)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {token}")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the msgids are English
    return client


def _post(client, data: bytes = b"", name: str = "hovedbog.csv", **fields):
    payload = {"region": "RM", **fields}
    if data is not None:
        payload["file"] = SimpleUploadedFile(name, data)
    return client.post(LIST, payload)


def test_the_erp_uploads_with_its_token_and_gets_202_with_the_batch_and_its_url(
    officer_rm, regions, django_capture_on_commit_callbacks
):
    client = erp(officer_rm)

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, csv_bytes(JANUARY), period_start="2025-01-01")

    # the period needs both ends: refused, nothing stored
    assert response.status_code == 400
    assert "both the first and the last day" in response.json()["non_field_errors"][0]
    assert not ImportBatch.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, csv_bytes(JANUARY))

    assert response.status_code == 202, response.content
    body = response.json()
    batch = ImportBatch.objects.get()
    assert body["id"] == batch.pk
    assert body["status"] == "queued"  # the import runs after the answer
    assert body["region"] == "RM"
    assert body["source"] == "api"
    assert body["sha256"] == batch.sha256
    assert body["queue_unreachable"] is False
    assert response["Location"] == body["url"]
    assert body["url"].endswith(reverse("importbatch-detail", kwargs={"pk": batch.pk}))
    assert body["page_url"].endswith(reverse("spend:batch", kwargs={"pk": batch.pk}))
    # and the client follows it to the end
    detail = client.get(body["url"]).json()
    assert detail["status"] == "done"
    assert detail["rows_loaded"] == 4
    assert detail["errors"] == []
    assert current_total(regions["RM"]) == JANUARY_TOTAL


def test_a_refused_file_reports_its_errors_as_json(officer_rm, django_capture_on_commit_callbacks):
    client = erp(officer_rm)
    bad = [[*FEBRUARY[0][:7], "12,34,5", *FEBRUARY[0][8:]]]

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, csv_bytes(bad))

    assert response.status_code == 202
    detail = client.get(response.json()["url"]).json()
    assert detail["status"] == "failed"
    assert detail["error_count"] == 1
    (error,) = detail["errors"]
    assert (error["row"], error["column"], error["value"]) == (2, "Beløb", "12,34,5")
    assert error["reason"]
    assert not LedgerLine.objects.exists()


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"", "hovedbog.csv", "empty"),
        (b"%PDF-1.4", "hovedbog.pdf", ".pdf"),
        (None, "", "file"),
    ],
    ids=["empty", "wrong-type", "no-file"],
)
def test_bad_input_gets_400_with_the_reason_and_stores_nothing(officer_rm, data, name, expected):
    response = _post(erp(officer_rm), data, name)

    assert response.status_code == 400
    body = response.json()
    assert "file" in body
    assert expected in str(body).lower() or expected == "file"
    assert not ImportBatch.objects.exists()


def test_an_unknown_region_gets_400(officer_rm):
    response = _post(erp(officer_rm), csv_bytes(JANUARY), region="XX")

    assert response.status_code == 400
    assert "region" in response.json()
    assert not ImportBatch.objects.exists()


def test_a_file_over_the_limit_gets_413_and_nothing_is_stored(officer_rm, settings):
    settings.LEDGER_MAX_UPLOAD_BYTES = 64 * 1024

    response = _post(erp(officer_rm), csv_bytes(JANUARY * 6000))

    assert response.status_code == 413
    assert "larger than the limit" in response.json()["detail"]
    assert not ImportBatch.objects.exists()


def test_the_same_file_twice_is_a_duplicate_200_that_changes_nothing(
    officer_rm, django_capture_on_commit_callbacks
):
    client = erp(officer_rm)
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, csv_bytes(JANUARY))
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, csv_bytes(JANUARY))

    assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("officer_rsd", 403),
        ("chief", 403),
        ("ufo_member", 403),
        ("outsider", 403),
        ("secretariat", 202),
        ("officer_rm", 202),
    ],
)
def test_only_the_regions_officers_and_the_secretariat_upload_for_it(
    persona, status, request, regions
):
    user = request.getfixturevalue(persona)

    response = _post(erp(user), csv_bytes(JANUARY))

    assert response.status_code == status, response.content
    assert ImportBatch.objects.exists() is (status == 202)


def test_anonymous_gets_401(regions):
    response = _post(Client(), csv_bytes(JANUARY))

    assert response.status_code == 401
    assert not ImportBatch.objects.exists()


def test_session_clients_need_the_csrf_token(officer_rm):
    client = client_for(officer_rm)
    client.handler.enforce_csrf_checks = True

    response = _post(client, csv_bytes(JANUARY))

    assert response.status_code == 403
    assert not ImportBatch.objects.exists()


def test_lists_and_details_are_limited_to_the_regions_a_user_sees(
    officer_rm, officer_rsd, chief, secretariat, regions
):
    _post(erp(officer_rm), csv_bytes(JANUARY))
    _post(erp(secretariat), csv_bytes(FEBRUARY), region="RSD")
    rm_batch = ImportBatch.objects.get(region__code="RM")
    rsd_batch = ImportBatch.objects.get(region__code="RSD")

    def listed(user, **params):
        response = client_for(user).get(LIST, params)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert listed(officer_rm) == [rm_batch.pk]
    assert listed(officer_rsd) == [rsd_batch.pk]
    assert listed(chief) == [rm_batch.pk]
    assert sorted(listed(secretariat)) == sorted([rm_batch.pk, rsd_batch.pk])
    assert listed(secretariat, region="RSD") == [rsd_batch.pk]
    assert listed(secretariat, status="done") == []
    rm_detail = reverse("importbatch-detail", kwargs={"pk": rm_batch.pk})
    assert client_for(officer_rsd).get(rm_detail).status_code == 404
    assert client_for(chief).get(rm_detail).status_code == 200


def test_the_openapi_schema_describes_the_upload_as_multipart(client):
    schema = client.get(reverse("schema"), {"format": "json"}).json()

    post = schema["paths"]["/api/v1/ledger-batches/"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"202", "400", "403", "413"} <= set(post["responses"])
