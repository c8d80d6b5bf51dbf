"""The upload page explains the file: its columns in Danish, the names accepted, templates."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from spend.models import ImportBatch
from tests.conftest import client_for
from tests.spend.ledger_files import (
    HEADER,
    csv_bytes,
    import_file,
    media,  # noqa: F401 – fixture
)

GOOD = ["05-02-2025", "1", "F1", "12345678", "Ærø A/S", "22110", "4100", "100,00", "x", "", ""]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def text_of(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html)


def test_the_upload_page_lists_required_and_optional_columns_with_synonyms(officer_rm, regions):
    text = text_of(client_for(officer_rm).get(reverse("spend:upload")))

    assert "Filens kolonner" in text
    assert "Bogføringsdato påkrævet bogfoeringsdato, bogforingsdato" in text
    assert "Beløb påkrævet beloeb, belob, beløb_dkk" in text
    assert "CPV-kode valgfri kategori, kategorikode" in text
    assert "Leverandør CVR påkrævet leverandør_id" in text
    assert "skabelon (.xlsx)" in text and "skabelon (.csv)" in text


@pytest.mark.parametrize(("fmt", "name"), [("xlsx", "skabelon.xlsx"), ("csv", "skabelon.csv")])
def test_the_templates_import_as_they_are(officer_rm, regions, fmt, name):
    response = client_for(officer_rm).get(reverse("spend:upload_template", args=[fmt]))

    assert response.status_code == 200
    assert f"bogfoering-skabelon.{fmt}" in response["Content-Disposition"]
    batch = import_file(regions["RM"], response.content, name)
    assert batch.status == ImportBatch.Status.DONE, batch.errors
    assert batch.rows_loaded == 1
    assert batch.spend_total == Decimal("1234.56")


def test_the_csv_template_is_in_danish_with_danish_figures(officer_rm, regions):
    content = client_for(officer_rm).get(reverse("spend:upload_template", args=["csv"])).content

    header, example = content.decode("utf-8-sig").splitlines()
    assert header.startswith("Bogføringsdato;Bilagsnr;Fakturanr;Leverandør CVR;")
    assert example.startswith("02-01-2025;1001;F-1;12345678;")
    assert ";1234,56;" in example


def test_missing_columns_are_named_in_danish_once(officer_rm, regions):
    header = [name for name in HEADER if name not in ("Beløb", "Konto")]
    rows = [[v for n, v in zip(HEADER, GOOD, strict=True) if n not in ("Beløb", "Konto")]]
    batch = import_file(regions["RM"], csv_bytes(rows, header=header))

    assert batch.status == ImportBatch.Status.FAILED
    assert batch.message.startswith("Filen mangler de påkrævede kolonner “Konto”, “Beløb”.")
    text = text_of(client_for(officer_rm).get(reverse("spend:batch", args=[batch.pk])))
    assert text.count("Filen mangler de påkrævede kolonner") == 1
