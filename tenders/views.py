"""The joint tender plan in the browser: overview, cases, follow-or-explain, reports."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import ForeignKey
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from rfi import permissions
from rfi.forms import DateInput, apply_service_errors
from rfi.models import Category, Membership, PartnerBody, Region
from suppliers import selectors as supplier_selectors
from tenders import selectors, services
from tenders.forms import OptionExerciseForm, ParticipationForm, TenderCaseForm
from tenders.models import OptOutReason, Participation, PlanSettings, TenderCase

PAGE_SIZE = 50
# Column header → the TenderFilter ordering key it sorts by.
SORTABLE_COLUMNS = ("reference", "title", "status", "start", "contract_end", "value")
BADGE_SYMBOLS = {
    Participation.Status.FULL: "✓",
    Participation.Status.OPTION: "opt.",
    Participation.Status.OPTED_OUT: "÷",
    Participation.Status.PENDING: "?",
}


def _tender(reference: str) -> TenderCase:
    return get_object_or_404(selectors.tender_list(), reference=reference)


# The overview ------------------------------------------------------------------------------


@dataclass
class Badge:
    region: Region
    participation: Participation | None

    @property
    def status(self) -> str:
        return self.participation.status if self.participation else ""

    @property
    def symbol(self) -> str:
        return BADGE_SYMBOLS.get(self.status, "–")

    @property
    def label(self) -> str:
        if self.participation is None:
            return _("not asked")
        return self.participation.get_status_display()


def _sort_links(request) -> dict[str, dict]:
    """Each sortable column's link (ascending first, then descending) and its aria-sort."""
    current = request.GET.get("ordering", "")
    links = {}
    for key in SORTABLE_COLUMNS:
        if current == key:
            next_key, sort = f"-{key}", "ascending"
        elif current == f"-{key}":
            next_key, sort = key, "descending"
        else:
            next_key, sort = key, ""
        query = request.GET.copy()
        query.pop("page", None)
        query["ordering"] = next_key
        links[key] = {"url": f"?{query.urlencode()}", "sort": sort}
    return links


@permissions.require(permissions.can_view_internal_pages)
def index(request):
    tender_filter = selectors.TenderFilter(request.GET or None, queryset=selectors.tender_list())
    tenders = tender_filter.qs
    page = Paginator(tenders, PAGE_SIZE).get_page(request.GET.get("page"))
    regions = list(Region.objects.filter(active=True))
    grid = selectors.participation_grid([t.pk for t in page.object_list])
    rows = [
        {"tender": tender, "badges": [Badge(r, grid[tender.pk].get(r.code)) for r in regions]}
        for tender in page.object_list
    ]
    context = {
        "filter": tender_filter,
        "page": page,
        "rows": rows,
        "regions": regions,
        "statuses": TenderCase.Status.choices,
        "areas": TenderCase.Area.choices,
        "kinds": TenderCase.Kind.choices,
        "chosen_statuses": request.GET.getlist("status"),
        "sort": _sort_links(request),
        "export_query": request.GET.urlencode(),
        "legend": [(symbol, Participation.Status(s).label) for s, symbol in BADGE_SYMBOLS.items()],
        "can_create": permissions.can_create_tender(request.user),
        "can_import": permissions.can_import_plan(request.user),
    }
    return render(request, "tenders/index.html", context)


# Creating and editing a case ------------------------------------------------------------------


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _category_label(request):
    """htmx: the label of the CPV code typed so far."""
    field = TenderCaseForm.base_fields["category"]
    try:
        category = field.clean(request.GET.get("category", ""))
        error = None
    except ValidationError as exc:
        category, error = None, " ".join(exc.messages)
    return render(
        request, "tenders/_category_label.html", {"category": category, "category_error": error}
    )


@permissions.require(permissions.can_create_tender)
def tender_create(request):
    if _is_htmx(request) and "category" in request.GET:
        return _category_label(request)
    form = TenderCaseForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            tender = services.tender_create(actor=request.user, **form.service_fields())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The tender case %(reference)s has been created; every region is pending.")
                % {"reference": tender.reference},
            )
            return redirect("tenders:detail", reference=tender.reference)
    return render(request, "tenders/tender_form.html", {"form": form, "tender": None})


@permissions.require(permissions.can_view_internal_pages)
def tender_edit(request, reference: str):
    tender = _tender(reference)
    if not permissions.can_edit_tender(request.user, tender):
        raise PermissionDenied
    if _is_htmx(request) and "category" in request.GET:
        return _category_label(request)
    # The form changes its own copy, so a refused change leaves the page's heading as it was.
    form = TenderCaseForm(request.POST or None, instance=_tender(reference), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.tender_update(
                tender=form.instance, actor=request.user, **form.service_fields()
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The tender case %(reference)s has been saved.") % {"reference": reference},
            )
            return redirect("tenders:detail", reference=reference)
    return render(request, "tenders/tender_form.html", {"form": form, "tender": tender})


# The case page ---------------------------------------------------------------------------------


@dataclass
class HistoryEntry:
    when: dt.datetime
    who: object
    subject: str
    action: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)


class _Display:
    """Turns raw history values (ids, codes, dates) into what a reader understands."""

    FOREIGN_MODELS = {
        "category": Category,
        "lead_region": Region,
        "lead_partner": PartnerBody,
        "region": Region,
        "opt_out_reason": OptOutReason,
        "decided_by": get_user_model(),
    }

    def __init__(self, records):
        wanted = defaultdict(set)
        for record in records:
            for name in self.FOREIGN_MODELS:
                value = getattr(record, f"{name}_id", None)
                if value is not None:
                    wanted[name].add(value)
        self.objects = {
            name: self.FOREIGN_MODELS[name].objects.in_bulk(ids) for name, ids in wanted.items()
        }

    def __call__(self, model, name: str, value) -> str:
        if value in (None, ""):
            return "–"
        model_field = model._meta.get_field(name)
        if isinstance(model_field, ForeignKey):
            obj = self.objects.get(name, {}).get(value)
            if obj is None:
                return f"#{value}"
            return str(obj.get_username() if hasattr(obj, "get_username") else obj)
        if model_field.choices:
            return str(dict(model_field.flatchoices).get(value, value))
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, dt.datetime):
            return formats.date_format(value, "SHORT_DATETIME_FORMAT")
        if isinstance(value, dt.date):
            return formats.date_format(value, "SHORT_DATE_FORMAT")
        if isinstance(value, Decimal):
            return formats.number_format(value, decimal_pos=2, force_grouping=True)
        return str(value)


HISTORY_HIDDEN_FIELDS = {"decided_at"}  # the entry's own time says when


def _changes(model, record, previous, display) -> list[tuple[str, str, str]]:
    """(field label, old, new) for what ``record`` changed, in the model's field order."""
    if previous is None:
        return []
    order = [f.name for f in model._meta.fields]
    changed = sorted(
        (c for c in record.diff_against(previous).changes if c.field not in HISTORY_HIDDEN_FIELDS),
        key=lambda change: order.index(change.field),
    )
    return [
        (
            str(model._meta.get_field(c.field).verbose_name),
            display(model, c.field, c.old),
            display(model, c.field, c.new),
        )
        for c in changed
    ]


def _history(tender: TenderCase) -> list[HistoryEntry]:
    """The case's and its participations' history, newest first, each change old → new."""
    tender_records = list(tender.history.select_related("history_user").order_by("history_date"))
    participation_records = list(
        Participation.history.filter(tender_id=tender.pk)
        .select_related("history_user")
        .order_by("history_date")
    )
    display = _Display(tender_records + participation_records)
    region_codes = dict(Region.objects.values_list("pk", "code"))
    # One stream per object, oldest first, so each record is compared with the one before it.
    streams: dict[tuple[type, int], list] = defaultdict(list)
    for record in tender_records:
        streams[(TenderCase, record.id)].append(record)
    for record in participation_records:
        streams[(Participation, record.id)].append(record)
    actions = {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}
    entries = []
    for (model, _pk), records in streams.items():
        previous = None
        for record in records:
            if model is TenderCase:
                subject = _("Tender case")
            else:
                subject = _("Participation %(region)s") % {"region": region_codes[record.region_id]}
            automatic = (
                model is Participation
                and record.history_type == "+"
                and record.status == Participation.Status.PENDING
            )
            # Every region starts pending when the case is created; the case's entry says so.
            if not automatic:
                entries.append(
                    HistoryEntry(
                        when=record.history_date,
                        who=record.history_user,
                        subject=subject,
                        action=actions[record.history_type],
                        changes=_changes(model, record, previous, display)
                        if record.history_type == "~"
                        else [],
                    )
                )
            previous = record
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries


@permissions.require(permissions.can_view_internal_pages)
def detail(request, reference: str):
    tender = _tender(reference)
    participations = list(
        tender.participations.select_related("region", "opt_out_reason", "decided_by")
    )
    rows = [
        {
            "participation": p,
            "can_set": permissions.can_set_participation(request.user, p),
            "exercise_form": OptionExerciseForm(prefix=p.region.code),
        }
        for p in participations
    ]
    participants_value = sum(
        (p.estimated_annual_value or Decimal("0") for p in participations if p.takes_part),
        Decimal("0"),
    )
    # Each region's own contract after the award: suppliers' selector, read only (a view
    # may read a higher app's selector, docs/architecture.md).
    regional_rows = supplier_selectors.regional_contracts(tender=tender, user=request.user)
    context = {
        "tender": tender,
        "rows": rows,
        "regional_contracts": regional_rows,
        "unsigned_too_long": sum(1 for row in regional_rows if row.unsigned_too_long),
        "option_joins": [row for row in regional_rows if row.participation_status == "option"],
        "can_award": permissions.can_edit_tender(request.user, tender)
        and not regional_rows
        and tender.status != TenderCase.Status.CANCELLED,
        "today": timezone.localdate(),
        "participants_value": participants_value,
        "can_edit": permissions.can_edit_tender(request.user, tender),
        "can_view_notes": permissions.can_view_internal_notes(request.user, tender),
        "history": _history(tender),
        # Overdue only while a region still owes its decision.
        "decision_overdue": bool(
            tender.decision_deadline
            and tender.decision_deadline < timezone.localdate()
            and any(p.status == Participation.Status.PENDING for p in participations)
        ),
    }
    return render(request, "tenders/detail.html", context)


# Follow or explain -----------------------------------------------------------------------------


def _participation(reference: str, region_code: str) -> Participation:
    return get_object_or_404(
        Participation.objects.select_related("tender", "region", "opt_out_reason"),
        tender__reference=reference,
        region__code=region_code,
    )


def _preview_initial(data, participation: Participation) -> dict:
    """The form's values as the user has chosen them so far (htmx or the no-JS buttons)."""
    initial = ParticipationForm.initial_for(participation)
    for name in initial:
        if name in data:
            initial[name] = data.get(name)
    if data.get("apply_proposal"):
        initial["status"] = Participation.Status.OPTION
        initial["option_expected_join"] = data.get("existing_contract_end") or ""
    return initial


def _chosen_reason(form) -> OptOutReason | None:
    value = form["opt_out_reason"].value()
    if isinstance(value, OptOutReason):
        return value
    if not value or not str(value).isdigit():
        return None
    return OptOutReason.objects.filter(pk=value).first()


def _chosen_date(form, name: str) -> dt.date | None:
    value = form[name].value()
    if isinstance(value, dt.date):
        return value
    try:
        return form.fields[name].clean(value)
    except ValidationError:
        return None


@permissions.require(permissions.can_view_internal_pages)
def participation_edit(request, reference: str, region_code: str):
    participation = _participation(reference, region_code)
    if not permissions.can_set_participation(request.user, participation):
        raise PermissionDenied
    settings = PlanSettings.current()
    form_kwargs = {
        "participation": participation,
        "min_length": settings.min_justification_length,
        "refresh_url": request.path,
    }
    # Without JavaScript the "update" and "use the proposal" buttons post; they only re-render.
    previewing = request.method == "POST" and (
        "refresh" in request.POST or "apply_proposal" in request.POST
    )
    if request.method == "POST" and not previewing:
        form = ParticipationForm(request.POST, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.participation_decide(
                    participation=participation,
                    actor=request.user,
                    status=data["status"],
                    reason=data["opt_out_reason"],
                    justification=data["justification"],
                    existing_contract_end=data["existing_contract_end"],
                    option_expected_join=data["option_expected_join"],
                    estimated_annual_value=data["estimated_annual_value"],
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("The participation of %(region)s has been saved.")
                    % {"region": participation.region.name},
                )
                return redirect("tenders:detail", reference=reference)
    else:
        data = request.POST if previewing else request.GET
        form = ParticipationForm(initial=_preview_initial(data, participation), **form_kwargs)
    reason = _chosen_reason(form)
    contract_end = _chosen_date(form, "existing_contract_end")
    proposal = services.participation_proposal(
        participation=participation, reason=reason, existing_contract_end=contract_end
    )
    context = {
        "form": form,
        "participation": participation,
        "tender": participation.tender,
        "reason": reason,
        "asks_contract_end": bool(reason and reason.asks_contract_end),
        "proposal": proposal,
        "contract_end": contract_end,
        "min_length": settings.min_justification_length,
    }
    if _is_htmx(request) and request.method == "GET":
        return render(request, "tenders/_participation_form.html", context)
    return render(request, "tenders/participation_form.html", context)


@require_POST
@permissions.require(permissions.can_view_internal_pages)
def option_exercise(request, reference: str, region_code: str):
    participation = _participation(reference, region_code)
    if not permissions.can_set_participation(request.user, participation):
        raise PermissionDenied
    form = OptionExerciseForm(request.POST, prefix=region_code)
    if not form.is_valid():
        messages.error(request, _("Give the date the option was exercised."))
        return redirect("tenders:detail", reference=reference)
    try:
        services.participation_exercise_option(
            participation=participation,
            actor=request.user,
            exercised_on=form.cleaned_data["exercised_on"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(region)s has exercised its option on %(date)s.")
            % {
                "region": participation.region.name,
                "date": formats.date_format(form.cleaned_data["exercised_on"], "SHORT_DATE_FORMAT"),
            },
        )
    return redirect("tenders:detail", reference=reference)


# Reports -------------------------------------------------------------------------------------


@permissions.require(permissions.can_view_internal_pages)
def outstanding(request):
    """Cases waiting for a decision, most urgent first; the user's own region by default.

    ``?region=`` (empty, "All regions") shows every region.
    """
    regions = list(Region.objects.filter(active=True))
    if "region" in request.GET:
        chosen = next((r for r in regions if r.code == request.GET["region"]), None)
    else:
        chosen = _own_region(request.user, regions)
    today = timezone.localdate()
    cases = sorted(
        selectors.outstanding_explanations(region=chosen, today=today),
        key=lambda case: (_urgency(case.tender.decision_deadline, today), case.tender.reference),
    )
    context = {
        "cases": [
            {
                "case": case,
                "percent": round(case.response_rate * 100),
            }
            for case in cases
        ],
        "regions": regions,
        "chosen": chosen,
    }
    return render(request, "tenders/outstanding.html", context)


def _urgency(deadline: dt.date | None, today: dt.date) -> tuple:
    """Overdue first (the oldest deadline first), then the nearest deadline, then none."""
    if deadline is None:
        return (2, dt.date.max)
    return (0 if deadline < today else 1, deadline)


def _own_region(user, regions: list[Region]) -> Region | None:
    """The region where the user is an officer, else any region where they hold a role."""
    for role in (Membership.Role.OFFICER, Membership.Role.CHIEF, Membership.Role.UFO):
        ids = permissions.regions_with_role(user, role)
        own = [region for region in regions if region.pk in ids]
        if own:
            return own[0]
    return None


@permissions.require(permissions.can_view_internal_pages)
def options(request):
    uptake = selectors.option_uptake()
    frameworks = [
        {"tender": tender, "holders": holders} for tender, holders in uptake["tenders"].items()
    ]
    shares = [{**share, "percent": _percent(share["share"])} for share in uptake["shares"]]
    return render(request, "tenders/options.html", {"frameworks": frameworks, "shares": shares})


def _percent(fraction) -> str:
    if fraction is None:
        return "–"
    return f"{formats.number_format(round(fraction * 100))} %"


class StatusAsOfForm(forms.Form):
    """The status report's date: today's plan, or the plan as it stood on a past day."""

    as_of = forms.DateField(
        label=gettext_lazy("The plan as it stood on"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy("Leave empty for today's plan."),
    )

    def clean_as_of(self):
        value = self.cleaned_data["as_of"]
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("Choose today or a day in the past."))
        return value


@permissions.require(permissions.can_view_internal_pages)
def status_report(request):
    form = StatusAsOfForm(request.GET or None)
    as_of = form.cleaned_data["as_of"] if form.is_bound and form.is_valid() else None
    report = selectors.status_report(as_of=as_of)
    phases = (
        ("upcoming_current", _("Upcoming and current")),
        ("in_contract", _("In contract period")),
    )
    areas = TenderCase.Area.choices
    rows = []
    area_totals = {area: {"tenders": 0, "annual_value": Decimal("0")} for area, _label in areas}
    for phase, label in phases:
        cells = [report["cells"][f"{phase}.{area}"] for area, _label in areas]
        for (area, _label), cell in zip(areas, cells, strict=True):
            area_totals[area]["tenders"] += cell["tenders"]
            area_totals[area]["annual_value"] += cell["annual_value"]
        rows.append(
            {
                "label": label,
                "cells": cells,
                "tenders": sum(c["tenders"] for c in cells),
                "annual_value": sum((c["annual_value"] for c in cells), Decimal("0")),
            }
        )
    regions = list(Region.objects.filter(active=True))
    context = {
        "form": form,
        "as_of": as_of,
        "report": report,
        "areas": areas,
        "rows": rows,
        "area_totals": [area_totals[area] for area, _label in areas],
        "per_region": [(r, report["per_region"].get(r.code, 0)) for r in regions],
    }
    return render(request, "tenders/status_report.html", context)


@permissions.require(permissions.can_view_internal_pages)
def region(request, code: str):
    chosen = get_object_or_404(Region, code=code)
    overview = selectors.region_overview(region=chosen)
    today = timezone.localdate()
    overview["pending"] = sorted(
        overview["pending"],
        key=lambda p: (_urgency(p.tender.decision_deadline, today), p.tender.reference),
    )
    context = {
        "region": chosen,
        "overview": overview,
        "can_set": permissions.can_set_participation(request.user, Participation(region=chosen)),
        "today": today,
    }
    return render(request, "tenders/region.html", context)
