"""Ledger extracts: import batches, ledger lines, column mappings, mapping and exclusion rules."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rfi.models import Category, Region

MONEY = {"max_digits": 15, "decimal_places": 2}


class ImportBatch(models.Model):
    """One uploaded extract for one region and period, kept as a record with its file."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Refused")
        DUPLICATE = "duplicate", _("Duplicate of an earlier file")
        SUPERSEDED = "superseded", _("Replaced by a newer file")
        AWAITING = "awaiting", _("Awaiting confirmation")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Upload in the browser")
        API = "api", _("API (the region's ERP)")
        COMMAND = "command", _("Command line")

    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="import_batches"
    )
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    file_name = models.CharField(_("file name"), max_length=255)
    file = models.FileField(_("file"), upload_to="ledger/%Y/%m/", max_length=500)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.BigIntegerField(_("size in bytes"), default=0)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    is_current = models.BooleanField(
        _("current"),
        default=False,
        help_text=_("The batch whose lines readers see for its region and period."),
    )
    rows_total = models.PositiveIntegerField(_("rows in the file"), default=0)
    rows_parsed = models.PositiveIntegerField(_("rows parsed"), default=0)
    rows_validated = models.PositiveIntegerField(_("rows validated"), default=0)
    rows_loaded = models.PositiveIntegerField(_("rows loaded"), default=0)
    spend_total = models.DecimalField(_("spend total"), **MONEY, null=True, blank=True)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    errors = models.JSONField(
        _("first errors"),
        default=list,
        blank=True,
        help_text=_("The first 1,000 errors: row, column, value, reason."),
    )
    errors_file = models.FileField(
        _("all errors (CSV)"), upload_to="ledger-errors/%Y/%m/", blank=True, max_length=500
    )
    message = models.TextField(_("message"), blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    heartbeat_at = models.DateTimeField(
        _("last sign of life"),
        null=True,
        blank=True,
        help_text=_(
            "Written by a running import every few seconds; a running batch silent for "
            "longer than LEDGER_HEARTBEAT_STALE_SECONDS is taken as dead and sent again."
        ),
    )
    sent_at = models.DateTimeField(
        _("sent to the workers"),
        null=True,
        blank=True,
        help_text=_(
            "When the import was last handed to the task queue; empty while it could not be."
        ),
    )
    replace_confirmed = models.BooleanField(
        _("replacement confirmed"),
        default=False,
        help_text=_(
            "The uploader confirmed that the file may delete the lines stored for its period "
            "(confirm_replace, import_ledger --replace, or the button under the preview)."
        ),
    )
    replace_preview = models.JSONField(
        _("replacement preview"),
        default=dict,
        blank=True,
        help_text=_(
            "Per month of the period: the lines and amount stored before the import and "
            "the lines and amount in the file (spend.importer.preview)."
        ),
    )
    file_purged_at = models.DateTimeField(
        _("file deleted"),
        null=True,
        blank=True,
        help_text=_(
            "When the stored file was deleted under the retention rule "
            "(LEDGER_SUPERSEDED_RETENTION_DAYS after it was replaced); the record stays."
        ),
    )

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        indexes = [models.Index(fields=["region", "is_current"])]
        constraints = [
            # Readers see exactly one batch per region and period.
            models.UniqueConstraint(
                fields=["region", "period_start", "period_end"],
                condition=models.Q(is_current=True),
                name="one_current_batch_per_region_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.region.code} {self.file_name} ({self.get_status_display()})"


class LedgerLine(models.Model):
    """One invoice line of a region's general ledger, as imported, mapped and matched.

    Written in bulk with COPY on PostgreSQL (never the ORM per row); the category,
    exclusion and contract-match columns are filled by set-based UPDATEs so KPI
    queries are plain aggregations.
    """

    class Channel(models.TextChoices):
        E_ORDER = "e_order", _("E-order")
        PURCHASING_SYSTEM = "purchasing_system", _("Purchasing system")
        MANUAL = "manual", _("Manual")
        UNKNOWN = "", _("Unknown")

    # No database-level foreign keys and no per-key indexes on this table: for a COPY of a
    # million lines the deferred FK checks cost about as much as the COPY itself, and each
    # index ~1 s (docs/performance.md). The importer writes existing batch and region ids
    # only; Django still cascades and protects on delete. One index, on the batch: readers
    # select lines by current batch; a new batch's keys all land at the index's right end,
    # deduplicated (an index on (batch, posting date) cost the COPY ~10 % more).
    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.CASCADE,
        related_name="lines",
        db_constraint=False,
        db_index=False,
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    row_number = models.PositiveIntegerField()
    posting_date = models.DateField()
    voucher_no = models.CharField(max_length=40, blank=True)
    invoice_no = models.CharField(max_length=60, blank=True)
    supplier_id = models.CharField(max_length=20)
    supplier_name = models.CharField(max_length=300, blank=True)
    account = models.CharField(max_length=20, blank=True)
    cost_centre = models.CharField(max_length=40, blank=True)
    amount = models.DecimalField(**MONEY)
    description = models.CharField(max_length=500, blank=True)
    order_channel = models.CharField(max_length=20, blank=True, choices=Channel.choices)
    category_code = models.CharField(max_length=8, blank=True)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    is_excluded = models.BooleanField(default=False)
    supplier_matched = models.BooleanField(default=False)
    category_matched = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("ledger line")
        verbose_name_plural = _("ledger lines")
        indexes = [models.Index(fields=["batch"])]


class ColumnMapping(models.Model):
    """A region's saved name for a column its ERP exports under another header."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="column_mappings")
    source_header = models.CharField(_("header in the file"), max_length=100)
    canonical = models.CharField(_("column"), max_length=30)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "source_header"], name="one_mapping_per_header"
            )
        ]


class MappingRule(models.Model):
    """Maps lines without a valid CPV code to a category; the first matching rule wins."""

    class Kind(models.TextChoices):
        ACCOUNT_RANGE = "account_range", _("Account range")
        ACCOUNT_COST_CENTRE = "account_cost_centre", _("Account and cost centre")
        SUPPLIER = "supplier", _("Supplier")

    region = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="mapping_rules",
        help_text=_("Empty: applies to every region."),
    )
    priority = models.PositiveIntegerField(
        _("priority"), default=100, help_text=_("Lower numbers are tried first.")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    account_from = models.CharField(_("account from"), max_length=20, blank=True)
    account_to = models.CharField(_("account to"), max_length=20, blank=True)
    cost_centre = models.CharField(_("cost centre"), max_length=40, blank=True)
    supplier_id = models.CharField(_("supplier id"), max_length=20, blank=True)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("mapping rule")
        verbose_name_plural = _("mapping rules")


class ExclusionRule(models.Model):
    """Non-addressable spend (investments, salaries, Amgros medicine, transfers)."""

    class Kind(models.TextChoices):
        ACCOUNT_RANGE = "account_range", _("Account range")
        CATEGORY = "category", _("Category")

    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.CASCADE, related_name="exclusion_rules"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    account_from = models.CharField(_("account from"), max_length=20, blank=True)
    account_to = models.CharField(_("account to"), max_length=20, blank=True)
    category_prefix = models.CharField(_("CPV prefix"), max_length=8, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("exclusion rule")
        verbose_name_plural = _("exclusion rules")
