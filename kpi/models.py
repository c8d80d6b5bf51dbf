"""Strategies with their targets, and the stored KPI figures (snapshots) of each run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kpi import definitions
from rfi.models import Region


class Strategy(models.Model):
    """A strategy period with its baseline year; its targets are StrategyTarget rows and its
    action plan StrategyActivity rows.

    A year is judged by the strategy whose period covers it; a year no strategy covers has
    figures but no targets and no verdicts (docs/kpi-strategies.md).
    """

    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_(
            "Short and stable, e.g. RFI-2020: reports and the API name the strategy by it."
        ),
    )
    start_year = models.PositiveIntegerField(_("first year"))
    end_year = models.PositiveIntegerField(_("last year"))
    baseline_year = models.PositiveIntegerField(
        _("baseline year"), help_text=_("Spot purchases are compared with this year.")
    )
    copied_from = models.ForeignKey(
        "self",
        verbose_name=_("copied from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="copies",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_year"]
        verbose_name = _("strategy")
        verbose_name_plural = _("strategies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_year__gte=models.F("start_year")),
                name="kpi_strategy_ends_after_start",
                violation_error_message=_("A strategy cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start_year}–{self.end_year})"

    def clean(self) -> None:
        if self.start_year and self.end_year and self.end_year < self.start_year:
            raise ValidationError({"end_year": _("A strategy cannot end before it starts.")})
        if self.start_year and self.end_year:
            overlapping = Strategy.objects.filter(
                start_year__lte=self.end_year, end_year__gte=self.start_year
            ).exclude(pk=self.pk)
            other = overlapping.first()
            if other is not None:
                raise ValidationError(
                    {
                        "start_year": _(
                            "The period overlaps %(other)s: each year has one strategy in force."
                        )
                        % {"other": other}
                    }
                )

    def covers(self, year: int) -> bool:
        return self.start_year <= year <= self.end_year


class StrategyTarget(models.Model):
    """The target of one KPI in one strategy: e.g. contract coverage, goods ≥ 0.80."""

    class Comparison(models.TextChoices):
        AT_LEAST = definitions.AT_LEAST, "≥"
        AT_MOST = definitions.AT_MOST, "≤"

    class Unit(models.TextChoices):
        RATIO = definitions.RATIO, _("share (0–1)")
        DKK = definitions.DKK, _("DKK")
        COUNT = definitions.COUNT, _("count")
        NUMBER = definitions.NUMBER, _("number")

    strategy = models.ForeignKey(
        Strategy, verbose_name=_("strategy"), on_delete=models.CASCADE, related_name="targets"
    )
    key = models.CharField(_("KPI"), max_length=40, choices=definitions.KEY_CHOICES)
    comparison = models.CharField(
        _("comparison"), max_length=3, choices=Comparison.choices, default=Comparison.AT_LEAST
    )
    value = models.DecimalField(_("target"), max_digits=20, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["strategy", "key"]
        verbose_name = _("strategy target")
        verbose_name_plural = _("strategy targets")
        constraints = [
            models.UniqueConstraint(fields=["strategy", "key"], name="kpi_one_target_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.get_comparison_display()} {self.value}"

    def clean(self) -> None:
        definition = definitions.BY_KEY.get(self.key)
        if definition and self.unit and self.unit != definition.unit:
            raise ValidationError(
                {"unit": _("This KPI is measured in %(unit)s.") % {"unit": definition.unit}}
            )
        if self.unit == definitions.RATIO and self.value is not None:
            if not Decimal("0") <= self.value <= Decimal("1"):
                raise ValidationError(
                    {"value": _("A share is a fraction between 0 and 1 (80 % is 0.8).")}
                )

    def is_met(self, value: Decimal | None) -> bool | None:
        """Whether a value meets the target (None when there is no value)."""
        if value is None:
            return None
        if self.comparison == definitions.AT_MOST:
            return value <= self.value
        return value >= self.value


class KpiRun(models.Model):
    """One recompute: what it covered, how it ended. Snapshots point at their run."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Scope(models.TextChoices):
        ALL = "all", _("All regions")
        REGION = "region", _("One region and the collaboration")

    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.ALL)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    year = models.PositiveIntegerField(
        _("year"), null=True, blank=True, help_text=_("Empty: every year with data.")
    )
    snapshot_count = models.PositiveIntegerField(_("snapshots written"), default=0)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("KPI run")
        verbose_name_plural = _("KPI runs")
        indexes = [models.Index(fields=["status", "-started_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_scope_display()} · {self.get_status_display()}"


class KpiSnapshot(models.Model):
    """A stored KPI figure: one key, one region (or the collaboration), one period.

    Every run writes new rows and marks them current, un-marking the rows they replace
    in the same transaction; older rows are the history. Readers filter ``is_current``.
    """

    class PeriodKind(models.TextChoices):
        YEAR = definitions.YEAR, _("Year")
        QUARTER = definitions.QUARTER, _("Quarter")
        MONTH = definitions.MONTH, _("Month")

    run = models.ForeignKey(
        KpiRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="snapshots"
    )
    key = models.CharField(_("KPI"), max_length=40, choices=definitions.KEY_CHOICES)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Empty: the collaboration as a whole."),
    )
    period_kind = models.CharField(_("period kind"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    period_label = models.CharField(
        _("period"), max_length=10, help_text=_("2025, 2025-Q1 or 2025-03")
    )
    value = models.DecimalField(_("value"), max_digits=24, decimal_places=6, null=True, blank=True)
    available = models.BooleanField(_("available"), default=True)
    reason = models.TextField(_("reason when not available"), blank=True)
    detail = models.JSONField(
        _("detail"),
        default=dict,
        blank=True,
        help_text=_("Numerator, denominator and other parts of the figure."),
    )
    batch_ids = models.JSONField(_("import batches read"), default=list, blank=True)
    computed_at = models.DateTimeField(_("computed"))
    is_current = models.BooleanField(_("current"), default=True)

    class Meta:
        ordering = ["key", "region__code", "period_kind", "period_start"]
        verbose_name = _("KPI snapshot")
        verbose_name_plural = _("KPI snapshots")
        indexes = [
            models.Index(
                fields=["key", "region", "period_kind", "period_start"],
                condition=models.Q(is_current=True),
                name="kpi_snapshot_current",
            ),
            models.Index(fields=["period_kind", "period_start"], name="kpi_snapshot_period"),
        ]
        constraints = [
            # One current figure per key, region and period (two partial constraints, as
            # NULL regions are distinct in a plain unique constraint).
            models.UniqueConstraint(
                fields=["key", "region", "period_kind", "period_start"],
                condition=models.Q(is_current=True, region__isnull=False),
                name="kpi_one_current_snapshot_region",
            ),
            models.UniqueConstraint(
                fields=["key", "period_kind", "period_start"],
                condition=models.Q(is_current=True, region__isnull=True),
                name="kpi_one_current_snapshot_collaboration",
            ),
            models.CheckConstraint(
                condition=models.Q(available=False) | models.Q(value__isnull=False),
                name="kpi_available_has_value",
            ),
            models.CheckConstraint(
                condition=models.Q(available=True) | models.Q(value__isnull=True),
                name="kpi_unavailable_has_no_value",
            ),
        ]

    def __str__(self) -> str:
        where = self.region.code if self.region_id else "*"
        return f"{self.key} {where} {self.period_label}"

    @property
    def definition(self) -> definitions.KpiDefinition:
        return definitions.get(self.key)

    @property
    def year(self) -> int:
        return self.period_start.year

    @property
    def reason_display(self) -> str:
        """Why the figure is not available, in the reader's language."""
        code = (self.detail or {}).get("reason_code")
        template = definitions.REASONS.get(code) if code else None
        if template is None:
            return self.reason
        try:
            return str(template) % (self.detail.get("reason_params") or {})
        except (KeyError, TypeError, ValueError):
            return self.reason


class StrategyActivity(models.Model):
    """One activity of a strategy's action plan, followed by the chiefs and kept up to date
    by the secretariat."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        POSTPONED = "postponed", _("Postponed")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN = (Status.PLANNED, Status.IN_PROGRESS, Status.POSTPONED)

    strategy = models.ForeignKey(
        Strategy, verbose_name=_("strategy"), on_delete=models.CASCADE, related_name="activities"
    )
    objective = models.CharField(
        _("objective"),
        max_length=200,
        blank=True,
        help_text=_("The strategic objective it serves."),
    )
    title = models.CharField(_("title"), max_length=400)
    responsible_region = models.ForeignKey(
        Region,
        verbose_name=_("responsible region"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty: the collaboration (the secretariat) as a whole."),
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    note = models.TextField(_("note"), blank=True)
    position = models.PositiveIntegerField(_("order"), default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["strategy", "position", "pk"]
        verbose_name = _("strategy activity")
        verbose_name_plural = _("strategy activities")

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: date) -> bool:
        """Open and past its due date."""
        return bool(self.due_date and self.due_date < today and self.status in self.OPEN)


def period_label(kind: str, start: date) -> str:
    """2025, 2025-Q1 or 2025-03."""
    if kind == definitions.YEAR:
        return f"{start.year}"
    if kind == definitions.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


class KpiFreshness(models.Model):
    """How current a region's figures are: the latest import they include.

    Written by every successful recompute that covers the region. When the region has a
    finished import newer than ``batch_id``, its refresh is owed: the dashboard says so and
    the sweeper (kpi.refresh_owed, every minute) sends it again.
    """

    region = models.OneToOneField(
        Region, on_delete=models.CASCADE, primary_key=True, related_name="kpi_freshness"
    )
    batch_id = models.PositiveBigIntegerField(
        _("figures as of import batch"), null=True, blank=True
    )
    computed_at = models.DateTimeField(_("computed"), null=True, blank=True)
    refresh_sent_at = models.DateTimeField(_("refresh last sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("KPI freshness")
        verbose_name_plural = _("KPI freshness")

    def __str__(self) -> str:
        return f"{self.region_id}: as of batch {self.batch_id}"


# Facts: rollups of the ledger that the import and the re-matching maintain (kpi/facts.py) ----

FACT_MONEY = {"max_digits": 18, "decimal_places": 2}


class LedgerMonthFact(models.Model):
    """Σ amount and number of lines of one batch per month and per every flag a KPI reads.

    Kind (goods, services, works, unclassified, excluded: kpi.compute), ordering channel,
    supplier- and category-matched, and in a covered category (KPI.md "Terms"). Written by
    kpi.facts only, in the transaction that writes the lines; never edited.
    """

    batch = models.ForeignKey(
        "spend.ImportBatch", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    region = models.ForeignKey(
        Region, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    month = models.PositiveIntegerField(help_text="yyyymm")
    kind = models.CharField(max_length=1)
    channel = models.CharField(max_length=20, blank=True)
    supplier_matched = models.BooleanField()
    category_matched = models.BooleanField()
    covered = models.BooleanField()
    lines = models.PositiveIntegerField()
    amount = models.DecimalField(**FACT_MONEY)

    class Meta:
        verbose_name = "ledger month fact"
        verbose_name_plural = "ledger month facts"
        default_permissions = ()


class LedgerSupplierMonthFact(models.Model):
    """Σ amount of one batch's addressable supplier-matched lines per month and supplier id
    (the joint-agreement spend: whether a contract is joint is decided when computing)."""

    batch = models.ForeignKey(
        "spend.ImportBatch", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    region = models.ForeignKey(
        Region, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    month = models.PositiveIntegerField(help_text="yyyymm")
    supplier_id = models.CharField(max_length=20)
    amount = models.DecimalField(**FACT_MONEY)

    class Meta:
        verbose_name = "ledger supplier month fact"
        verbose_name_plural = "ledger supplier month facts"
        default_permissions = ()


class LedgerTransactionFact(models.Model):
    """Transactions of a region at one supplier in one month, quarter or year.

    Counted over the region's current lines of the whole period (a transaction spanning two
    months counts once in their quarter), so a period's row is rebuilt whenever one of its
    months changes: transactions, those ordered by e-order, and spot purchases (positive
    total, not supplier-matched). The top-100 suppliers are ranked from these counts.
    """

    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    year = models.PositiveSmallIntegerField()
    period_kind = models.CharField(max_length=1)  # m, q, y
    period = models.PositiveIntegerField(help_text="yyyymm, yyyyq or yyyy")
    supplier_id = models.CharField(max_length=20)
    transactions = models.PositiveIntegerField()
    e_orders = models.PositiveIntegerField()
    spot = models.PositiveIntegerField()

    class Meta:
        verbose_name = "ledger transaction fact"
        verbose_name_plural = "ledger transaction facts"
        default_permissions = ()
        indexes = [models.Index(fields=["region", "year"], name="kpi_txfact_region_year")]
