"""Reads for the public supplier portal: only publishable cases, only public fields.

Everything the public sees (pages, RSS, iCal, CSV/xlsx, OCDS, e-mail alerts) starts
from ``publishable_tenders()`` and narrows it with ``PublicTenderFilter`` through
``filter_public_tenders()``, which raises ``BadQuery`` (→ HTTP 400) on a bad parameter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import QueryDict
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from rfi.models import REGION_CONTACT_FIELDS, Category, PartnerBody, Region
from rfi.templatetags.rfi_format import money
from tenders.models import Participation, TenderCase

# The fields of a tender case the public may see. Anything else (internal notes, the
# follow-or-explain deadline, per-region values, savings, UFO work) stays internal.
PUBLIC_TENDER_FIELDS = (
    "reference",
    "title",
    "description",
    "category",
    "area",
    "kind",
    "has_options",
    "lead_region",
    "lead_partner",
    "status",
    "expected_tender_start",
    "publication_date",
    "award_date",
    "contract_start",
    "contract_end",
    "extension_until",
    "estimated_annual_value",
)
# Participation shown publicly: full and "on an option". Pending and opted-out regions
# are internal (follow or explain is the regions' own business until they decide to join).
PUBLIC_PARTICIPATION = (Participation.Status.FULL, Participation.Status.OPTION)

TAB_UPCOMING = "upcoming"
TAB_CURRENT = "current"
TAB_COMPLETED = "completed"
TABS = (
    (TAB_UPCOMING, _("Upcoming")),
    (TAB_CURRENT, _("Current")),
    (TAB_COMPLETED, _("Completed")),
)
MIN_YEAR, MAX_YEAR = 2000, 2100
QUERY_MAX_LENGTH = 100


class BadQuery(ValueError):
    """A query parameter the portal cannot use; ``messages`` say which and why.

    ``messages`` name the fields as the page labels them, for people;
    ``parameter_messages`` name the query parameters, for the OCDS API that programs
    read (``category: …``).
    """

    def __init__(self, messages: list[str], parameter_messages: list[str] | None = None):
        self.messages = messages
        self.parameter_messages = parameter_messages or messages
        super().__init__("; ".join(messages))


def publishable_tenders() -> QuerySet[TenderCase]:
    """Every case marked publishable, with what a public row shows loaded in a few queries.

    ``tender.public_participations`` holds the full and option participations (region
    loaded), ordered by region code. Internal columns are deferred, never loaded.
    Cancelled cases are included (feeds and OCDS report the cancellation); the
    listing's tabs leave them out.
    """
    public_participations = Prefetch(
        "participations",
        queryset=Participation.objects.filter(status__in=PUBLIC_PARTICIPATION)
        .select_related("region")
        .order_by("region__code"),
        to_attr="public_participations",
    )
    return (
        TenderCase.objects.filter(is_publishable=True)
        .select_related("category", "lead_region", "lead_partner")
        .only(
            *PUBLIC_TENDER_FIELDS,
            "id",
            "is_publishable",
            "created_at",
            "updated_at",
            "category__code",
            "category__check_digit",
            "category__label_da",
            "category__label_en",
            "lead_region__code",
            "lead_region__name_da",
            "lead_region__name_en",
            "lead_partner__code",
            "lead_partner__name_da",
            "lead_partner__name_en",
        )
        .prefetch_related(public_participations)
    )


def tab_condition(tab: str, *, today: dt.date | None = None) -> Q:
    """The rule of the three tabs (docs/public.md): by status, and dates where the plan lags.

    - upcoming: planned, and the tender is not yet published (no publication date, or
      a publication date still ahead);
    - current: in tender, or planned with a publication date that has come (the lead
      region has not updated the status yet);
    - completed: in contract period or ended.
    Cancelled cases are in no tab.
    """
    today = today or timezone.localdate()
    status = TenderCase.Status
    published = Q(publication_date__isnull=False, publication_date__lte=today)
    if tab == TAB_UPCOMING:
        return Q(status=status.PLANNED) & ~published
    if tab == TAB_CURRENT:
        return Q(status=status.IN_TENDER) | (Q(status=status.PLANNED) & published)
    if tab == TAB_COMPLETED:
        return Q(status__in=[status.IN_CONTRACT, status.ENDED])
    raise ValueError(tab)


def tab_of(tender: TenderCase, *, today: dt.date | None = None) -> str | None:
    """The tab a single case is listed under (None for a cancelled case)."""
    today = today or timezone.localdate()
    status = TenderCase.Status
    if tender.status == status.PLANNED:
        published = tender.publication_date and tender.publication_date <= today
        return TAB_CURRENT if published else TAB_UPCOMING
    if tender.status == status.IN_TENDER:
        return TAB_CURRENT
    if tender.status in (status.IN_CONTRACT, status.ENDED):
        return TAB_COMPLETED
    return None


def quarter_of(day: dt.date | None) -> tuple[int, int] | None:
    """(year, quarter) of a date."""
    if day is None:
        return None
    return day.year, (day.month - 1) // 3 + 1


def _quarter_range(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    first = dt.date(year, 3 * (quarter - 1) + 1, 1)
    last = dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - dt.timedelta(days=1)
    return first, last


class CpvCodeField(forms.CharField):
    """A CPV code of the tree: 8 digits, with or without its check digit ("33100000-1")."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        code = value.strip().split("-")[0]
        if not (len(code) == 8 and code.isdigit()):
            raise forms.ValidationError(
                _("“%(value)s” is not a CPV code: give 8 digits, e.g. 33100000."),
                params={"value": value},
            )
        category = Category.objects.filter(code=code).only("code").first()
        if category is None:
            raise forms.ValidationError(
                _("The CPV code %(code)s is not in the category tree."), params={"code": code}
            )
        return category


class CpvCodeFilter(django_filters.Filter):
    field_class = CpvCodeField


class PublicTenderFilter(django_filters.FilterSet):
    """The portal's filters; the page, the feeds, the exports and the alerts share them."""

    tab = django_filters.ChoiceFilter(
        choices=TABS,
        method="filter_tab",
        label=_("Tab"),
        empty_label=None,
        error_messages={"invalid_choice": _("Unknown tab “%(value)s”.")},
    )
    category = CpvCodeFilter(
        method="filter_category",
        label=_("Category (CPV code)"),
        max_length=10,
    )
    lead_region = django_filters.ModelChoiceFilter(
        queryset=Region.objects.all(),
        to_field_name="code",
        label=_("Lead region"),
        error_messages={"invalid_choice": _("Unknown region code.")},
    )
    region = django_filters.ModelChoiceFilter(
        queryset=Region.objects.all(),
        to_field_name="code",
        method="filter_region",
        label=_("Participating region"),
        error_messages={"invalid_choice": _("Unknown region code.")},
    )
    year = django_filters.NumberFilter(
        method="filter_start",
        label=_("Expected start, year"),
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
    )
    quarter = django_filters.TypedChoiceFilter(
        method="filter_start",
        choices=[(str(q), _("Q%(quarter)s") % {"quarter": q}) for q in range(1, 5)],
        coerce=int,
        label=_("Expected start, quarter"),
        error_messages={"invalid_choice": _("A quarter is 1, 2, 3 or 4.")},
    )
    kind = django_filters.ChoiceFilter(
        choices=TenderCase.Kind.choices,
        label=_("Kind"),
        error_messages={"invalid_choice": _("Unknown kind “%(value)s”.")},
    )
    area = django_filters.ChoiceFilter(
        choices=TenderCase.Area.choices,
        label=_("Area"),
        error_messages={"invalid_choice": _("Unknown area “%(value)s”.")},
    )
    q = django_filters.CharFilter(method="filter_q", label=_("Search"), max_length=QUERY_MAX_LENGTH)
    sort = django_filters.OrderingFilter(
        fields=(
            ("expected_tender_start", "start"),
            ("title", "title"),
            ("reference", "reference"),
            ("contract_end", "contract_end"),
            ("estimated_annual_value", "value"),
        ),
        field_labels={
            "expected_tender_start": _("Expected tender start"),
            "title": _("Title"),
            "reference": _("Reference"),
            "contract_end": _("Contract end"),
            "estimated_annual_value": _("Estimated annual value"),
        },
        label=_("Sort by"),
        error_messages={"invalid_choice": _("Unknown sort order “%(value)s”.")},
    )

    class Meta:
        model = TenderCase
        fields: list[str] = []

    def __init__(self, *args, today: dt.date | None = None, **kwargs):
        self.today = today or timezone.localdate()
        super().__init__(*args, **kwargs)

    def filter_tab(self, queryset, name, value):
        return queryset.filter(tab_condition(value, today=self.today))

    def filter_category(self, queryset, name, value: Category):
        return queryset.filter(category__code__startswith=value.prefix)

    def filter_region(self, queryset, name, value: Region):
        takes_part = Participation.objects.filter(
            tender=OuterRef("pk"), region=value, status__in=PUBLIC_PARTICIPATION
        )
        return queryset.filter(Q(lead_region=value) | Exists(takes_part))

    def filter_start(self, queryset, name, value):
        # year and quarter are read together here; each filter method runs once per field.
        if name == "quarter":
            return queryset
        year = int(value)
        quarter = self.form.cleaned_data.get("quarter")
        if quarter:
            first, last = _quarter_range(year, quarter)
        else:
            first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        return queryset.filter(expected_tender_start__range=(first, last))

    def filter_q(self, queryset, name, value):
        condition = Q()
        for word in value.split():
            condition &= (
                Q(title__icontains=word)
                | Q(description__icontains=word)
                | Q(reference__icontains=word)
                | Q(category__label_da__icontains=word)
                | Q(category__label_en__icontains=word)
                | Q(category__code__startswith=word)
            )
        return queryset.filter(condition)

    @property
    def qs(self):
        queryset = super().qs
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by("expected_tender_start", "reference")
        else:
            # A stable order for pagination whatever the chosen column holds.
            queryset = queryset.order_by(*queryset.query.order_by, "reference")
        return queryset


def _field_name(form, name: str) -> str:
    """A parameter as the page names it, in the page's language ("Kind", "Udbudstype")."""
    field = form.fields.get(name)
    return str(field.label) if field is not None and field.label else name


def _validate(tender_filter: PublicTenderFilter) -> None:
    """Every problem of the query at once, each named by its field's label."""
    form = tender_filter.form
    problems = []
    if not form.is_valid():
        for field, errors in form.errors.items():
            problems.extend((field, error) for error in errors)
    cleaned = getattr(form, "cleaned_data", {})
    if cleaned.get("quarter") and not cleaned.get("year") and "year" not in form.errors:
        problems.append(("quarter", _("choose a year with the quarter.")))
    if problems:
        raise BadQuery(
            [f"{_field_name(form, field)}: {error}" for field, error in problems],
            [f"{field}: {error}" for field, error in problems],
        )


def filter_public_tenders(
    params: QueryDict | dict,
    *,
    queryset: QuerySet[TenderCase] | None = None,
    default_tab: str | None = None,
    today: dt.date | None = None,
) -> PublicTenderFilter:
    """Bind the query parameters to the portal filter; raise ``BadQuery`` on a bad one.

    Unknown parameters are ignored (tracking parameters, the page number). With
    ``default_tab`` the filter applies that tab when the query names none; without it
    (feeds, exports, OCDS) no tab narrows the cases.
    """
    data = params.copy() if isinstance(params, QueryDict) else QueryDict(mutable=True)
    if not isinstance(params, QueryDict):
        for key, value in params.items():
            data.setlist(key, value if isinstance(value, list | tuple) else [value])
    for key in list(data):
        if len(data.getlist(key)) > 1:
            raise BadQuery([str(_("%(name)s: give the parameter once.") % {"name": key})])
    if default_tab and not data.get("tab"):
        data["tab"] = default_tab
    tender_filter = PublicTenderFilter(
        data, queryset=queryset if queryset is not None else publishable_tenders(), today=today
    )
    _validate(tender_filter)
    return tender_filter


def public_contact(tender: TenderCase) -> Region | None:
    """The lead region with its procurement contact (public by design), or None."""
    if not tender.lead_region_id:
        return None
    return (
        Region.objects.filter(pk=tender.lead_region_id)
        .only("id", "code", "name_da", "name_en", *REGION_CONTACT_FIELDS)
        .first()
    )


def public_tender(reference: str) -> TenderCase | None:
    """One publishable case by its reference, or None."""
    return publishable_tenders().filter(reference=reference).first()


@dataclass(frozen=True)
class RegionRole:
    region: Region
    role: str  # "lead", "full" or "option"


def public_regions(tender: TenderCase) -> list[RegionRole]:
    """The lead region first, then the regions taking part fully, then those on an option."""
    roles: list[RegionRole] = []
    if tender.lead_region_id:
        roles.append(RegionRole(tender.lead_region, "lead"))
    for status in PUBLIC_PARTICIPATION:
        for participation in tender.public_participations:
            if participation.status == status and participation.region_id != tender.lead_region_id:
                roles.append(RegionRole(participation.region, str(status)))
    return roles


def active_regions() -> list[Region]:
    return list(Region.objects.filter(active=True).order_by("code"))


# Categories for the filter's CPV tree --------------------------------------------------------


def category_tree_choices(selected: str | None = None) -> list[tuple[str, str, int]]:
    """(code, "code label", level): the divisions, groups and classes of publishable cases.

    A supplier picks one and sees every case below it. Finer codes work in the URL
    (the detail page links its own code); ``selected`` is offered too, so the form
    shows what the URL asked for.
    """
    used = set(
        TenderCase.objects.filter(is_publishable=True)
        .values_list("category__code", flat=True)
        .distinct()
    )
    codes: set[str] = {code[:digits].ljust(8, "0") for code in used for digits in (2, 3, 4)}
    if selected:
        codes.add(selected)
    categories = Category.objects.filter(code__in=codes).order_by("code")
    return [(c.code, f"{c.full_code} {c.label}", c.level) for c in categories]


# The change log in public terms ------------------------------------------------------------

# Milestones whose change the log reports, in the order of a tender's life.
PUBLIC_DATE_FIELDS = (
    "publication_date",
    "award_date",
    "contract_start",
    "contract_end",
    "extension_until",
)


@dataclass(frozen=True)
class PublicChange:
    when: dt.datetime
    text: str


def _quarter_label(day: dt.date) -> str:
    year, quarter = quarter_of(day)
    return str(_("Q%(quarter)s %(year)s") % {"quarter": quarter, "year": year})


def _date_label(day: dt.date | None) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT") if day else "–"


def _start_change(old: dt.date | None, new: dt.date | None) -> str:
    if old is None:
        return str(
            _("Expected tender start set to %(new)s")
            % {"new": f"{_quarter_label(new)} ({_date_label(new)})"}
        )
    if new is None:
        return str(_("Expected tender start removed (was %(old)s)") % {"old": _quarter_label(old)})
    if quarter_of(old) != quarter_of(new):
        old_text, new_text = _quarter_label(old), _quarter_label(new)
    else:
        old_text, new_text = _date_label(old), _date_label(new)
    return str(
        _("Expected tender start moved from %(old)s to %(new)s")
        % {"old": old_text, "new": new_text}
    )


def _tender_changes(previous, record) -> list[str]:
    """What changed between two history records of a case, public fields only."""
    texts: list[str] = []
    labels = {f.name: f.verbose_name for f in TenderCase._meta.fields}
    if previous.title != record.title:
        texts.append(
            str(
                _("Title changed from “%(old)s” to “%(new)s”")
                % {"old": previous.title, "new": record.title}
            )
        )
    if previous.status != record.status:
        texts.append(
            str(
                _("Status changed from %(old)s to %(new)s")
                % {
                    "old": TenderCase.Status(previous.status).label,
                    "new": TenderCase.Status(record.status).label,
                }
            )
        )
    if previous.expected_tender_start != record.expected_tender_start:
        texts.append(_start_change(previous.expected_tender_start, record.expected_tender_start))
    for name in PUBLIC_DATE_FIELDS:
        old, new = getattr(previous, name), getattr(record, name)
        if old != new:
            texts.append(
                str(
                    _("%(milestone)s changed from %(old)s to %(new)s")
                    % {
                        "milestone": str(labels[name]).capitalize(),
                        "old": _date_label(old),
                        "new": _date_label(new),
                    }
                )
            )
    if previous.estimated_annual_value != record.estimated_annual_value:
        texts.append(
            str(
                _("Estimated annual value changed from %(old)s to %(new)s")
                % {
                    "old": money(previous.estimated_annual_value),
                    "new": money(record.estimated_annual_value),
                }
            )
        )
    if (previous.lead_region_id, previous.lead_partner_id) != (
        record.lead_region_id,
        record.lead_partner_id,
    ):

        def lead(rec) -> str:
            if rec.lead_region_id:
                found = Region.objects.filter(pk=rec.lead_region_id).first()
            else:
                found = PartnerBody.objects.filter(pk=rec.lead_partner_id).first()
            return found.name if found else "–"

        texts.append(
            str(
                _("Lead changed from %(old)s to %(new)s")
                % {"old": lead(previous), "new": lead(record)}
            )
        )
    if previous.category_id != record.category_id:
        new = Category.objects.filter(pk=record.category_id).first()
        texts.append(str(_("Category changed to %(new)s") % {"new": new or "–"}))
    if previous.kind != record.kind:
        texts.append(
            str(_("Kind changed to %(new)s") % {"new": TenderCase.Kind(record.kind).label})
        )
    if previous.description != record.description:
        texts.append(str(_("Description updated")))
    return texts


def public_change_log(tender: TenderCase) -> list[PublicChange]:
    """The case's changes since it was first published, newest first, in public terms.

    Only public fields count; what happened before publication stays internal, and so
    do changes to regions that are pending or opted out.
    """
    records = list(
        TenderCase.history.filter(id=tender.pk)
        .order_by("history_date", "history_id")
        .only("history_date", "is_publishable", *PUBLIC_TENDER_FIELDS)
    )
    if not records:
        # Rows loaded behind the history (a bulk import): published as they are.
        return [PublicChange(tender.created_at, str(_("Published on the portal")))]
    changes: list[PublicChange] = []
    published_at = None
    previous = None
    for record in records:
        if record.is_publishable and published_at is None:
            published_at = record.history_date
            changes.append(PublicChange(record.history_date, str(_("Published on the portal"))))
        elif previous is not None and previous.is_publishable and record.is_publishable:
            for text in _tender_changes(previous, record):
                changes.append(PublicChange(record.history_date, text))
        previous = record
    if published_at is not None:
        changes += _participation_changes(tender, since=published_at)
    changes.sort(key=lambda change: change.when, reverse=True)
    return changes


def _participation_changes(tender: TenderCase, *, since: dt.datetime) -> list[PublicChange]:
    """A region joining, moving between full and option, or leaving, after publication."""
    records = (
        Participation.history.filter(tender_id=tender.pk)
        .order_by("id", "history_date", "history_id")
        .only("id", "region_id", "status", "history_date", "history_type")
    )
    regions = {region.pk: region for region in Region.objects.all()}
    changes: list[PublicChange] = []
    previous_status: dict[int, str] = {}
    for record in records:
        old = previous_status.get(record.id)
        new = record.status
        previous_status[record.id] = new
        # A participation's first record is where it starts, not a change.
        if old is None or record.history_date < since or old == new:
            continue
        was_public, is_public = old in PUBLIC_PARTICIPATION, new in PUBLIC_PARTICIPATION
        region = regions.get(record.region_id)
        name = region.name if region else "–"
        if is_public:
            text = (
                _("%(region)s takes part fully")
                if new == Participation.Status.FULL
                else _("%(region)s takes part on an option")
            )
        elif was_public:
            text = _("%(region)s no longer takes part")
        else:
            continue
        changes.append(PublicChange(record.history_date, str(text % {"region": name})))
    return changes
