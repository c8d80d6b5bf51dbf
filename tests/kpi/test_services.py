"""kpi_recompute as a whole: history, idempotence, failure, scopes, serialisation, consistency."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, connections, transaction

from kpi import facts, services
from kpi.models import KpiRun, KpiSnapshot
from spend import matching
from spend.models import LedgerLine
from tests.kpi import kpi_data
from tests.spend import spend_data as sd

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has one writer at a time: its IMMEDIATE transactions serialise any two "
    "recomputes (or a recompute and an import) at BEGIN, so there is no interleaving to "
    "observe; the advisory lock and REPEATABLE READ are PostgreSQL's",
)


def current(**filters) -> dict[tuple, tuple]:
    """(key, region code, period) → (value, available, reason) of the current snapshots."""
    return {
        (s.key, s.region.code if s.region_id else None, s.period_label): (
            s.value,
            s.available,
            s.reason,
        )
        for s in KpiSnapshot.objects.filter(is_current=True, **filters).select_related("region")
    }


def one(key, region, period):
    qs = KpiSnapshot.objects.filter(is_current=True, key=key, period_label=period)
    qs = qs.filter(region__code=region) if region else qs.filter(region__isnull=True)
    return qs.get()


def test_running_twice_gives_the_same_figures_and_keeps_the_first_as_history():
    # given
    kpi_data.build()
    first = services.kpi_recompute()
    figures = current()

    # when
    second = services.kpi_recompute()

    # then
    assert current() == figures
    assert first.status == second.status == KpiRun.Status.DONE
    assert first.snapshot_count == second.snapshot_count == len(figures)
    assert KpiSnapshot.objects.filter(run=first, is_current=True).count() == 0
    assert KpiSnapshot.objects.filter(run=first).count() == first.snapshot_count
    assert set(KpiSnapshot.objects.filter(is_current=True).values_list("run", flat=True)) == {
        second.pk
    }


def test_a_recompute_that_fails_midway_leaves_the_previous_figures_current():
    # given
    kpi_data.build()
    good = services.kpi_recompute()
    before = current()
    rm = kpi_data.Region.objects.get(code="RM")
    sd.lines(
        sd.batch(rm, year=2025, period_start=dt.date(2030, 1, 1), period_end=dt.date(2030, 1, 31))
    )  # a harmless extra batch: the failed run would have read it

    # when: the write fails after the old snapshots were marked as history
    with mock.patch.object(
        KpiSnapshot.objects, "bulk_create", side_effect=RuntimeError("disk full")
    ):
        with pytest.raises(RuntimeError, match="disk full"):
            services.kpi_recompute()

    # then
    assert current() == before
    assert set(KpiSnapshot.objects.filter(is_current=True).values_list("run", flat=True)) == {
        good.pk
    }
    failed = KpiRun.objects.latest("pk")
    assert failed.status == KpiRun.Status.FAILED
    assert "disk full" in failed.error
    assert failed.finished_at is not None


def test_a_region_recompute_replaces_that_region_and_the_collaboration_only():
    # given
    world = kpi_data.build()
    services.kpi_recompute()
    rm_before = one("addressable_spend", "RM", "2025")
    rsd = world.regions["RSD"]
    sd.lines(
        sd.batch(
            rsd, year=2025, period_start=dt.date(2025, 12, 1), period_end=dt.date(2025, 12, 31)
        ),
        {"posting_date": dt.date(2025, 12, 5), "supplier_id": "77777777", "amount": "500"},
    )
    matching.lines_match(region=rsd)

    # when
    run = services.kpi_recompute(region=rsd)

    # then: RSD's new line counts, RM's figure is the same row, the collaboration is redone
    assert one("addressable_spend", "RSD", "2025").value == Decimal("2500.00")
    assert one("addressable_spend", "RSD", "2025").run == run
    assert one("addressable_spend", "RM", "2025").pk == rm_before.pk
    joint = one("joint_agreement_spend", None, "2025")
    assert joint.run == run
    # RM's joint spend was not rescanned: it comes from the previous collaboration figure.
    assert joint.value == Decimal("3500.00")
    assert run.scope == KpiRun.Scope.REGION


def test_a_year_recompute_leaves_other_years_alone():
    # given
    kpi_data.build()
    services.kpi_recompute()
    old_2014 = one("addressable_spend", "RM", "2014")

    # when
    run = services.kpi_recompute(year=2025)

    # then
    assert one("addressable_spend", "RM", "2014").pk == old_2014.pk
    assert one("addressable_spend", "RM", "2025").run == run
    # The baseline year is still read for the 2025 reduction.
    assert one("spot_purchase_reduction", "RM", "2025").value == Decimal("0.2")
    assert not KpiSnapshot.objects.filter(run=run).exclude(period_start__year=2025).exists()


def test_without_a_strategy_the_strategy_kpis_say_why():
    kpi_data.build(with_strategy=False)

    services.kpi_recompute()

    assert one("spot_purchase_reduction", "RM", "2025").reason == (
        "No strategy has been entered, so there is no baseline year or period."
    )
    assert not one("joint_service_tenders", None, "2025").available
    # The figures that need no strategy are there.
    assert one("spot_purchases", "RM", "2025").value == 4


def test_an_empty_database_gives_an_empty_successful_run():
    run = services.kpi_recompute()

    assert run.status == KpiRun.Status.DONE
    assert run.snapshot_count == 0


# Serialisation and consistency (PostgreSQL) --------------------------------------------------


def _in_thread(target, errors: list):
    def body():
        try:
            target()
        except Exception as exc:  # reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=body)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_recomputes_at_once_never_interleave_the_second_waits():
    # given
    kpi_data.build()
    spans: list[tuple[float, float]] = []
    real = services.compute_snapshots

    def slow(**kwargs):
        started = time.monotonic()
        result = real(**kwargs)
        time.sleep(0.5)
        spans.append((started, time.monotonic()))
        return result

    errors: list = []
    with mock.patch.object(services, "compute_snapshots", side_effect=slow):
        threads = [_in_thread(services.kpi_recompute, errors) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    # then: both succeeded, one after the other, and one set of figures is current
    assert not errors
    assert len(spans) == 2
    (a_start, a_end), (b_start, b_end) = sorted(spans)
    assert b_start >= a_end
    runs = list(KpiRun.objects.order_by("pk"))
    assert [r.status for r in runs] == [KpiRun.Status.DONE] * 2
    assert KpiSnapshot.objects.filter(is_current=True).count() == runs[0].snapshot_count
    assert one("spot_purchases", "RM", "2025").value == 4


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_import_committing_during_a_recompute_is_not_half_read():
    # given
    kpi_data.build()
    summed, imported = threading.Event(), threading.Event()
    real = services.facts.month_sums

    def sums_then_wait(scope):
        result = real(scope)
        summed.set()
        assert imported.wait(10)
        return result

    def replace_the_tenth_of_may():
        # What an import of a shorter period does to an overlapping current batch: its
        # lines of that period go (L7 800 and L8 700, D1 a spot purchase).
        assert summed.wait(10)
        # The KPI facts follow in the same transaction, as in the switch-in.
        with transaction.atomic():
            lines = LedgerLine.objects.filter(region__code="RM", posting_date=dt.date(2025, 5, 10))
            region_id = lines.values_list("region_id", flat=True).first()
            lines.delete()
            facts.regions_rematched([region_id])
        imported.set()

    errors: list = []
    with mock.patch.object(services.facts, "month_sums", side_effect=sums_then_wait):
        threads = [
            _in_thread(services.kpi_recompute, errors),
            _in_thread(replace_the_tenth_of_may, errors),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    # then: the spend (read before the change) and the spot purchases (read after it
    # committed) both come from before it: 6550 and 4, never 6550 and 3.
    assert not errors
    assert one("addressable_spend", "RM", "2025").value == Decimal("6550.00")
    assert one("spot_purchases", "RM", "2025").value == 4
    # and the next recompute sees it: 6550 - 800 - 700, and D1 gone.
    services.kpi_recompute()
    assert one("addressable_spend", "RM", "2025").value == Decimal("5050.00")
    assert one("spot_purchases", "RM", "2025").value == 3
