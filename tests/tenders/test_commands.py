"""The plan's management commands: import_fup and fup_overview."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from tenders import excel, selectors
from tenders.models import TenderCase
from tests.factories import UserFactory
from tests.tenders.test_excel import build_plan, rewrite, snapshot

pytestmark = pytest.mark.django_db

README = Path(settings.BASE_DIR) / "README.md"


@pytest.fixture
def plan(regions, secretariat):
    return build_plan(regions, secretariat)


@pytest.fixture
def superuser(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def exported(tmp_path: Path, content: bytes | None = None, name: str = "plan.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(content if content is not None else excel.plan_export(selectors.tender_list()))
    return path


# import_fup ---------------------------------------------------------------------------------


def test_import_fup_reproduces_the_plan_as_the_first_superuser(plan, superuser, tmp_path):
    path = exported(tmp_path)
    before = snapshot()
    TenderCase.objects.all().delete()

    out, err = run("import_fup", str(path))

    assert "3 tender cases created, 0 updated, 0 unchanged" in out
    assert err == ""
    assert snapshot() == before
    assert TenderCase.history.filter(history_type="+").latest("history_date").history_user == (
        superuser
    )


def test_import_fup_records_the_named_user(plan, superuser, secretariat, tmp_path):
    path = exported(
        tmp_path,
        rewrite(
            exported(tmp_path).read_bytes(), {("FUP-2026-002", "Titel"): "Kontorartikler og papir"}
        ),
    )

    out, _err = run("import_fup", str(path), "--user", "secretariat")

    assert "0 tender cases created, 1 updated, 2 unchanged" in out
    latest = TenderCase.objects.get(reference="FUP-2026-002").history.latest("history_date")
    assert latest.history_user == secretariat


def test_import_fup_prints_each_error_on_its_line_and_saves_nothing(plan, superuser, tmp_path):
    content = rewrite(
        exported(tmp_path).read_bytes(),
        {
            ("FUP-2026-002", "Titel"): "Kontorartikler og papir",
            ("FUP-2025-003", "CPV-kode"): "99999999",
            ("FUP-2024-001", "Tildeling"): "31-02-2024",
        },
    )
    path = exported(tmp_path, content)
    before = snapshot()
    err = io.StringIO()

    with pytest.raises(CommandError) as failure:
        call_command("import_fup", str(path), stdout=io.StringIO(), stderr=err)

    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 2
    assert any("CPV-kode" in line and "99999999" in line for line in lines)
    assert any("Tildeling" in line and "31-02-2024" in line for line in lines)
    assert all(re.match(r"row \d+, column ", line) for line in lines)
    assert failure.value.returncode == 1
    assert "nothing was saved" in str(failure.value)
    assert snapshot() == before


def test_import_fup_refuses_a_user_who_may_not_import(plan, officer_rm, tmp_path):
    with pytest.raises(CommandError, match="officer_rm"):
        run("import_fup", str(exported(tmp_path)), "--user", "officer_rm")


def test_import_fup_needs_a_superuser_or_a_named_user(plan, tmp_path):
    with pytest.raises(CommandError, match="superuser"):
        run("import_fup", str(exported(tmp_path)))


def test_import_fup_reads_csv(regions, superuser, tmp_path):
    build_plan(regions, superuser)
    text = (
        "Titel;CPV-kode;Område;Aftaletype;Tovholder (region)\n"
        "Kanyler;33141320-9;Varer og tjenesteydelser;Rammeaftale;RN\n"
    )
    path = exported(tmp_path, text.encode("cp1252"), "plan.csv")

    out, _err = run("import_fup", str(path))

    assert "1 tender cases created" in out
    assert TenderCase.objects.get(title="Kanyler").lead_region.code == "RN"


# fup_overview -------------------------------------------------------------------------------

TOP_LEVEL_KEYS = {
    "generated_on",
    "as_of",
    "horizon_end",
    "currency",
    "tenders",
    "annual_value",
    "regions_per_tender",
    "tenders_per_region",
    "upcoming_current",
    "in_contract",
    "per_region",
}


def test_fup_overview_json_has_the_documented_keys_and_the_figures(plan):
    out, _err = run("fup_overview", "--format", "json")

    data = json.loads(out)
    assert set(data) == TOP_LEVEL_KEYS
    assert data["currency"] == "DKK"
    assert data["as_of"] == data["generated_on"]
    assert data["horizon_end"] == f"{int(data['as_of'][:4]) + 1}-12-31"
    # Joint tenders only: the planned case has only its lead (RH) and the Amgros case no
    # region yet, so only the case in contract period counts (RM lead, RH full, RSD option).
    assert data["tenders"] == 1
    assert data["annual_value"] == pytest.approx(12345678.5)
    cells = {
        (phase, area): data[phase][area]["tenders"]
        for phase in ("upcoming_current", "in_contract")
        for area in ("goods_services", "medico_acquisitions")
    }
    assert cells == {
        ("upcoming_current", "goods_services"): 0,
        ("upcoming_current", "medico_acquisitions"): 0,
        ("in_contract", "goods_services"): 1,
        ("in_contract", "medico_acquisitions"): 0,
    }
    assert data["upcoming_current"]["goods_services"]["annual_value"] == 0
    assert data["regions_per_tender"] == pytest.approx(3)
    assert data["tenders_per_region"] == pytest.approx(3 / 5)
    assert data["per_region"] == {"RH": 1, "RM": 1, "RSD": 1}


def test_fup_overview_csv_has_the_same_keys_flattened(plan):
    out, _err = run("fup_overview", "--format", "csv")

    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["key", "value"]
    values = dict(rows[1:])
    assert values["tenders"] == "1"
    assert values["in_contract.goods_services.tenders"] == "1"
    assert values["in_contract.goods_services.annual_value"] == "12345678.5"
    assert values["upcoming_current.goods_services.annual_value"] == "0"
    assert values["per_region.RH"] == "1"
    assert values["horizon_end"].endswith("-12-31")


def test_every_fup_overview_key_is_documented_in_the_readme(plan):
    section = README.read_text(encoding="utf-8").split("## fup_overview JSON keys", 1)[1]
    section = section.split("\n## ", 1)[0]
    data = json.loads(run("fup_overview")[0])

    for key in TOP_LEVEL_KEYS:
        assert f"`{key}" in section, key
    for key in data["upcoming_current"]["goods_services"]:
        assert key in section, key
