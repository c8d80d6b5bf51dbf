"""The confirmation of a replacement over the API, in import_ledger and on the batch page.

Stored: RM's January 2025 (4 lines, 1,251,099.90) and February 2025 (1 line, 10.00).
"""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from spend.models import ImportBatch
from tests.conftest import client_for
from tests.spend.ledger_files import (
    FEBRUARY,
    JANUARY,
    JANUARY_V2,
    JANUARY_V2_TOTAL,
    csv_bytes,
    current_total,
    english,  # noqa: F401 – fixture
    import_file,
    media,  # noqa: F401 – fixture
    snapshot,
)
from tests.spend.test_upload_api import erp

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media", "english")]
LIST = reverse("importbatch-list")
STORED_TOTAL = Decimal("1251109.90")
AFTER_CORRECTION = JANUARY_V2_TOTAL + Decimal("10.00")  # 1,510.50


@pytest.fixture
def stored(regions):
    batch = import_file(regions["RM"], csv_bytes(JANUARY + FEBRUARY), "jan-feb.csv")
    assert batch.status == ImportBatch.Status.DONE
    return batch


def _post(client, data: bytes, **fields):
    return client.post(
        LIST, {"region": "RM", "file": SimpleUploadedFile("rettelse.csv", data), **fields}
    )


# API ------------------------------------------------------------------------------------------


def test_api_answers_409_with_the_preview_then_202_with_confirm_replace(
    officer_rm, regions, stored, django_capture_on_commit_callbacks
):
    client = erp(officer_rm)
    before = snapshot()
    period = {"period_start": "2025-01-01", "period_end": "2025-01-31"}

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, csv_bytes(JANUARY_V2), **period)

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "confirmation_required"
    assert body["preview"]["months"][0]["month"] == "2025-01"
    assert body["preview"]["stored_lines"] == 4
    assert body["preview"]["stored_amount"] == "1251099.90"
    assert body["confirm_label"] == "Replace 4 lines, DKK 1.3 m, for January 2025"
    assert body["batch"] is None
    # nothing changed, not even a batch record
    assert snapshot() == before
    assert ImportBatch.objects.count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, csv_bytes(JANUARY_V2), confirm_replace="true", **period)

    assert response.status_code == 202, response.content
    batch = ImportBatch.objects.get(pk=response.json()["id"])
    assert batch.status == ImportBatch.Status.DONE and batch.replace_confirmed
    assert current_total(regions["RM"]) == AFTER_CORRECTION


def test_api_another_regions_officer_gets_403_not_the_preview(officer_rsd, stored):
    response = _post(
        erp(officer_rsd), csv_bytes(JANUARY_V2), period_start="2025-01-01", period_end="2025-01-31"
    )
    assert response.status_code == 403
    assert "preview" not in response.json()


def test_api_the_1990_to_2099_period_is_refused_with_400(officer_rm, stored):
    before = snapshot()
    response = _post(
        erp(officer_rm),
        csv_bytes(JANUARY_V2),
        period_start="1990-01-01",
        period_end="2099-12-31",
        confirm_replace="true",
    )
    assert response.status_code == 400
    assert "is not plausible" in response.json()["non_field_errors"][0]
    assert snapshot() == before


def test_api_a_batch_found_to_replace_later_waits_and_is_confirmed(
    officer_rm, officer_rsd, regions, stored, django_capture_on_commit_callbacks
):
    """No period declared: only reading the file tells the months, so the batch stops at
    awaiting (the API's client follows it) and is confirmed with confirm/."""
    client = erp(officer_rm)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, csv_bytes(JANUARY_V2))
    assert response.status_code == 202

    detail = client.get(response.json()["url"]).json()
    assert detail["status"] == "awaiting"
    assert detail["replace_preview"]["file_lines"] == 2
    assert detail["replace_preview"]["file_amount"] == "1500.50"
    assert detail["replace_preview"]["stored_lines"] == 4
    assert snapshot() == before

    confirm = reverse("importbatch-confirm", kwargs={"pk": detail["id"]})
    assert erp(officer_rsd).post(confirm).status_code == 404  # another region's batch
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(confirm)
    assert response.status_code == 202, response.content
    assert client.get(detail["url"]).json()["status"] == "done"
    assert current_total(regions["RM"]) == AFTER_CORRECTION
    # confirming twice is refused
    assert client.post(confirm).status_code == 400


def test_api_cancel_leaves_the_lines_as_they_were(
    officer_rm, stored, django_capture_on_commit_callbacks
):
    client = erp(officer_rm)
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        batch_id = _post(client, csv_bytes(JANUARY_V2)).json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("importbatch-cancel", kwargs={"pk": batch_id}))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_api_without_a_task_queue_answers_409_with_the_files_figures(officer_rm, regions):
    """No broker: the import runs inside the request, so the full preview is in the 409."""
    import_file(regions["RM"], csv_bytes(JANUARY + FEBRUARY), "jan-feb.csv")
    before = snapshot()

    response = _post(erp(officer_rm), csv_bytes(JANUARY_V2))

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["preview"]["file_lines"] == 2 and body["preview"]["stored_lines"] == 4
    assert body["batch"]["status"] == "awaiting"
    assert snapshot() == before


# import_ledger --------------------------------------------------------------------------------


def run(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_import_ledger_prints_the_preview_and_exits_1_without_replace(regions, stored, tmp_path):
    path = tmp_path / "rettelse.csv"
    path.write_bytes(csv_bytes(JANUARY_V2))
    before = snapshot()

    code, _out, err = run(
        "import_ledger",
        str(path),
        "--region",
        "RM",
        "--period-start",
        "2025-01-01",
        "--period-end",
        "2025-02-28",
    )

    assert code == 1
    assert "Not imported: Importing this file deletes 5 lines (DKK 1.3 m)" in err
    assert "2025-01           4       1,251,099.90          2           1,500.50" in err
    assert (
        "2025-02           1              10.00          0               0.00  becomes empty" in err
    )
    assert "Run again with --replace" in err
    assert snapshot() == before
    assert ImportBatch.objects.latest("pk").status == ImportBatch.Status.CANCELLED

    code, out, _err = run("import_ledger", str(path), "--region", "RM", "--replace", "--json")

    assert code == 0
    assert json.loads(out)["status"] == "done"
    assert current_total(regions["RM"]) == AFTER_CORRECTION


def test_import_ledger_json_gives_the_preview(regions, stored, tmp_path):
    path = tmp_path / "rettelse.csv"
    path.write_bytes(csv_bytes(JANUARY_V2))
    code, out, _err = run("import_ledger", str(path), "--region", "RM", "--json")
    assert code == 1
    result = json.loads(out)
    assert result["status"] == "not_confirmed"
    assert result["preview"]["stored_lines"] == 4


def test_import_ledger_refuses_the_1990_to_2099_period(regions, stored, tmp_path):
    path = tmp_path / "en-linje.csv"
    path.write_bytes(csv_bytes(JANUARY_V2[:1]))
    before = snapshot()
    code, _out, err = run(
        "import_ledger",
        str(path),
        "--region",
        "RM",
        "--period-start",
        "1990-01-01",
        "--period-end",
        "2099-12-31",
        "--replace",
    )
    assert code == 1
    assert "is not plausible" in err
    assert snapshot() == before


# The batch page -------------------------------------------------------------------------------


def test_the_batch_page_shows_the_preview_and_confirms(
    officer_rm, regions, stored, django_capture_on_commit_callbacks
):
    batch = import_file(regions["RM"], csv_bytes(JANUARY_V2), replace_confirmed=False)
    client = client_for(officer_rm)
    page = client.get(reverse("spend:batch", kwargs={"pk": batch.pk})).content.decode()
    assert 'data-testid="replace-preview"' in page
    assert "Erstat 4 linjer, 1,3 mio. kr., for januar 2025" in page  # the page is Danish

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("spend:batch_confirm", kwargs={"pk": batch.pk}))

    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE
    assert current_total(regions["RM"]) == AFTER_CORRECTION


def test_a_reader_sees_the_preview_without_the_buttons(chief, regions, stored):
    batch = import_file(regions["RM"], csv_bytes(JANUARY_V2), replace_confirmed=False)
    client = client_for(chief)
    page = client.get(reverse("spend:batch", kwargs={"pk": batch.pk})).content.decode()
    assert 'data-testid="replace-preview"' in page
    assert 'data-testid="confirm-replace"' not in page
    assert client.post(reverse("spend:batch_confirm", kwargs={"pk": batch.pk})).status_code == 403


def test_the_upload_page_refuses_the_1990_to_2099_period(officer_rm, stored):
    before = snapshot()
    response = client_for(officer_rm).post(
        reverse("spend:upload"),
        {
            "region": "RM",
            "file": SimpleUploadedFile("en-linje.csv", csv_bytes(JANUARY_V2[:1])),
            "period_start": "1990-01-01",
            "period_end": "2099-12-31",
        },
    )
    assert response.status_code == 422
    assert "er ikke plausibel" in response.content.decode()  # the page is Danish
    assert snapshot() == before
    assert ImportBatch.objects.count() == 1


def test_cancelling_on_the_page_leaves_the_lines(officer_rm, regions, stored):
    batch = import_file(regions["RM"], csv_bytes(JANUARY_V2), replace_confirmed=False)
    before = snapshot()
    response = client_for(officer_rm).post(reverse("spend:batch_cancel", kwargs={"pk": batch.pk}))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.CANCELLED
    assert snapshot() == before
