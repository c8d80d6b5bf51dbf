"""The registry of strategy KPIs (../shared/KPI.md): keys, units, scope and periods.

Definitions are code (how a figure is computed); targets are data (StrategyTarget rows of
a Strategy), so the next strategy sets its own without a release. Dashboards, the report
command, the API and the compute service all iterate this registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# Units: how a value is stored and shown.
RATIO = "ratio"  # a fraction 0..1 (shown as %)
DKK = "dkk"  # money in the collaboration's currency
COUNT = "count"  # a whole number
NUMBER = "number"  # a decimal number (an average)
UNITS = (RATIO, DKK, COUNT, NUMBER)

# Period kinds of a snapshot.
YEAR = "year"
QUARTER = "quarter"
MONTH = "month"
PERIOD_KINDS = (YEAR, QUARTER, MONTH)

# Scope of a KPI: figures per region, or across the collaboration.
REGION = "region"
COLLABORATION = "collaboration"

# Target comparisons.
AT_LEAST = "gte"
AT_MOST = "lte"


@dataclass(frozen=True)
class KpiDefinition:
    key: str
    label: str
    description: str
    unit: str
    scope: str
    period_kinds: tuple[str, ...]
    # True when each snapshot carries a region (every region KPI, and
    # participation_per_region, which is a collaboration figure given per region).
    per_region: bool = True
    higher_is_better: bool = True

    @property
    def is_ratio(self) -> bool:
        return self.unit == RATIO


_REGION_PERIODS = (YEAR, QUARTER, MONTH)

DEFINITIONS: tuple[KpiDefinition, ...] = (
    # Per region and period ------------------------------------------------------------
    KpiDefinition(
        "addressable_spend",
        _("Addressable spend"),
        _("Sum of the amounts of addressable ledger lines (credit notes count negative)."),
        DKK,
        REGION,
        _REGION_PERIODS,
    ),
    KpiDefinition(
        "contract_coverage_goods",
        _("Contract coverage, goods"),
        _("Spend on goods at suppliers with an active contract, of all spend on goods."),
        RATIO,
        REGION,
        _REGION_PERIODS,
    ),
    KpiDefinition(
        "contract_coverage_services",
        _("Contract coverage, services"),
        _("Spend on services at suppliers with an active contract, of all spend on services."),
        RATIO,
        REGION,
        _REGION_PERIODS,
    ),
    KpiDefinition(
        "contract_loyalty_goods",
        _("Contract loyalty, goods"),
        _("Spend on goods under an active contract covering the line's category, of all goods."),
        RATIO,
        REGION,
        _REGION_PERIODS,
    ),
    KpiDefinition(
        "contract_loyalty_services",
        _("Contract loyalty, services"),
        _(
            "Spend on services under an active contract covering the line's category, "
            "of all services."
        ),
        RATIO,
        REGION,
        _REGION_PERIODS,
    ),
    KpiDefinition(
        "compliance",
        _("Compliance"),
        _(
            "Spend under a contract covering the line's category, of the spend in categories "
            "the region has a contract for on that date."
        ),
        RATIO,
        REGION,
        _REGION_PERIODS,
    ),
    KpiDefinition(
        "spot_purchases",
        _("Spot purchases"),
        _("Transactions with a positive total at suppliers without an active contract."),
        COUNT,
        REGION,
        _REGION_PERIODS,
        higher_is_better=False,
    ),
    KpiDefinition(
        "spot_purchase_reduction",
        _("Reduction in spot purchases"),
        _("One minus spot purchases in the period divided by those of the baseline year."),
        RATIO,
        REGION,
        _REGION_PERIODS,
    ),
    KpiDefinition(
        "digital_order_share_top100",
        _("Digital orders, 100 largest suppliers"),
        _(
            "Share of the transactions with the region's 100 suppliers with most transactions "
            "that were ordered by e-order."
        ),
        RATIO,
        REGION,
        _REGION_PERIODS,
    ),
    KpiDefinition(
        "purchasing_system_share_goods",
        _("Goods bought through the purchasing system"),
        _("Spend on goods ordered through the purchasing system or by e-order, of all goods."),
        RATIO,
        REGION,
        _REGION_PERIODS,
    ),
    KpiDefinition(
        "unclassified_share",
        _("Unclassified spend"),
        _("Spend on lines without a category after mapping, of addressable spend."),
        RATIO,
        REGION,
        _REGION_PERIODS,
        higher_is_better=False,
    ),
    # Across the collaboration -----------------------------------------------------------
    KpiDefinition(
        "joint_agreement_spend",
        _("Spend on joint agreements"),
        _("Addressable spend, all regions, at suppliers with an active joint contract."),
        DKK,
        COLLABORATION,
        (YEAR,),
        per_region=False,
    ),
    KpiDefinition(
        "avg_price_reduction_joint",
        _("Average price reduction, joint tenders"),
        _("Mean price reduction over joint tenders awarded in the period with savings records."),
        RATIO,
        COLLABORATION,
        (YEAR,),
        per_region=False,
    ),
    KpiDefinition(
        "joint_service_tenders",
        _("Joint service tenders"),
        _("Joint tenders in services started in the strategy period so far."),
        COUNT,
        COLLABORATION,
        (YEAR,),
        per_region=False,
    ),
    KpiDefinition(
        "annual_savings",
        _("Annual savings"),
        _(
            "New annual savings of the strategy period: awarded savings, joint and regional, "
            "of contracts that started on or after the strategy's first day and are active "
            "in the period. Savings reached before the strategy are left out; expected "
            "savings are forecasts and do not count."
        ),
        DKK,
        COLLABORATION,
        (YEAR,),
        per_region=False,
    ),
    KpiDefinition(
        "frameworks_with_options_share",
        _("Framework agreements with options"),
        _("Share of joint framework tenders in the strategy period that carry options."),
        RATIO,
        COLLABORATION,
        (YEAR,),
        per_region=False,
    ),
    KpiDefinition(
        "regions_per_joint_tender",
        _("Regions per joint tender"),
        _("Average number of participating regions per joint tender, the lead included."),
        NUMBER,
        COLLABORATION,
        (YEAR,),
        per_region=False,
    ),
    KpiDefinition(
        "participation_per_region",
        _("Joint tenders per region"),
        _("Number of joint tenders each region takes part in (as lead or participant)."),
        COUNT,
        COLLABORATION,
        (YEAR,),
        per_region=True,
    ),
)

BY_KEY: dict[str, KpiDefinition] = {d.key: d for d in DEFINITIONS}
KEYS: tuple[str, ...] = tuple(BY_KEY)
REGION_KEYS: tuple[str, ...] = tuple(d.key for d in DEFINITIONS if d.scope == REGION)
COLLABORATION_KEYS: tuple[str, ...] = tuple(d.key for d in DEFINITIONS if d.scope == COLLABORATION)
KEY_CHOICES = [(d.key, d.label) for d in DEFINITIONS]


def get(key: str) -> KpiDefinition:
    """The definition of a key (KeyError for an unknown key)."""
    return BY_KEY[key]


# Why a figure is not available: codes stored with the snapshot, shown in the reader's
# language (KpiSnapshot.reason_display); the snapshot's ``reason`` keeps the English text.
REASONS = {
    "no_lines": _("No ledger lines for %(region)s in %(period)s."),
    "no_goods": _("No goods lines for %(region)s in %(period)s."),
    "no_services": _("No services lines for %(region)s in %(period)s."),
    "goods_not_positive": _(
        "Goods spend for %(region)s in %(period)s nets to zero or less (credit notes)."
    ),
    "services_not_positive": _(
        "Services spend for %(region)s in %(period)s nets to zero or less (credit notes)."
    ),
    "addressable_not_positive": _(
        "Addressable spend for %(region)s in %(period)s is zero or less."
    ),
    "no_covered": _(
        "No spend of %(region)s in %(period)s falls in a category it had a contract for."
    ),
    "no_channel": _(
        "The ledger extracts of %(region)s for %(period)s have no ordering-channel column."
    ),
    "no_transactions": _("No transactions for %(region)s in %(period)s."),
    "no_strategy": _("No strategy has been entered, so there is no baseline year or period."),
    "no_strategy_for_year": _(
        "No strategy is in force in %(year)s, so there is no baseline year or period."
    ),
    "no_baseline_lines": _("No ledger lines for %(region)s in the baseline period %(baseline)s."),
    "no_baseline_spot": _(
        "No spot purchases for %(region)s in the baseline period %(baseline)s to compare with."
    ),
    "no_lines_anywhere": _("No ledger lines from any region in %(period)s."),
    "no_joint_awarded": _("No joint tender awarded in %(period)s has a savings record."),
    "before_strategy": _("%(period)s is before the strategy period %(start)s–%(end)s."),
    "no_joint_frameworks": _(
        "No joint framework tender started in the strategy period by %(period)s."
    ),
    "no_savings": _("No awarded savings have been registered."),
    "no_joint_tenders": _("No joint tenders in the plan in %(period)s."),
}
