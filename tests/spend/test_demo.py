"""The demo ledger that seed_demo imports: every region and year, a story, idempotent."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from kpi.models import KpiRun, KpiSnapshot
from rfi.models import Region
from spend.demo import NO_CHANNEL_REGION, demo_periods
from spend.models import ImportBatch, LedgerLine
from suppliers.models import Contract
from tests.conftest import kept_for_module

pytestmark = pytest.mark.django_db

ROWS = 600  # per region and full year: small, so the module stays fast


@dataclass
class Seeding:
    without_ledger: str
    first: str
    second: str
    counts_after_first: tuple
    counts_after_second: tuple
    batches_without_ledger: int


def _counts() -> tuple:
    return (
        ImportBatch.objects.count(),
        LedgerLine.objects.count(),
        LedgerLine.objects.aggregate(total=Sum("amount"))["total"],
        KpiRun.objects.count(),
        KpiSnapshot.objects.count(),
    )


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory) -> Seeding:
    """seed_demo --no-ledger, then seed_demo twice with a small ledger, once for the module."""
    media = tmp_path_factory.mktemp("media")
    with override_settings(MEDIA_ROOT=media), kept_for_module(django_db_blocker):
        with django_db_blocker.unblock():
            without_ledger = _seed("--no-ledger")
            batches_without_ledger = ImportBatch.objects.count()
            first = _seed("--ledger-rows", str(ROWS))
            counts_after_first = _counts()
            second = _seed("--ledger-rows", str(ROWS))
            counts_after_second = _counts()
        yield Seeding(
            without_ledger,
            first,
            second,
            counts_after_first,
            counts_after_second,
            batches_without_ledger,
        )


def _current_year_figures(key: str) -> dict[tuple[str, int], KpiSnapshot]:
    snapshots = KpiSnapshot.objects.filter(
        is_current=True, key=key, period_kind="year", region__isnull=False
    ).select_related("region")
    return {(s.region.code, s.period_start.year): s for s in snapshots}


def test_no_ledger_loads_no_lines(seeded):
    assert seeded.batches_without_ledger == 0
    assert "Demo ledger:" not in seeded.without_ledger
    assert "Demo contract registry:" in seeded.without_ledger


def test_every_active_region_has_an_imported_extract_per_year(seeded):
    today = timezone.localdate()
    periods = demo_periods(today)
    regions = list(Region.objects.filter(active=True))

    assert [p[0].year for p in periods] == [today.year - 2, today.year - 1, today.year]
    for region in regions:
        for start, end in periods:
            batch = ImportBatch.objects.get(region=region, period_start=start, period_end=end)
            assert batch.status == ImportBatch.Status.DONE
            assert batch.is_current
            assert batch.source == ImportBatch.Source.COMMAND
            assert batch.uploaded_by.username == f"{region.code.lower()}-officer"
            lines = LedgerLine.objects.filter(batch=batch)
            assert lines.count() == batch.rows_loaded > 0
            assert not lines.exclude(posting_date__range=(start, end)).exists()
    # A full year has ROWS lines, the current year its share so far.
    full_year = ImportBatch.objects.filter(period_start=periods[0][0]).first()
    assert full_year.rows_loaded == ROWS
    assert f"Demo ledger: {len(regions) * 3} extracts" in seeded.first


def test_a_second_run_imports_nothing_and_keeps_the_figures(seeded):
    assert seeded.counts_after_second == seeded.counts_after_first
    assert "Demo ledger: 0 extracts with 0 lines imported" in seeded.second
    assert "KPI figures: up to date" in seeded.second


def test_most_lines_are_with_contract_holders_inside_their_contracts(seeded):
    for region in Region.objects.filter(active=True):
        lines = LedgerLine.objects.filter(region=region)
        holders = set(
            Contract.objects.filter(region=region).values_list("supplier__identifier", flat=True)
        )
        by_holders = lines.filter(supplier_id__in=holders)

        assert by_holders.count() > lines.count() / 2
        # Every line of a holder falls inside one of its contracts with the region.
        assert not by_holders.filter(supplier_matched=False).exists()
        # Competitors without a contract and the generator's own suppliers get the rest.
        assert lines.filter(supplier_matched=False).exists()


def test_coverage_and_compliance_are_realistic(seeded):
    coverage = _current_year_figures("contract_coverage_goods")
    compliance = _current_year_figures("compliance")
    years = {start.year for start, _end in demo_periods(timezone.localdate())}

    assert {year for _code, year in coverage} >= years
    for key, snapshot in coverage.items():
        if key[1] not in years:
            continue
        assert snapshot.available, key
        assert 0 < snapshot.value < 1, key
        assert compliance[key].available, key
        assert 0 < compliance[key].value < 1, key


def test_one_region_has_no_ordering_channel_and_its_digital_share_says_why(seeded):
    digital = _current_year_figures("digital_order_share_top100")
    years = {start.year for start, _end in demo_periods(timezone.localdate())}

    for (code, year), snapshot in digital.items():
        if year not in years:
            continue
        if code == NO_CHANNEL_REGION:
            assert not snapshot.available
            assert snapshot.value is None
            assert "ordering-channel column" in snapshot.reason
        else:
            assert snapshot.available, (code, year)
            assert 0 < snapshot.value < 1
    assert (
        not LedgerLine.objects.filter(region__code=NO_CHANNEL_REGION)
        .exclude(order_channel="")
        .exists()
    )
    assert LedgerLine.objects.filter(order_channel=LedgerLine.Channel.E_ORDER).exists()


def test_some_lines_are_left_unmapped(seeded):
    for region in Region.objects.filter(active=True):
        lines = LedgerLine.objects.filter(region=region)
        unmapped = lines.filter(category__isnull=True).count()

        assert 0 < unmapped < lines.count() / 2
    unclassified = _current_year_figures("unclassified_share")
    assert all(0 < s.value < 0.5 for s in unclassified.values() if s.available)


def test_the_batch_list_shows_the_demo_extracts(seeded, client):
    client.force_login(get_user_model().objects.get(username="sekretariat"))

    page = client.get(reverse("spend:upload")).content.decode()

    year = timezone.localdate().year
    assert f"hovedbog-rh-{year - 1}.csv" in page
    assert f"hovedbog-{NO_CHANNEL_REGION.lower()}-{year - 2}.csv" in page


def test_a_ledger_size_below_one_is_refused_before_anything_changes(seeded):
    before = _counts()

    with pytest.raises(CommandError, match="--ledger-rows must be at least 1"):
        _seed("--ledger-rows", "0")

    assert _counts() == before
