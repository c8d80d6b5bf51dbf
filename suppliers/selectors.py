"""Reads of the contract registry shared by pages, the API, the importer and other apps.

Who sees what: officers and chiefs their own regions' contracts, the UFO group and the
secretariat every region's (rfi.permissions.can_view_region_contracts). Everything a
user is shown starts from ``contracts_visible_to(user)``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import DateField, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rfi import permissions
from rfi.cpv import significant_prefix
from rfi.models import Category, Membership, Region
from suppliers.models import Contract, ContractExtension, Supplier
from tenders.models import TenderCase

PIPELINE_HORIZONS = (12, 24)
# Contracts of two regions whose ends lie this many months apart or less can be re-tendered
# together ("end within a year of each other").
JOINT_WINDOW_MONTHS = 12
# CPV group: division (2 digits) + group digit, e.g. 331 "medical equipment".
GROUP_DIGITS = 3


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    year = min(max(year, 1), 9999)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def contract_list() -> QuerySet[Contract]:
    """Every contract, with its end including exercised extensions as ``ends_on``."""
    return Contract.objects.select_related("region", "supplier", "category", "tender").annotate(
        ends_on=Coalesce("extended_until", "end_date", output_field=DateField())
    )


def visible_region_ids(user) -> set[int] | None:
    """Ids of the regions whose contracts the user reads; None: every region."""
    if permissions.can_view_all_contracts(user):
        return None
    return permissions.regions_with_role(user, Membership.Role.OFFICER) | (
        permissions.regions_with_role(user, Membership.Role.CHIEF)
    )


def contracts_visible_to(user) -> QuerySet[Contract]:
    contracts = contract_list()
    region_ids = visible_region_ids(user)
    if region_ids is None:
        return contracts
    return contracts.filter(region_id__in=region_ids)


def regions_visible_to(user) -> QuerySet[Region]:
    region_ids = visible_region_ids(user)
    regions = Region.objects.filter(active=True)
    return regions if region_ids is None else regions.filter(pk__in=region_ids)


def regions_registrable_by(user) -> QuerySet[Region]:
    """The regions the user may register contracts for (the form's choices)."""
    if permissions.is_secretariat(user):
        return Region.objects.filter(active=True)
    return Region.objects.filter(
        active=True, pk__in=permissions.regions_with_role(user, Membership.Role.OFFICER)
    )


def category_prefix(value: str) -> str:
    """The significant digits of a CPV code or prefix: 33141000-0 or 3314 → 3314."""
    return significant_prefix(value)


def icontains(field_name: str, word: str) -> Q:
    """Case-insensitive "contains", æøå included.

    SQLite folds only ASCII case in LIKE, so "øresund" would miss "Øresund"; the usual
    spellings of the word are tried too (PostgreSQL needs none of them).
    """
    condition = Q()
    for variant in dict.fromkeys((word, word.lower(), word.upper(), word.capitalize())):
        condition |= Q(**{f"{field_name}__icontains": variant})
    return condition


class ContractFilter(django_filters.FilterSet):
    """The registry's filters; the list page and the API share it."""

    q = django_filters.CharFilter(method="filter_q", label=gettext_lazy("Search"))
    region = django_filters.ModelChoiceFilter(
        queryset=Region.objects.all(), to_field_name="code", label=gettext_lazy("Region")
    )
    supplier = django_filters.CharFilter(
        method="filter_supplier", label=gettext_lazy("Supplier id or name")
    )
    category = django_filters.CharFilter(
        method="filter_category", label=gettext_lazy("CPV code or prefix")
    )
    kind = django_filters.ChoiceFilter(choices=Contract.Kind.choices)
    joint = django_filters.BooleanFilter(
        method="filter_joint", label=gettext_lazy("Joint (from a tender case) or own")
    )
    active_on = django_filters.DateFilter(
        method="filter_active_on", label=gettext_lazy("Active on (extensions included)")
    )
    # Bounded: a horizon beyond year 9999 cannot become a date.
    ending_within = django_filters.NumberFilter(
        method="filter_ending_within",
        label=gettext_lazy("Ending within months"),
        min_value=0,
        max_value=600,
    )
    registered_after_the_fact = django_filters.BooleanFilter(
        label=gettext_lazy("Registered after the fact")
    )
    tender = django_filters.CharFilter(
        field_name="tender__reference",
        lookup_expr="iexact",
        label=gettext_lazy("Tender case reference (each region's contract of the case)"),
    )
    signed = django_filters.BooleanFilter(
        field_name="signed_on", lookup_expr="isnull", exclude=True, label=gettext_lazy("Signed")
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("region__code", "region"),
            ("title", "title"),
            ("supplier__name", "supplier"),
            ("start_date", "start"),
            ("ends_on", "end"),
            ("annual_value", "value"),
        )
    )

    class Meta:
        model = Contract
        fields = [
            "q",
            "region",
            "supplier",
            "category",
            "kind",
            "joint",
            "active_on",
            "ending_within",
            "registered_after_the_fact",
            "tender",
            "signed",
        ]

    def __init__(self, *args, today: dt.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def filter_q(self, queryset, name, value: str):
        condition = Q()
        for word in value.split()[:10]:
            condition &= (
                icontains("title", word)
                | icontains("supplier__name", word)
                | Q(supplier__identifier__startswith=word)
                | Q(tender__reference__icontains=word)
                | Q(category__code__startswith=word)
            )
        return queryset.filter(condition)

    def filter_supplier(self, queryset, name, value: str):
        value = value.strip()
        return queryset.filter(Q(supplier__identifier=value) | icontains("supplier__name", value))

    def filter_category(self, queryset, name, value: str):
        prefix = category_prefix(value)
        return queryset.filter(category__code__startswith=prefix) if prefix else queryset

    def filter_joint(self, queryset, name, value: bool):
        return queryset.filter(tender__isnull=not value)

    def filter_active_on(self, queryset, name, value: dt.date):
        return queryset.filter(start_date__lte=value, ends_on__gte=value)

    def filter_ending_within(self, queryset, name, value):
        return queryset.filter(
            ends_on__gte=self.today, ends_on__lte=add_months(self.today, int(value))
        )


def supplier_list() -> QuerySet[Supplier]:
    return Supplier.objects.all()


class SupplierFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=gettext_lazy("Id or name"))
    country = django_filters.CharFilter(field_name="country", lookup_expr="iexact")

    class Meta:
        model = Supplier
        fields = ["q", "country", "is_sme"]

    def filter_q(self, queryset, name, value: str):
        value = value.strip()
        return queryset.filter(Q(identifier__startswith=value) | icontains("name", value))


# The pipeline ---------------------------------------------------------------------------------


@dataclass
class HorizonCount:
    contracts: int = 0
    annual_value: Decimal = Decimal("0")

    def add(self, contract: Contract) -> None:
        self.contracts += 1
        self.annual_value += contract.annual_value or Decimal("0")


@dataclass
class PipelineRow:
    """Contracts ending within 12 and within 24 months (the 24 include the 12)."""

    key: str
    label: str
    horizons: dict[int, HorizonCount] = field(
        default_factory=lambda: {h: HorizonCount() for h in PIPELINE_HORIZONS}
    )
    # Region code → contracts ending within the longest horizon.
    regions: dict[str, int] = field(default_factory=dict)

    def add(self, contract: Contract, months_left: int) -> None:
        for horizon in PIPELINE_HORIZONS:
            if months_left <= horizon:
                self.horizons[horizon].add(contract)
        code = contract.region.code
        self.regions[code] = self.regions.get(code, 0) + 1

    @property
    def within_12(self) -> HorizonCount:
        return self.horizons[12]

    @property
    def within_24(self) -> HorizonCount:
        return self.horizons[24]

    @property
    def region_list(self) -> list[tuple[str, int]]:
        return sorted(self.regions.items())


@dataclass
class Pipeline:
    today: dt.date
    ends_by: dict[int, dt.date]
    by_region: list[PipelineRow]
    by_category: list[PipelineRow]
    contracts: list[Contract]


def _group_code(code: str) -> str:
    return code[:GROUP_DIGITS].ljust(8, "0")


def _group_labels(codes) -> dict[str, str]:
    return {c.code: c.label for c in Category.objects.filter(code__in=set(codes))}


def contract_pipeline(*, contracts: QuerySet[Contract], today: dt.date | None = None) -> Pipeline:
    """Contracts ending in the next 12 and 24 months, per region and per CPV group."""
    today = today or timezone.localdate()
    ends_by = {h: add_months(today, h) for h in PIPELINE_HORIZONS}
    ending = list(
        contracts.filter(ends_on__gte=today, ends_on__lte=ends_by[max(PIPELINE_HORIZONS)]).order_by(
            "ends_on", "region__code", "title"
        )
    )
    regions: dict[str, PipelineRow] = {}
    groups: dict[str, PipelineRow] = {}
    for contract in ending:
        horizon = min(h for h in PIPELINE_HORIZONS if contract.ends_on <= ends_by[h])
        region = contract.region
        regions.setdefault(region.code, PipelineRow(region.code, region.name)).add(
            contract, horizon
        )
        group = _group_code(contract.category.code) if contract.category_id else ""
        groups.setdefault(group, PipelineRow(group, "")).add(contract, horizon)
    labels = _group_labels(groups)
    for row in groups.values():
        row.label = labels.get(row.key, "") if row.key else _("No category")
    return Pipeline(
        today=today,
        ends_by=ends_by,
        by_region=[regions[k] for k in sorted(regions)],
        by_category=[groups[k] for k in sorted(groups, key=lambda k: (k == "", k))],
        contracts=ending,
    )


# Joint tender candidates ------------------------------------------------------------------------


@dataclass
class CandidateContract:
    contract: Contract
    visible: bool


@dataclass
class JointCandidate:
    """Contracts of two or more regions in one CPV group, ending within a year of each other."""

    group_code: str
    label: str
    first_end: dt.date
    last_end: dt.date
    entries: list[CandidateContract]

    @property
    def regions(self) -> list[str]:
        return sorted({e.contract.region.code for e in self.entries})

    @property
    def proposal_title(self) -> str:
        return _("%(label)s (contracts of %(regions)s end %(first)s–%(last)s)") % {
            "label": self.label or self.group_code,
            "regions": ", ".join(self.regions),
            "first": formats.date_format(self.first_end, "SHORT_DATE_FORMAT"),
            "last": formats.date_format(self.last_end, "SHORT_DATE_FORMAT"),
        }


def joint_tender_candidates(*, user, today: dt.date | None = None) -> list[JointCandidate]:
    """CPV groups where two or more regions' current contracts end within a year of each other.

    Computed over every region's contracts (the point is to find other regions); a
    contract the user may not read is listed by region and end date only. Per group,
    the contracts sorted by end are cut into windows of a year from the first end
    (windows do not overlap); a window with two or more regions is a candidate, unless
    all its contracts stem from one tender case (already joint).
    """
    today = today or timezone.localdate()
    current = (
        contract_list()
        .filter(ends_on__gte=today, category__isnull=False)
        .order_by("ends_on", "region__code", "pk")
    )
    by_group: dict[str, list[Contract]] = defaultdict(list)
    for contract in current:
        by_group[_group_code(contract.category.code)].append(contract)
    labels = _group_labels(by_group)
    candidates = []
    for group, contracts in by_group.items():
        kept: list[list[Contract]] = []
        index = 0
        while index < len(contracts):
            limit = add_months(contracts[index].ends_on, JOINT_WINDOW_MONTHS)
            window = [c for c in contracts[index:] if c.ends_on <= limit]
            tenders = {c.tender_id for c in window}
            already_joint = len(tenders) == 1 and None not in tenders
            if len({c.region_id for c in window}) < 2 or already_joint:
                index += 1
                continue
            # Windows do not overlap: the next one starts after this one's last contract.
            kept.append(window)
            index += len(window)
        for window in kept:
            candidates.append(
                JointCandidate(
                    group_code=group,
                    label=labels.get(group, ""),
                    first_end=window[0].ends_on,
                    last_end=window[-1].ends_on,
                    entries=[
                        CandidateContract(c, permissions.can_view_contract(user, c)) for c in window
                    ],
                )
            )
    candidates.sort(key=lambda c: (c.first_end, c.group_code))
    return candidates


# History --------------------------------------------------------------------------------------


@dataclass
class HistoryEntry:
    when: dt.datetime
    who: object
    action: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)


HISTORY_HIDDEN_FIELDS = {"created_at", "created_by"}


def _shown(model, name: str, value, objects: dict) -> str:
    if value in (None, ""):
        return "–"
    model_field = model._meta.get_field(name)
    if model_field.is_relation:
        obj = objects.get(name, {}).get(value)
        return str(obj) if obj is not None else f"#{value}"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, Decimal):
        return formats.number_format(value, decimal_pos=2, force_grouping=True)
    return str(value)


def contract_history(contract: Contract) -> list[HistoryEntry]:
    """The contract's changes, newest first, each field old → new, with who made them."""
    records = list(contract.history.select_related("history_user").order_by("history_date"))
    related = {
        "region": Region,
        "supplier": Supplier,
        "category": Category,
        "tender": TenderCase,
        "created_by": get_user_model(),
    }
    objects = {}
    for name, model in related.items():
        ids = {getattr(r, f"{name}_id") for r in records} - {None}
        objects[name] = model.objects.in_bulk(ids)
    order = [f.name for f in Contract._meta.fields]
    actions = {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}
    entries = []
    previous = None
    for record in records:
        changes = []
        if previous is not None and record.history_type == "~":
            delta = [
                c
                for c in record.diff_against(previous).changes
                if c.field not in HISTORY_HIDDEN_FIELDS
            ]
            delta.sort(key=lambda c: order.index(c.field))
            changes = [
                (
                    str(Contract._meta.get_field(c.field).verbose_name),
                    _shown(Contract, c.field, c.old, objects),
                    _shown(Contract, c.field, c.new, objects),
                )
                for c in delta
            ]
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=record.history_user,
                action=actions[record.history_type],
                changes=changes,
            )
        )
        previous = record
    entries.reverse()
    return entries


# Each region's contract after a joint award (suppliers/regional.py) ----------------------------


@dataclass
class RegionalContractRow:
    """One region's contract of a joint case, as the case page shows it to any member."""

    region: Region
    contract: Contract
    participation_status: str
    expected_join: dt.date | None
    exercised_on: dt.date | None
    unsigned_too_long: bool
    visible: bool  # the user may open the contract (its own region, UFO, secretariat)
    can_edit: bool

    @property
    def join_delay_days(self) -> int | None:
        """Days the option region joined (signed) after it expected to; negative: earlier."""
        if self.expected_join is None or self.contract.signed_on is None:
            return None
        return (self.contract.signed_on - self.expected_join).days


def regional_contracts(*, tender: TenderCase, user, today: dt.date | None = None):
    """The case's contracts, one row per region, with the signing status and option dates.

    Every member may follow who has signed; only those who may read a contract open it.
    """
    from suppliers.regional import unsigned_too_long

    today = today or timezone.localdate()
    participations = {p.region_id: p for p in tender.participations.all()}
    contracts = (
        Contract.objects.filter(tender=tender)
        .select_related("region", "supplier", "owner", "signed_by")
        .order_by("region__code", "pk")
    )
    rows = []
    for contract in contracts:
        participation = participations.get(contract.region_id)
        rows.append(
            RegionalContractRow(
                region=contract.region,
                contract=contract,
                participation_status=participation.status if participation else "",
                expected_join=participation.option_expected_join if participation else None,
                exercised_on=participation.option_exercised_on if participation else None,
                unsigned_too_long=unsigned_too_long(contract, today),
                visible=permissions.can_view_contract(user, contract),
                can_edit=permissions.can_edit_contract(user, contract),
            )
        )
    return rows


def extension_decisions_due(*, region_ids, today: dt.date, horizon_days: int = 90) -> QuerySet:
    """Pending extension options of the regions whose notice deadline is within the horizon
    (overdue ones included: the decision is still owed)."""

    return (
        ContractExtension.objects.filter(
            contract__region_id__in=region_ids,
            decision=ContractExtension.Decision.PENDING,
            notice_deadline__lte=today + dt.timedelta(days=horizon_days),
        )
        .select_related("contract__region", "contract__supplier", "contract__owner")
        .order_by("notice_deadline", "pk")
    )


class ExtensionFilter(django_filters.FilterSet):
    """Extension options: by decision, region, case and notice deadline."""

    region = django_filters.CharFilter(field_name="contract__region__code", lookup_expr="iexact")
    tender = django_filters.CharFilter(
        field_name="contract__tender__reference", lookup_expr="iexact"
    )
    decision = django_filters.ChoiceFilter(choices=ContractExtension.Decision.choices)
    notice_after = django_filters.DateFilter(field_name="notice_deadline", lookup_expr="gte")
    notice_before = django_filters.DateFilter(field_name="notice_deadline", lookup_expr="lte")

    class Meta:
        model = ContractExtension
        fields = ["region", "tender", "decision", "notice_after", "notice_before"]


def extensions_visible_to(user) -> QuerySet[ContractExtension]:
    """Extension options of the contracts the user may read."""
    return ContractExtension.objects.filter(
        contract__in=contracts_visible_to(user).values("pk")
    ).select_related("contract__region", "contract__tender")
