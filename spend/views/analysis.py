"""Spend in the browser: analysis pages for a region or all regions, and their exports.

Every page works on a scope, ``?region=CODE`` (or ``all``) and ``?year=YYYY``, checked
against rfi.permissions: a region's own people (and the secretariat) see the region;
chiefs, UFO members and the secretariat also see all regions added up.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from rfi import permissions
from rfi.models import Region
from spend import selectors
from spend.export import Column, Table, table_xlsx
from spend.models import MappingRule
from spend.scope import SpendScope, spend_scope

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOP_SUPPLIERS = 50
OFF_CONTRACT_ROWS = 50
UNMAPPED_ROWS = 200
# Off-contract spend by CPV digits: 2 division, 3 group (default), 4 class, 5 category.
OFF_CONTRACT_DEPTHS = (2, 3, 4, 5)
DEPTH_LABELS = {
    2: gettext_lazy("Division"),
    3: gettext_lazy("Group"),
    4: gettext_lazy("Class"),
    5: gettext_lazy("Category"),
}


def page_context(request, scope: SpendScope, **extra) -> dict:
    context = {
        "scope": scope,
        "can_manage_rules": permissions.can_manage_spend_rules(request.user),
    }
    context.update(extra)
    return context


def _export_url(scope: SpendScope, slug: str, **params) -> str:
    return f"{reverse('spend:export', kwargs={'table': slug})}?{scope.query(**params)}"


def _with_share(rows: list[dict], total, key: str = "total") -> list[dict]:
    for row in rows:
        row["share"] = selectors.share(row[key], total)
    return rows


# Tables (the pages show them, the export writes them) ----------------------------------------


def _category_rows_as_dicts(rows) -> list[dict]:
    result = []
    for row in rows:
        if row.key is None:
            label = _("Unclassified (no category after mapping)")
        elif row.unspecified:
            label = _("Not further specified")
        else:
            label = row.label
        result.append(
            {
                "code": row.code,
                "label": label,
                "total": row.total,
                "share": row.share,
                "supplier_matched_share": selectors.share(row.supplier_matched_total, row.total),
                "category_matched_share": selectors.share(row.category_matched_total, row.total),
                "count": row.count,
                # For the page, not the export: the drill-down and the candidate link.
                "key": row.key or "",
                "can_drill": row.can_drill,
                "unspecified": row.unspecified,
                "candidate_url": "",
            }
        )
    return result


CATEGORY_COLUMNS = [
    Column("code", gettext_lazy("CPV code"), "text", 12),
    Column("label", gettext_lazy("Category"), "text", 50),
    Column("total", gettext_lazy("Spend"), "money", 16),
    Column("share", gettext_lazy("Share (%)"), "share", 10),
    Column("supplier_matched_share", gettext_lazy("Supplier-matched (%)"), "share", 14),
    Column("category_matched_share", gettext_lazy("Category-matched (%)"), "share", 14),
    Column("count", gettext_lazy("Lines"), "int", 10),
]


def _categories_table(request, scope: SpendScope) -> tuple[Table, dict]:
    prefix = selectors.normalise_prefix(request.GET.get("prefix"))
    rows = selectors.spend_by_category(scope.lines(), prefix=prefix)
    caption = scope.caption() + (
        [_("Within CPV %(prefix)s") % {"prefix": prefix}] if prefix else []
    )
    table = Table(
        "categories",
        _("Spend by category"),
        CATEGORY_COLUMNS,
        _category_rows_as_dicts(rows),
        caption,
        _export_url(scope, "categories", prefix=prefix),
    )
    return table, {"prefix": prefix, "category_rows": rows}


SUPPLIER_COLUMNS = [
    Column("supplier_id", gettext_lazy("Supplier id"), "text", 14),
    Column("supplier_name", gettext_lazy("Supplier"), "text", 40),
    Column("total", gettext_lazy("Spend"), "money", 16),
    Column("share", gettext_lazy("Share (%)"), "share", 10),
    Column("supplier_matched_share", gettext_lazy("Supplier-matched (%)"), "share", 14),
    Column("category_matched_share", gettext_lazy("Category-matched (%)"), "share", 14),
    Column("count", gettext_lazy("Lines"), "int", 10),
]


def _suppliers_table(request, scope: SpendScope) -> tuple[Table, dict]:
    lines = scope.lines()
    totals = selectors.spend_totals(lines)
    rows = _with_share(selectors.spend_by_supplier(lines, limit=TOP_SUPPLIERS), totals["total"])
    for row in rows:
        row["supplier_matched_share"] = selectors.share(row["supplier_matched_total"], row["total"])
        row["category_matched_share"] = selectors.share(row["category_matched_total"], row["total"])
    table = Table(
        "suppliers",
        _("Top suppliers"),
        SUPPLIER_COLUMNS,
        rows,
        scope.caption(),
        _export_url(scope, "suppliers"),
    )
    return table, {"totals": totals}


PARETO_COLUMNS = [
    Column("measure", gettext_lazy("Measure"), "text", 40),
    Column("x", gettext_lazy("Given share (%)"), "share", 16),
    Column("y", gettext_lazy("Resulting share (%)"), "share", 18),
]


def _pareto_table(request, scope: SpendScope) -> tuple[Table, dict]:
    pareto = selectors.pareto(scope.lines())
    rows = [
        {"measure": _("Top share of suppliers → share of spend"), "x": pct, "y": value}
        for pct, value in pareto.by_supplier_share
    ] + [
        {"measure": _("Share of spend → share of suppliers needed"), "x": pct, "y": value}
        for pct, value in pareto.by_spend_share
    ]
    caption = scope.caption() + [
        _("%(count)s suppliers, ranked by spend") % {"count": pareto.suppliers}
    ]
    table = Table(
        "pareto", _("Pareto"), PARETO_COLUMNS, rows, caption, _export_url(scope, "pareto")
    )
    return table, {"pareto": pareto}


MONTH_COLUMNS = [
    Column("month", gettext_lazy("Month"), "int", 8),
    Column("total", gettext_lazy("Spend"), "money", 16),
    Column("supplier_matched_share", gettext_lazy("Supplier-matched (%)"), "share", 14),
    Column("category_matched_share", gettext_lazy("Category-matched (%)"), "share", 14),
    Column("count", gettext_lazy("Lines"), "int", 10),
]


def _months_table(request, scope: SpendScope) -> tuple[Table, dict]:
    rows = selectors.spend_by_month(scope.lines())
    total = sum((row["total"] for row in rows), selectors.ZERO)
    _with_share(rows, total)
    table = Table(
        "months",
        _("Spend by month"),
        MONTH_COLUMNS,
        rows,
        scope.caption(),
        _export_url(scope, "months"),
    )
    return table, {"total": total}


def _basis(request) -> str:
    basis = request.GET.get("basis")
    return basis if basis in selectors.OFF_CONTRACT_BASES else "supplier"


def _depth(request) -> int:
    try:
        depth = int(request.GET.get("depth") or 3)
    except ValueError:
        depth = 3
    return depth if depth in OFF_CONTRACT_DEPTHS else 3


def _basis_caption(basis: str) -> str:
    if basis == "category":
        return _("Off contract: no active contract covering the line's category")
    return _("Off contract: no active contract with the supplier")


OFF_SUPPLIER_COLUMNS = [
    Column("supplier_id", gettext_lazy("Supplier id"), "text", 14),
    Column("supplier_name", gettext_lazy("Supplier"), "text", 40),
    Column("total", gettext_lazy("Off-contract spend"), "money", 18),
    Column("share", gettext_lazy("Share (%)"), "share", 10),
    Column("invoices", gettext_lazy("Invoices"), "int", 10),
    Column("count", gettext_lazy("Lines"), "int", 10),
]


def _off_contract_suppliers_table(request, scope: SpendScope) -> tuple[Table, dict]:
    basis = _basis(request)
    lines = scope.lines()
    off_total = selectors.spend_totals(selectors.off_contract_lines(lines, basis=basis))["total"]
    rows = _with_share(
        selectors.off_contract_by_supplier(lines, basis=basis, limit=OFF_CONTRACT_ROWS), off_total
    )
    table = Table(
        "off-contract-suppliers",
        _("Off contract by supplier"),
        OFF_SUPPLIER_COLUMNS,
        rows,
        scope.caption() + [_basis_caption(basis)],
        _export_url(scope, "off-contract-suppliers", basis=basis),
    )
    return table, {"basis": basis, "off_total": off_total}


OFF_CATEGORY_COLUMNS = [
    Column("code", gettext_lazy("CPV code"), "text", 12),
    Column("label", gettext_lazy("Category"), "text", 50),
    Column("total", gettext_lazy("Off-contract spend"), "money", 18),
    Column("share", gettext_lazy("Share (%)"), "share", 10),
    Column("count", gettext_lazy("Lines"), "int", 10),
]


def _off_contract_categories_table(request, scope: SpendScope) -> tuple[Table, dict]:
    basis = _basis(request)
    depth = _depth(request)
    lines = scope.lines()
    off_total = selectors.spend_totals(selectors.off_contract_lines(lines, basis=basis))["total"]
    rows = selectors.off_contract_by_category(
        lines, basis=basis, depth=depth, limit=OFF_CONTRACT_ROWS
    )
    for row in rows:
        row.share = selectors.share(row.total, off_total)
    table = Table(
        "off-contract-categories",
        _("Off contract by category"),
        OFF_CATEGORY_COLUMNS,
        _category_rows_as_dicts(rows),
        scope.caption() + [_basis_caption(basis), str(DEPTH_LABELS[depth])],
        _export_url(scope, "off-contract-categories", basis=basis, depth=depth),
    )
    return table, {"category_rows": rows, "depth": depth}


SMALL_COLUMNS = [
    Column("band", gettext_lazy("Transaction total"), "text", 24),
    Column("count", gettext_lazy("Transactions"), "int", 14),
    Column("count_share", gettext_lazy("Share of transactions (%)"), "share", 16),
    Column("spend", gettext_lazy("Spend"), "money", 16),
]


def band_label(low, high) -> str:
    def fmt(value) -> str:
        return number_format(value, decimal_pos=0, force_grouping=True)

    if low is None:
        return _("0 or less (credit notes)")
    if high is None:
        return _("%(low)s or more") % {"low": fmt(low)}
    if low == 0:
        return _("above 0, under %(high)s") % {"high": fmt(high)}
    return _("%(low)s to under %(high)s") % {"low": fmt(low), "high": fmt(high)}


def _small_invoices_table(request, scope: SpendScope) -> tuple[Table, dict]:
    figures = selectors.small_invoices(scope.lines())
    rows = [dict(band, band=band_label(band["low"], band["high"])) for band in figures["bands"]]
    table = Table(
        "small-invoices",
        _("Transactions by size"),
        SMALL_COLUMNS,
        rows,
        scope.caption() + [_("A transaction is one supplier id and invoice number in a region.")],
        _export_url(scope, "small-invoices"),
    )
    return table, {"figures": figures}


UNMAPPED_COLUMNS = [
    Column("region", gettext_lazy("Region"), "text", 8),
    Column("account", gettext_lazy("Account"), "text", 12),
    Column("cost_centre", gettext_lazy("Cost centre"), "text", 14),
    Column("supplier_id", gettext_lazy("Supplier id"), "text", 14),
    Column("supplier_name", gettext_lazy("Supplier"), "text", 40),
    Column("total", gettext_lazy("Spend"), "money", 16),
    Column("share", gettext_lazy("Share (%)"), "share", 10),
    Column("count", gettext_lazy("Lines"), "int", 10),
]


def _unmapped_table(request, scope: SpendScope) -> tuple[Table, dict]:
    lines = scope.lines()
    totals = selectors.spend_totals(lines)
    codes = dict(Region.objects.values_list("pk", "code"))
    rows = _with_share(selectors.unmapped_spend(lines, limit=UNMAPPED_ROWS), totals["total"])
    for row in rows:
        row["region"] = codes.get(row["region_id"], "")
    table = Table(
        "unmapped",
        _("Unmapped spend"),
        UNMAPPED_COLUMNS,
        rows,
        scope.caption(),
        _export_url(scope, "unmapped"),
    )
    return table, {"totals": totals}


TABLES = {
    "categories": _categories_table,
    "suppliers": _suppliers_table,
    "pareto": _pareto_table,
    "months": _months_table,
    "off-contract-suppliers": _off_contract_suppliers_table,
    "off-contract-categories": _off_contract_categories_table,
    "small-invoices": _small_invoices_table,
    "unmapped": _unmapped_table,
}


# Analysis pages ----------------------------------------------------------------------------------


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def index(request):
    """Spend by category tree, drilled down by ``?prefix=`` (division → group → class …)."""
    scope = spend_scope(request)
    table, extra = _categories_table(request, scope)
    lines = scope.lines()
    context = page_context(
        request,
        scope,
        table=table,
        totals=selectors.spend_totals(lines),
        excluded=selectors.excluded_total(region=scope.region, year=scope.year),
        path=selectors.category_path(extra["prefix"]) if extra["prefix"] else [],
        keep=[("prefix", extra["prefix"])] if extra["prefix"] else [],
        **extra,
    )
    return render(request, "spend/index.html", context)


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def suppliers(request):
    scope = spend_scope(request)
    table, extra = _suppliers_table(request, scope)
    pareto_table, pareto_extra = _pareto_table(request, scope)
    ticks = [{"pos": pos, "y": 100 - pos} for pos in (0, 20, 40, 60, 80, 100)]
    context = page_context(
        request,
        scope,
        table=table,
        pareto_table=pareto_table,
        ticks=ticks,
        **extra,
        **pareto_extra,
    )
    return render(request, "spend/suppliers.html", context)


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def months(request):
    scope = spend_scope(request)
    table, extra = _months_table(request, scope)
    return render(request, "spend/months.html", page_context(request, scope, table=table, **extra))


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def off_contract(request):
    """Spend without an active contract, by supplier and by category: leads for new tenders."""
    scope = spend_scope(request)
    supplier_table, extra = _off_contract_suppliers_table(request, scope)
    category_table, category_extra = _off_contract_categories_table(request, scope)
    can_propose = permissions.can_propose_candidate(request.user)
    candidate_url = reverse("tenders:candidate_create")
    for row in category_table.rows:
        if can_propose and row["key"] and not row["unspecified"]:
            row["candidate_url"] = f"{candidate_url}?{urlencode({'category': row['code']})}"
    context = page_context(
        request,
        scope,
        supplier_table=supplier_table,
        category_table=category_table,
        depths=[(depth, DEPTH_LABELS[depth]) for depth in OFF_CONTRACT_DEPTHS],
        keep=[("basis", extra["basis"]), ("depth", category_extra["depth"])],
        **extra,
        **category_extra,
    )
    return render(request, "spend/off_contract.html", context)


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def small_invoices(request):
    scope = spend_scope(request)
    table, extra = _small_invoices_table(request, scope)
    return render(
        request, "spend/small_invoices.html", page_context(request, scope, table=table, **extra)
    )


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def unmapped(request):
    """Unmapped spend by account, cost centre and supplier, with links to write the rule."""
    scope = spend_scope(request)
    table, extra = _unmapped_table(request, scope)
    regions = {r.pk: r for r in Region.objects.all()}
    create_url = reverse("spend:mapping_rule_create")
    for row in table.rows:
        region = regions.get(row["region_id"])
        row["rule_links"] = []
        if not permissions.can_edit_spend_rules(request.user, region):
            continue
        base = {"region": region.code if region else ""}
        for kind, label, fields in (
            (MappingRule.Kind.ACCOUNT_RANGE, _("account"), {"account_from": row["account"]}),
            (
                MappingRule.Kind.ACCOUNT_COST_CENTRE,
                _("account + cost centre"),
                {"account_from": row["account"], "cost_centre": row["cost_centre"]},
            ),
            (MappingRule.Kind.SUPPLIER, _("supplier"), {"supplier_id": row["supplier_id"]}),
        ):
            if all(fields.values()):
                query = urlencode({**base, "kind": kind, **fields})
                row["rule_links"].append((label, f"{create_url}?{query}"))
    return render(
        request, "spend/unmapped.html", page_context(request, scope, table=table, **extra)
    )


@require_GET
@permissions.require(permissions.can_view_internal_pages)
def export(request, table: str):
    """Any table of the pages as .xlsx, for the same region, year and filters."""
    builder = TABLES.get(table)
    if builder is None:
        raise Http404
    scope = spend_scope(request)
    built, _extra = builder(request, scope)
    response = HttpResponse(table_xlsx(built), content_type=XLSX)
    filename = f"forbrug-{table}-{scope.region_value}-{scope.year}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
