"""The CPV 2008 tree: loading the bundled file, refreshing it, and finding a category."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from rfi.cpv import category_by_code, parse_code, significant_prefix, significant_prefix_sql
from rfi.models import Category, category_kind
from rfi.selectors import category_search
from rfi.services import CPV_FILE, categories_load_cpv
from spend.matching import contract_category_prefix
from tests.conftest import client_for, kept_for_module

pytestmark = pytest.mark.django_db

CPV_COUNT = 9454
CSV_FIELDS = ["code", "check_digit", "label_en", "label_da", "label_sv", "label_nb"]


@pytest.fixture(scope="module")
def cpv(django_db_setup, django_db_blocker) -> str:
    """The full CPV tree, loaded once for this module through the command; its output."""
    with kept_for_module(django_db_blocker):
        with django_db_blocker.unblock():
            out = io.StringIO()
            call_command("load_cpv", stdout=out)
        yield out.getvalue()


def test_load_cpv_creates_the_whole_tree(cpv):
    assert Category.objects.count() == CPV_COUNT
    assert f"{CPV_COUNT} created, 0 updated, 0 unchanged" in cpv


def test_the_45_divisions_are_the_roots(cpv):
    roots = Category.objects.filter(parent__isnull=True)

    assert roots.count() == 45
    assert set(roots.values_list("level", flat=True)) == {1}
    assert all(code.endswith("000000") for code in roots.values_list("code", flat=True))


def test_parents_follow_the_code_prefix(cpv):
    def parent_of(code: str) -> str:
        return Category.objects.get(code=code).parent.code

    assert parent_of("33141000") == "33140000"
    assert parent_of("33140000") == "33100000"
    assert parent_of("33100000") == "33000000"


def test_every_group_hangs_under_its_division(cpv):
    groups = Category.objects.filter(level=2).select_related("parent")

    assert groups.exists()
    wrong = [g.code for g in groups if g.parent is None or g.parent.code != g.code[:2] + "000000"]
    assert wrong == []


def test_danish_labels(cpv):
    assert Category.objects.get(code="90910000").label_da == "Rengøring"
    assert Category.objects.get(code="55520000").label_da == "Cateringvirksomhed"


def test_levels(cpv):
    levels = dict(
        Category.objects.filter(
            code__in=["03000000", "03100000", "03110000", "03111000"]
        ).values_list("code", "level")
    )

    assert levels == {"03000000": 1, "03100000": 2, "03110000": 3, "03111000": 4}


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("03111000", "goods"),
        ("33141000", "goods"),
        ("48000000", "goods"),
        ("45000000", "works"),
        ("45452100", "works"),
        ("50000000", "services"),
        ("90910000", "services"),
    ],
)
def test_kind_of_a_code(code, kind):
    assert category_kind(code) == kind


def test_kind_of_a_loaded_category(cpv):
    assert Category.objects.get(code="90910000").kind == Category.Kind.SERVICES


def test_loading_again_changes_nothing(cpv):
    parents_before = dict(Category.objects.values_list("code", "parent__code"))

    result = categories_load_cpv()

    assert (result.created, result.updated, result.unchanged) == (0, 0, CPV_COUNT)
    assert dict(Category.objects.values_list("code", "parent__code")) == parents_before


def _bundled_rows(*codes: str) -> list[dict[str, str]]:
    with CPV_FILE.open(encoding="utf-8", newline="") as f:
        return [row for row in csv.DictReader(f) if row["code"] in codes]


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _empty_tree() -> None:
    Category.objects.update(parent=None)
    Category.objects.all().delete()


def test_a_changed_label_in_a_custom_file_is_updated(cpv, tmp_path):
    # given: a small file with a corrected Danish label for cleaning services
    rows = _bundled_rows("90000000", "90900000", "90910000")
    rows[-1] = {**rows[-1], "label_da": "Rengøringsservice"}
    path = _write_csv(tmp_path / "cpv_fix.csv", rows)
    parent_of_33141000 = Category.objects.get(code="33141000").parent_id

    # when
    out = io.StringIO()
    call_command("load_cpv", file=str(path), stdout=out)

    # then
    assert Category.objects.get(code="90910000").label_da == "Rengøringsservice"
    assert "0 created, 1 updated, 2 unchanged" in out.getvalue()
    assert Category.objects.count() == CPV_COUNT
    # the codes the file does not mention keep their place in the tree
    assert Category.objects.get(code="33141000").parent_id == parent_of_33141000
    assert Category.objects.filter(parent__isnull=True).count() == 45
    assert Category.objects.get(code="90910000").parent.code == "90900000"


def test_a_custom_file_builds_its_own_small_tree(cpv, tmp_path):
    # given: an empty table and a file that skips 33140000
    _empty_tree()
    rows = _bundled_rows("33000000", "33100000", "33141000")
    path = _write_csv(tmp_path / "cpv_small.csv", rows)

    # when
    result = categories_load_cpv(path=path)

    # then: 33141000 hangs under the nearest code that exists
    assert (result.created, result.updated) == (3, 0)
    assert Category.objects.get(code="33141000").parent.code == "33100000"
    assert Category.objects.get(code="33141000").level == 4
    assert Category.objects.get(code="33100000").parent.code == "33000000"


def test_a_bad_code_is_refused_with_its_row(cpv, tmp_path):
    rows = _bundled_rows("03000000", "03100000")
    rows[1] = {**rows[1], "code": "0310000X", "label_da": "Ændret"}
    path = _write_csv(tmp_path / "cpv_bad.csv", rows)

    with pytest.raises(ValueError, match=r"row 3.*0310000X"):
        categories_load_cpv(path=path)

    # nothing of the file was loaded
    assert Category.objects.count() == CPV_COUNT
    assert Category.objects.get(code="03100000").label_da != "Ændret"


# --- finding a category ---------------------------------------------------------------------


def test_search_by_code_prefix(cpv):
    codes = list(category_search(query="3314").values_list("code", flat=True))

    assert {"33140000", "33141000"} <= set(codes)
    assert all(code.startswith("3314") for code in codes)


def test_search_by_code_with_check_digit(cpv):
    codes = list(category_search(query="90910000-9").values_list("code", flat=True))

    assert codes == ["90910000"]


@pytest.mark.parametrize("word", ["rengøring", "cleaning", "Cleaning"])
def test_search_by_danish_or_english_word(cpv, word):
    codes = set(category_search(query=word).values_list("code", flat=True))

    assert "90910000" in codes
    assert "55520000" not in codes


def test_search_with_several_words_needs_all_of_them(cpv):
    codes = set(category_search(query="cleaning services").values_list("code", flat=True))

    assert "90910000" in codes  # Cleaning services
    assert "39830000" not in codes  # Cleaning products


def test_api_search(cpv, officer_rm):
    response = client_for(officer_rm).get(reverse("category-list"), {"q": "cleaning"})

    assert response.status_code == 200
    results = {row["code"]: row for row in response.json()["results"]}
    assert results["90910000"]["label_da"] == "Rengøring"
    assert results["90910000"]["parent"] == "90900000"
    assert results["90910000"]["kind"] == "services"


def test_api_category_detail_and_children(cpv, officer_rm):
    client = client_for(officer_rm)

    detail = client.get(reverse("category-detail", kwargs={"code": "33141000"}))
    children = client.get(reverse("category-list"), {"parent": "33140000"})

    assert detail.json()["parent"] == "33140000"
    assert detail.json()["level"] == 4
    assert "33141000" in {row["code"] for row in children.json()["results"]}


def test_category_page_search(cpv, officer_rm):
    response = client_for(officer_rm).get(reverse("categories"), {"q": "rengøring"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "90910000-9" in html
    assert "Rengøring" in html


def test_category_page_htmx_returns_only_the_results(cpv, officer_rm):
    response = client_for(officer_rm).get(
        reverse("categories"), {"q": "rengøring"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "<table>" in html
    assert "90910000-9" in html


def test_category_page_browses_down_the_tree(cpv, officer_rm):
    client = client_for(officer_rm)

    top = client.get(reverse("categories")).content.decode()
    division = client.get(reverse("categories"), {"parent": "33000000"}).content.decode()

    assert "33000000-0" in top
    assert "33100000-1" not in top
    assert "33100000-1" in division


# --- reading a typed code, and the covering prefix (rfi/cpv.py) ------------------------------


@pytest.mark.parametrize("typed", ["33141000-0", "33141000", " 33141000 ", "33141000 - 0"])
def test_parse_code_reads_every_way_people_type_a_code(cpv, typed):
    assert parse_code(typed) == "33141000"


@pytest.mark.parametrize("typed", ["3314100", "33141000-", "33141000-00", "cleaning", "", None])
def test_parse_code_refuses_what_is_not_a_code(typed):
    with pytest.raises(ValidationError) as error:
        parse_code(typed)

    assert error.value.code == "format"
    assert "33141000-0" in error.value.messages[0]


def test_parse_code_refuses_a_wrong_check_digit(cpv):
    with pytest.raises(ValidationError) as error:
        parse_code("33141000-7")

    assert error.value.code == "check_digit"
    assert error.value.messages == ["Kontrolcifferet for 33141000 er 0, ikke 7."]


def test_parse_code_checks_against_a_given_table_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert parse_code("90910000-9", check_digits={"90910000": "9"}) == "90910000"
        with pytest.raises(ValidationError):
            parse_code("90910000-1", check_digits={"90910000": "9"})


def test_category_by_code_finds_the_category_or_says_it_does_not_exist(cpv):
    assert category_by_code("90910000-9").label_da == "Rengøring"
    with pytest.raises(ValidationError, match="44444444 findes ikke"):
        category_by_code("44444444")
    with pytest.raises(ValidationError, match="er 9, ikke 1"):
        category_by_code("90910000-1")


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        ("33141000", "33141"),
        ("33141000-0", "33141"),
        ("33140000", "3314"),
        ("33600000", "336"),
        ("45000000", "45"),
        ("30000000", "30"),  # the division's own zero stays
        ("03000000", "03"),
        ("03111000", "03111"),
        ("90910000", "9091"),
        ("33141110", "3314111"),
        ("3314", "3314"),
    ],
)
def test_significant_prefix(code, prefix):
    assert significant_prefix(code) == prefix


def test_the_sql_prefix_agrees_with_the_python_one_on_every_code(cpv):
    table = connection.ops.quote_name(Category._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT code, {significant_prefix_sql('code')} FROM {table}")
        rows = cursor.fetchall()

    assert len(rows) == CPV_COUNT
    assert [(code, prefix) for code, prefix in rows if prefix != significant_prefix(code)] == []


def test_the_orm_prefix_agrees_with_the_python_one_on_every_code(cpv):
    rows = Category.objects.annotate(p=contract_category_prefix("code")).values_list("code", "p")

    assert [(code, prefix) for code, prefix in rows if prefix != significant_prefix(code)] == []


def test_the_tree_levels_follow_the_prefix(cpv):
    rows = Category.objects.values_list("code", "level")

    assert [code for code, level in rows if level != len(significant_prefix(code)) - 1] == []
