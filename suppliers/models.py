"""Supplier master data and the contract registry (every contract a region holds)."""

from __future__ import annotations

import secrets
import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rfi.models import Category, Region
from tenders.models import TenderCase

MONEY = {"max_digits": 15, "decimal_places": 2}


class Supplier(models.Model):
    """A supplier, one per identifier (Danish CVR: 8 digits; other countries' org numbers)."""

    identifier = models.CharField(_("supplier id"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=300)
    country = models.CharField(_("country"), max_length=2, default="DK")
    is_sme = models.BooleanField(_("SME"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self) -> str:
        return f"{self.name} ({self.identifier})"


class Contract(models.Model):
    """A contract of one region with one supplier: joint (from a tender case) or its own."""

    class Kind(models.TextChoices):
        FRAMEWORK = "framework", _("Framework agreement")
        ONE_OFF = "one_off", _("One-off purchase")

    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="contracts"
    )
    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="contracts"
    )
    title = models.CharField(_("title"), max_length=300)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    extended_until = models.DateField(
        _("extended until"),
        null=True,
        blank=True,
        help_text=_("The end including exercised extensions."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.FRAMEWORK)
    annual_value = models.DecimalField(_("annual value"), **MONEY, null=True, blank=True)
    tender = models.ForeignKey(
        TenderCase,
        verbose_name=_("tender case"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
        help_text=_("Empty for the region's own tenders."),
    )
    registered_after_the_fact = models.BooleanField(
        _("registered after the fact"),
        default=False,
        help_text=_("Entered after purchases were made on it."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # A region's own contract after a joint award (suppliers/regional.py): offered on the
    # award date (an option region: the day it exercised its option), then signed.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contracts",
        help_text=_("The region's user who follows the contract and decides on extensions."),
    )
    offered_on = models.DateField(
        _("awarded to the region on"),
        null=True,
        blank=True,
        help_text=_("The award date, or the day an option region exercised its option."),
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["region__code", "end_date"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        indexes = [models.Index(fields=["region", "supplier", "start_date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="contract_ends_after_start",
                violation_error_message=_("A contract cannot end before it starts."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.region.code} · {self.title}"

    @property
    def effective_end(self):
        """End including exercised extensions (KPI.md "Active contract for a line")."""
        return self.extended_until or self.end_date

    @property
    def is_joint(self) -> bool:
        return self.tender_id is not None

    @property
    def is_signed(self) -> bool:
        return self.signed_on is not None


class ContractExtension(models.Model):
    """An extension option of a contract: how far it extends, and by when to give notice."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("Pending")
        EXERCISED = "exercised", _("Exercised")
        DECLINED = "declined", _("Declined")

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="extensions"
    )
    extends_to = models.DateField(_("extends the contract to"))
    notice_deadline = models.DateField(_("notice deadline"))
    decision = models.CharField(
        _("decision"), max_length=20, choices=Decision.choices, default=Decision.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "notice_deadline"]
        verbose_name = _("extension option")
        verbose_name_plural = _("extension options")
        indexes = [models.Index(fields=["decision", "notice_deadline"])]

    def __str__(self) -> str:
        return f"{self.contract} → {self.extends_to}"


class ExtensionReminder(models.Model):
    """A reminder mailed to a contract's owner: never twice for one deadline and day."""

    extension = models.ForeignKey(
        ContractExtension, on_delete=models.CASCADE, related_name="reminders"
    )
    notice_deadline = models.DateField()
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["extension", "notice_deadline", "days_before"],
                name="extension_reminder_once",
            )
        ]


def _document_path(document: ContractDocument, filename: str) -> str:
    # A random name: the uploader's file name is kept in the row, never in a path.
    suffix = PurePath(filename).suffix.lower()
    return f"contracts/{document.contract_id}/{uuid.uuid4().hex}{suffix}"


class ContractDocument(models.Model):
    """A file of a contract (the signed contract, an appendix): never public.

    Stored under MEDIA_ROOT, which is never served; suppliers.views.document_download
    hands it out to those who may read the contract.
    """

    class Kind(models.TextChoices):
        SIGNED = "signed", _("Signed contract")
        APPENDIX = "appendix", _("Appendix")
        OTHER = "other", _("Other")

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SIGNED)
    file = models.FileField(_("file"), upload_to=_document_path, max_length=500)
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["contract", "-uploaded_at"]
        verbose_name = _("contract document")
        verbose_name_plural = _("contract documents")

    def __str__(self) -> str:
        return self.name


# Suppliers' e-mail alerts (suppliers/public/alerts.py) ------------------------------------------------


def _new_alert_key() -> str:
    return secrets.token_urlsafe(16)


class Subscription(models.Model):
    """A supplier's e-mail alert, without an account: CPV subtrees and regions, double opt-in.

    Pending until the confirmation link is used; unconfirmed rows are purged when the
    link expires. No history is kept: a deleted address must leave no copy behind.
    """

    email = models.EmailField(_("e-mail address"), db_index=True)
    language = models.CharField(_("language"), max_length=5, default="da")
    categories = models.ManyToManyField(
        Category, verbose_name=_("categories"), blank=True, related_name="alert_subscriptions"
    )
    regions = models.ManyToManyField(
        Region, verbose_name=_("regions"), blank=True, related_name="alert_subscriptions"
    )
    # Part of every signed link: a link outlives neither the row nor a new row with its id.
    key = models.CharField(max_length=32, default=_new_alert_key, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("last digest sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("alert subscription")
        verbose_name_plural = _("alert subscriptions")
        indexes = [models.Index(fields=["confirmed_at", "unsubscribed_at"])]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class PublicTenderState(models.Model):
    """What the public last saw of a tender: the alerts' change detection.

    ``summary`` holds public fields only (suppliers.public.alerts.public_summary); a new
    fingerprint means a public change, whatever internal field was edited meanwhile.
    """

    tender = models.OneToOneField(TenderCase, on_delete=models.CASCADE, related_name="public_state")
    fingerprint = models.CharField(max_length=64)
    summary = models.JSONField()
    previous_summary = models.JSONField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    changed_at = models.DateTimeField(db_index=True)


class SentChange(models.Model):
    """One public state of one tender mailed to one subscription: never mailed twice."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="sent_changes"
    )
    tender = models.ForeignKey(TenderCase, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "tender", "fingerprint"], name="sent_change_once"
            )
        ]
