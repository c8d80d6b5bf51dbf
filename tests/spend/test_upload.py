"""The upload page: an officer uploads an extract, follows its import and reads its report.

Celery is eager here (no broker): the import runs when the batch commits, so the tests
run the commit callbacks (django_capture_on_commit_callbacks) as the real request would.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.urls import reverse

from spend.models import ImportBatch, LedgerLine
from tests.conftest import client_for as signed_in
from tests.spend.ledger_files import (
    HEADER,
    JANUARY,
    JANUARY_TOTAL,
    csv_bytes,
    current_total,
    media,  # noqa: F401 – fixture
    snapshot,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

UPLOAD = reverse("spend:upload")


def client_for(user):
    """Signed in, with English picked by the language switch (the msgids are English)."""
    client = signed_in(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


BAD_ROWS = [
    ["02-01-2025", "1001", "F-1", "12345678", "Ærø Hospitalsudstyr A/S", "22110", "4100", "12,34,5", "Handsker", "", ""],
    ["31-02-2025", "1002", "F-2", "1234", "Søborg ApS", "22110", "4100", "10,00", "Kaffe", "", ""],
]  # fmt: skip


def _post(client, data: bytes, name: str = "hovedbog.csv", region: str = "RM", **fields):
    return client.post(UPLOAD, {"region": region, "file": SimpleUploadedFile(name, data), **fields})


def _upload(client, capture, data: bytes, name: str = "hovedbog.csv", **fields):
    """Post the form and run what the commit would run (the eager import)."""
    with capture(execute=True):
        response = _post(client, data, name, **fields)
    return response


def _only_batch() -> ImportBatch:
    (batch,) = ImportBatch.objects.all()
    return batch


# The happy path ------------------------------------------------------------------------------


def test_the_page_offers_the_form_with_the_officers_own_region_only(officer_rm):
    response = client_for(officer_rm).get(UPLOAD)

    assert response.status_code == 200
    form = response.context["form"]
    assert [region.code for region in form.fields["region"].queryset] == ["RM"]
    assert 'enctype="multipart/form-data"' in response.content.decode()


def test_an_officer_uploads_a_file_and_the_batch_page_shows_it_imported(
    officer_rm, regions, django_capture_on_commit_callbacks
):
    client = client_for(officer_rm)

    response = _upload(client, django_capture_on_commit_callbacks, csv_bytes(JANUARY))

    batch = _only_batch()
    assert response.status_code == 302
    assert response["Location"] == reverse("spend:batch", kwargs={"pk": batch.pk})
    assert batch.status == ImportBatch.Status.DONE, batch.message
    assert batch.uploaded_by == officer_rm
    assert batch.source == ImportBatch.Source.UPLOAD
    assert LedgerLine.objects.filter(batch=batch).count() == 4
    assert current_total(regions["RM"]) == JANUARY_TOTAL
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page.context["active"] is False
    html = page.content.decode()
    assert 'data-status="done"' in html
    assert "hx-trigger" not in html  # finished: no more polling
    assert 'data-testid="batch-lines">4<' in html
    listing = client.get(UPLOAD).content.decode()
    assert "hovedbog.csv" in listing
    assert batch.sha256[:12] in listing


def test_the_period_given_on_the_form_is_the_batchs_period(
    officer_rm, django_capture_on_commit_callbacks
):
    client = client_for(officer_rm)

    _upload(
        client,
        django_capture_on_commit_callbacks,
        csv_bytes(JANUARY),
        period_start="2025-01-01",
        period_end="2025-03-31",
    )

    # February and March would get no lines: the page asks first (issue 12 §1)
    batch = _only_batch()
    assert batch.status == ImportBatch.Status.AWAITING
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("spend:batch_confirm", kwargs={"pk": batch.pk}))
    batch = _only_batch()
    assert batch.status == ImportBatch.Status.DONE
    assert (str(batch.period_start), str(batch.period_end)) == ("2025-01-01", "2025-03-31")


def test_a_period_that_ends_before_it_starts_is_refused_and_nothing_is_stored(officer_rm):
    response = _post(
        client_for(officer_rm),
        csv_bytes(JANUARY),
        period_start="2025-03-31",
        period_end="2025-01-01",
    )

    assert response.status_code == 422
    assert "The period ends before it starts." in response.context["refusal"]
    assert not ImportBatch.objects.exists()


def test_while_queued_the_page_polls_its_status_and_offers_a_refresh_link(officer_rm):
    client = client_for(officer_rm)
    # given: a stored batch whose import has not run (its commit callback is not run)
    _post(client, csv_bytes(JANUARY))
    batch = _only_batch()
    assert batch.status == ImportBatch.Status.QUEUED

    page = client.get(reverse("spend:batch", kwargs={"pk": batch.pk})).content.decode()
    status_url = reverse("spend:batch_status", kwargs={"pk": batch.pk})

    assert f'data-hx-get="{status_url}"' in page
    assert 'data-hx-trigger="every 1s"' in page
    assert 'data-testid="refresh-link"' in page
    partial = client.get(status_url, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "HX-Refresh" not in partial
    assert "<progress" in partial.content.decode()


def test_the_status_partial_asks_for_a_reload_once_the_import_is_finished(
    officer_rm, django_capture_on_commit_callbacks
):
    client = client_for(officer_rm)
    _upload(client, django_capture_on_commit_callbacks, csv_bytes(JANUARY))
    batch = _only_batch()

    partial = client.get(
        reverse("spend:batch_status", kwargs={"pk": batch.pk}), headers={"HX-Request": "true"}
    )

    assert partial["HX-Refresh"] == "true"
    html = partial.content.decode()
    assert "hx-trigger" not in html
    assert 'value="4" max="4"' in html


def test_the_original_file_can_be_downloaded_as_uploaded(
    officer_rm, django_capture_on_commit_callbacks
):
    client = client_for(officer_rm)
    data = csv_bytes(JANUARY)
    _upload(client, django_capture_on_commit_callbacks, data, name="januar æøå.csv")
    batch = _only_batch()

    response = client.get(reverse("spend:batch_file", kwargs={"pk": batch.pk}))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert "attachment" in response["Content-Disposition"]
    assert "januar" in response["Content-Disposition"]


# Refused files -------------------------------------------------------------------------------


def test_a_file_with_invalid_rows_is_refused_with_a_report_and_nothing_changes(
    officer_rm, regions, django_capture_on_commit_callbacks
):
    client = client_for(officer_rm)
    _upload(client, django_capture_on_commit_callbacks, csv_bytes(JANUARY))
    before = snapshot()

    response = _upload(client, django_capture_on_commit_callbacks, csv_bytes(BAD_ROWS))

    batch = ImportBatch.objects.latest("pk")
    assert batch.status == ImportBatch.Status.FAILED
    assert snapshot()[0] == before[0]  # not one line changed
    assert current_total(regions["RM"]) == JANUARY_TOTAL
    page = client.get(response["Location"])
    html = page.content.decode()
    table = html[html.index('data-testid="batch-errors"') :]
    rows = {(e["row"], e["column"]) for e in page.context["errors"]}
    # the columns as the file names them
    assert (2, "Beløb") in rows
    assert (3, "Bogføringsdato") in rows
    assert (3, "Leverandør CVR") in rows
    assert "12,34,5" in table and "31-02-2025" in table
    assert reverse("spend:batch_errors", kwargs={"pk": batch.pk}) in html


def test_the_error_report_downloads_as_csv_with_every_error(
    officer_rm, django_capture_on_commit_callbacks
):
    client = client_for(officer_rm)
    # given: 1,200 invalid rows, more than the page shows
    rows = [[*BAD_ROWS[0][:7], f"{i},5,5", *BAD_ROWS[0][8:]] for i in range(1200)]
    _upload(client, django_capture_on_commit_callbacks, csv_bytes(rows))
    batch = _only_batch()
    page = client.get(reverse("spend:batch", kwargs={"pk": batch.pk}))
    assert len(page.context["errors"]) == 1000
    assert page.context["errors_hidden"] == 200

    response = client.get(reverse("spend:batch_errors", kwargs={"pk": batch.pk}))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    report = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert report[0] == ["row", "column", "value", "reason"]
    assert len(report) == 1 + 1200
    assert report[-1][:3] == ["1201", "Beløb", "1199,5,5"]


def test_a_refusal_of_the_whole_file_also_downloads_as_csv(
    officer_rm, django_capture_on_commit_callbacks
):
    client = client_for(officer_rm)
    _upload(client, django_capture_on_commit_callbacks, csv_bytes([], header=HEADER))
    batch = _only_batch()
    assert batch.status == ImportBatch.Status.FAILED
    assert "only a header" in batch.message

    response = client.get(reverse("spend:batch_errors", kwargs={"pk": batch.pk}))

    assert response.status_code == 200
    assert "only a header" in response.content.decode("utf-8-sig")


def test_an_empty_file_re_shows_the_form_with_the_reason_and_stores_nothing(officer_rm):
    response = _post(client_for(officer_rm), b"")

    assert response.status_code in (400, 422)
    assert not ImportBatch.objects.exists()


def test_an_unsupported_file_type_is_refused_on_the_form(officer_rm):
    response = _post(client_for(officer_rm), b"%PDF-1.4 not a ledger", name="hovedbog.pdf")

    assert response.status_code == 422
    assert response.context["refusal"]
    assert "pdf" in response.context["refusal"].lower()
    assert not ImportBatch.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.pdf"))


def test_a_file_over_the_limit_is_stopped_while_it_streams(officer_rm, settings, monkeypatch):
    # given: a limit of 64 KB and a 2 MB file
    settings.LEDGER_MAX_UPLOAD_BYTES = 64 * 1024
    received = {"bytes": 0}
    for handler in (MemoryFileUploadHandler, TemporaryFileUploadHandler):
        original = handler.receive_data_chunk

        def counting(self, raw_data, start, original=original):
            received["bytes"] += len(raw_data)
            return original(self, raw_data, start)

        monkeypatch.setattr(handler, "receive_data_chunk", counting)
    data = csv_bytes(JANUARY * 6000)
    assert len(data) > 2_000_000

    # when
    response = _post(client_for(officer_rm), data)

    # then: refused with the limit named, nothing stored, and the storing handlers got no
    # more than the first chunks (the rest of the body was never kept)
    assert response.status_code == 413
    assert "larger than the limit of 64.0\xa0KB" in response.context["refusal"]
    assert not ImportBatch.objects.exists()
    assert received["bytes"] <= settings.LEDGER_MAX_UPLOAD_BYTES + 64 * 1024
    assert 'data-testid="upload-refusal"' in response.content.decode()


def test_a_file_name_with_path_parts_is_stored_under_its_bare_name(
    officer_rm, django_capture_on_commit_callbacks
):
    # given: a browser (old IE style) that sends the full client path as the file name
    boundary = "rfiboundary"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="region"\r\n\r\nRM\r\n'
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; '
            'filename="C:\\Users\\anna\\..\\..\\hovedbog.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + csv_bytes(JANUARY)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    client = client_for(officer_rm)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.generic(
            "POST", UPLOAD, body, content_type=f"multipart/form-data; boundary={boundary}"
        )

    assert response.status_code == 302
    batch = _only_batch()
    assert batch.file_name == "hovedbog.csv"
    stored = Path(batch.file.path).resolve()
    assert Path(settings.MEDIA_ROOT).resolve() in stored.parents
    assert batch.status == ImportBatch.Status.DONE


def test_the_same_file_twice_is_a_duplicate_that_changes_nothing(
    officer_rm, django_capture_on_commit_callbacks
):
    client = client_for(officer_rm)
    _upload(client, django_capture_on_commit_callbacks, csv_bytes(JANUARY))
    before = snapshot()

    response = _upload(client, django_capture_on_commit_callbacks, csv_bytes(JANUARY), "igen.csv")

    duplicate = ImportBatch.objects.latest("pk")
    assert duplicate.status == ImportBatch.Status.DUPLICATE
    assert snapshot() == before
    page = client.get(response["Location"], follow=True)
    html = page.content.decode()
    assert "already imported as batch" in duplicate.message
    assert 'data-testid="batch-message"' in html
    assert 'data-status="duplicate"' in html


# Rights ----------------------------------------------------------------------------------------


def test_another_regions_officer_cannot_upload_for_rm(officer_rsd, regions):
    response = _post(client_for(officer_rsd), csv_bytes(JANUARY), region="RM")

    assert response.status_code == 403
    assert not ImportBatch.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.csv"))


def test_another_regions_officer_gets_404_for_an_rm_batch(
    officer_rm, officer_rsd, django_capture_on_commit_callbacks
):
    _upload(client_for(officer_rm), django_capture_on_commit_callbacks, csv_bytes(BAD_ROWS))
    batch = _only_batch()
    other = client_for(officer_rsd)

    for name in ("spend:batch", "spend:batch_status", "spend:batch_errors", "spend:batch_file"):
        assert other.get(reverse(name, kwargs={"pk": batch.pk})).status_code == 404, name
    listing = other.get(UPLOAD)
    assert listing.status_code == 200
    assert batch not in listing.context["batches"]
    assert other.get(UPLOAD, {"region": "RM"}).status_code == 403


def test_the_regions_chief_sees_its_batches_but_has_no_upload_form(
    officer_rm, chief, django_capture_on_commit_callbacks
):
    _upload(client_for(officer_rm), django_capture_on_commit_callbacks, csv_bytes(JANUARY))
    batch = _only_batch()
    client = client_for(chief)

    listing = client.get(UPLOAD)

    assert listing.status_code == 200
    assert listing.context["form"] is None
    assert listing.context["batches"] == [batch]
    assert client.get(reverse("spend:batch", kwargs={"pk": batch.pk})).status_code == 200
    assert _post(client, csv_bytes(JANUARY)).status_code == 403


def test_the_secretariat_uploads_for_any_region(secretariat, regions):
    response = _post(client_for(secretariat), csv_bytes(JANUARY), region="RSD")

    assert response.status_code == 302
    assert _only_batch().region == regions["RSD"]


def test_an_outsider_gets_403_and_anonymous_goes_to_login(outsider, anonymous, regions):
    assert _post(client_for(outsider), csv_bytes(JANUARY)).status_code == 403
    response = _post(client_for(anonymous), csv_bytes(JANUARY))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not ImportBatch.objects.exists()


def test_the_upload_form_checks_the_csrf_token(officer_rm):
    client = client_for(officer_rm)
    client.handler.enforce_csrf_checks = True

    response = _post(client, csv_bytes(JANUARY))

    assert response.status_code == 403
    assert not ImportBatch.objects.exists()
