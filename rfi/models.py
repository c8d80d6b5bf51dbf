"""The collaboration's reference data: regions, partner bodies, the CPV tree, memberships."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


def _in_language(da: str, en: str) -> str:
    """Pick the Danish or English text by the active language (Danish first)."""
    return en if (get_language() or "da").startswith("en") and en else da


class Region(models.Model):
    """A public region taking part in the collaboration (e.g. Region Midtjylland)."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name_da = models.CharField(_("Danish name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    # The region's procurement contact, shown to suppliers on the public portal (public data).
    procurement_contact = models.CharField(
        _("procurement contact"),
        max_length=200,
        blank=True,
        help_text=_("The unit or person suppliers contact, e.g. Koncern Indkøb."),
    )
    procurement_email = models.EmailField(_("procurement e-mail"), blank=True)
    procurement_phone = models.CharField(_("procurement phone"), max_length=40, blank=True)
    procurement_url = models.URLField(_("procurement web page"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _in_language(self.name_da, self.name_en)

    @property
    def has_procurement_contact(self) -> bool:
        return any(getattr(self, name) for name in REGION_CONTACT_FIELDS)


REGION_CONTACT_FIELDS = (
    "procurement_contact",
    "procurement_email",
    "procurement_phone",
    "procurement_url",
)


class PartnerBody(models.Model):
    """A purchasing body outside the regions that can lead or co-run a tender."""

    class Kind(models.TextChoices):
        NATIONAL = "national", _("National purchasing body")
        MEDICINE = "medicine", _("Medicine purchasing body")
        MUNICIPALITIES = "municipalities", _("Municipalities")
        STATE = "state", _("State body")
        UMBRELLA = "umbrella", _("Umbrella organisation")
        OTHER = "other", _("Other")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name_da = models.CharField(_("Danish name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    is_medicine_body = models.BooleanField(
        _("medicine body"),
        default=False,
        help_text=_("Its tenders (hospital medicine) are outside the collaboration's joint goals."),
    )
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("partner body")
        verbose_name_plural = _("partner bodies")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _in_language(self.name_da, self.name_en)


class Category(models.Model):
    """A CPV 2008 code; the tree follows the code prefix (division → group → class → category)."""

    class Kind(models.TextChoices):
        GOODS = "goods", _("Goods")
        WORKS = "works", _("Works")
        SERVICES = "services", _("Services")

    code = models.CharField(_("CPV code"), max_length=8, unique=True)
    check_digit = models.CharField(_("check digit"), max_length=1)
    label_en = models.CharField(_("English label"), max_length=400)
    label_da = models.CharField(_("Danish label"), max_length=400)
    label_sv = models.CharField(_("Swedish label"), max_length=400, blank=True)
    label_nb = models.CharField(_("Norwegian label"), max_length=400, blank=True)
    level = models.PositiveSmallIntegerField(
        _("level"), help_text=_("1 division, 2 group, 3 class, 4 category, 5+ finer levels")
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self) -> str:
        return f"{self.full_code} {self.label}"

    @property
    def full_code(self) -> str:
        return f"{self.code}-{self.check_digit}"

    @property
    def label(self) -> str:
        return _in_language(self.label_da, self.label_en)

    @property
    def division(self) -> str:
        return self.code[:2]

    @property
    def prefix(self) -> str:
        """The significant digits: the code without its trailing zeros (at least the division)."""
        from rfi.cpv import significant_prefix  # rfi.cpv reads Category: a loop at import

        return significant_prefix(self.code)

    @property
    def kind(self) -> str:
        return category_kind(self.code)


def category_kind(code: str) -> str:
    """Goods for divisions 03–44 and 48, works for 45, services for 50–98 (KPI.md "Kind")."""
    division = int(code[:2])
    if division == 45:
        return Category.Kind.WORKS
    if division >= 50:
        return Category.Kind.SERVICES
    return Category.Kind.GOODS


class Membership(models.Model):
    """A user's role in a region. The secretariat is Django staff, not a membership."""

    class Role(models.TextChoices):
        OFFICER = "officer", _("Procurement officer")
        UFO = "ufo", _("UFO member")
        CHIEF = "chief", _("Procurement chief")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["region__code", "role"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "region", "role"], name="membership_unique_user_region_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.region.code} · {self.get_role_display()}"
