"""Category mapping, exclusion and contract matching of ledger lines, set-based.

Everything here is a handful of UPDATE statements over the lines of one import batch
(after a load) or of a region's current batches (after a rule or contract change):
one statement per rule, in rule order, never a Python loop over lines. The same SQL
runs on SQLite and PostgreSQL.

The rules (docs/spend.md "Mapping and matching"):

- A line keeps its own ``category_code`` when it is a CPV code in the category tree:
  8 digits, or 7 digits whose leading zero a spreadsheet dropped (``3111000`` is read
  as ``03111000``).
- Otherwise the first matching active MappingRule wins, in the order (priority,
  region rule before collaboration-wide rule, id). Kinds: account range, account
  (range) and cost centre, supplier id.
- Accounts compare numerically when both the line's account and the rule's bound are
  digits (``0400`` = ``400`` < ``1000``), else as text.
- An active ExclusionRule marks a line not addressable (``is_excluded``): by account
  range, or by a CPV prefix of the mapped category.
- ``supplier_matched``: an active contract of the line's region with the line's
  supplier id exists on the posting date (start and end inclusive, end including an
  exercised extension). ``category_matched``: such a contract exists whose category
  covers the line's category (its CPV code without trailing zeros, at least the
  division, is a prefix of the line's code). EXISTS semi-joins: overlapping contracts
  never count a line twice.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Collate, Concat, LPad, Right, Substr
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual

from rfi.cpv import significant_prefix
from rfi.models import Category, Region
from rfi.tasks import enqueue_on_commit
from spend import signals
from spend.models import ExclusionRule, ImportBatch, LedgerLine, MappingRule
from suppliers.models import Contract

logger = logging.getLogger(__name__)

DIGITS = r"^[0-9]+$"
# A contract's category covers codes starting with its significant digits (2 to 8).
CPV_PREFIX_MIN, CPV_PREFIX_MAX = 2, 8
# Width of the zero-padded key that makes digit strings compare numerically as text.
ACCOUNT_KEY_WIDTH = 20


# Scope -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The lines one run works on: some batches, all of one region."""

    region_id: int
    batch_ids: tuple[int, ...]

    def lines(self) -> QuerySet[LedgerLine]:
        return LedgerLine.objects.filter(batch_id__in=self.batch_ids)


def current_batch_ids(region: Region | int) -> tuple[int, ...]:
    region_id = region if isinstance(region, int) else region.pk
    ids = ImportBatch.objects.filter(region_id=region_id, is_current=True).values_list(
        "pk", flat=True
    )
    return tuple(ids.order_by("pk"))


def _scopes(*, batch: ImportBatch | None = None, region: Region | None = None) -> list[Scope]:
    """One batch; or a region's current batches; or (neither) every region's."""
    if batch is not None:
        return [Scope(batch.region_id, (batch.pk,))]
    region_ids = (
        [region.pk]
        if region is not None
        else ImportBatch.objects.filter(is_current=True)
        .values_list("region_id", flat=True)
        .distinct()
        .order_by("region_id")
    )
    scopes = []
    for region_id in region_ids:
        batch_ids = current_batch_ids(region_id)
        if batch_ids:
            scopes.append(Scope(region_id, batch_ids))
    return scopes


# Accounts ----------------------------------------------------------------------------------


def account_key(value: str) -> str:
    """A digits-only account as a fixed-width text that sorts like the number."""
    return value.lstrip("0").rjust(ACCOUNT_KEY_WIDTH, "0")


def _account_key_expression():
    stripped = Func(F("account"), Value("0"), function="LTRIM", output_field=CharField())
    return LPad(stripped, ACCOUNT_KEY_WIDTH, Value("0"))


def _account_text():
    # Text order is byte order everywhere (SQLite's BINARY, PostgreSQL's "C", Arrow), so
    # "A-100" sorts the same whatever the database's collation.
    if connection.vendor == "postgresql":
        return Collate(F("account"), "C")
    return F("account")


def _is_digits(value: str) -> bool:
    return bool(value) and value.isascii() and value.isdigit()


NOTHING = Q(pk__in=[])


def account_range_q(account_from: str, account_to: str = "") -> Q:
    """Lines whose account lies in [from, to] (to blank: the single account ``from``).

    Built from lookups on expressions, not annotations, so the same condition serves
    in WHERE and inside the CASE of an UPDATE.
    """
    low = (account_from or "").strip()
    high = (account_to or "").strip() or low
    if not low:
        return NOTHING
    account = _account_text()
    text = Q(GreaterThanOrEqual(account, Value(low))) & Q(LessThanOrEqual(account, Value(high)))
    if not (_is_digits(low) and _is_digits(high)):
        return text
    key = _account_key_expression()
    numeric = (
        Q(account__regex=DIGITS)
        & Q(GreaterThanOrEqual(key, Value(account_key(low))))
        & Q(LessThanOrEqual(key, Value(account_key(high))))
    )
    return numeric | (~Q(account__regex=DIGITS) & text)


# Rules -------------------------------------------------------------------------------------


def rules_for_region(region_id: int) -> list[MappingRule]:
    """The active mapping rules that apply to a region, in the order they are tried."""
    rules = MappingRule.objects.filter(Q(region_id=region_id) | Q(region__isnull=True))
    rules = list(rules.filter(active=True))
    # At equal priority the region's own rule is more specific than a collaboration-wide one.
    rules.sort(key=lambda rule: (rule.priority, rule.region_id is None, rule.pk))
    return rules


def exclusion_rules_for_region(region_id: int) -> list[ExclusionRule]:
    rules = ExclusionRule.objects.filter(Q(region_id=region_id) | Q(region__isnull=True))
    return list(rules.filter(active=True).order_by("pk"))


def mapping_rule_q(rule: MappingRule) -> Q:
    """The lines a mapping rule matches."""
    if rule.kind == MappingRule.Kind.ACCOUNT_RANGE:
        return account_range_q(rule.account_from, rule.account_to)
    if rule.kind == MappingRule.Kind.ACCOUNT_COST_CENTRE:
        if not rule.cost_centre.strip():
            return NOTHING
        return account_range_q(rule.account_from, rule.account_to) & Q(
            cost_centre=rule.cost_centre.strip()
        )
    if rule.kind == MappingRule.Kind.SUPPLIER:
        if not rule.supplier_id.strip():
            return NOTHING
        return Q(supplier_id=rule.supplier_id.strip())
    return NOTHING


def exclusion_rule_q(rule: ExclusionRule) -> Q:
    """The lines an exclusion rule matches (by account, or by the mapped category)."""
    if rule.kind == ExclusionRule.Kind.ACCOUNT_RANGE:
        return account_range_q(rule.account_from, rule.account_to)
    if rule.kind == ExclusionRule.Kind.CATEGORY:
        prefix = rule.category_prefix.strip()
        if not _is_digits(prefix):
            return NOTHING
        # A semi-join on the tree rather than a join: an UPDATE cannot join.
        return Q(category_id__in=Category.objects.filter(code__startswith=prefix).values("pk"))
    return NOTHING


# Mapping -----------------------------------------------------------------------------------


@dataclass
class MapResult:
    lines: int = 0
    mapped: int = 0
    unmapped: int = 0
    excluded: int = 0

    def add(self, other: MapResult) -> None:
        for name in ("lines", "mapped", "unmapped", "excluded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def own_category_expression():
    """The category of the line's own code: 8 digits, or 7 with the leading zero dropped."""
    # RIGHT('0' || code, 8) is the code itself for 8 characters and the zero-padded
    # code for 7; anything shorter or longer cannot equal an 8-digit CPV code.
    code = Right(Concat(Value("0"), OuterRef("category_code"), output_field=CharField()), 8)
    return Subquery(Category.objects.filter(code=code).order_by().values("pk")[:1])


def mapped_category_expression(rules: list[MappingRule]):
    """The line's own valid code, else the first matching rule's category, else NULL."""
    own = own_category_expression()
    if not rules:
        return own
    by_rule = Case(
        *[When(mapping_rule_q(rule), then=Value(rule.category_id)) for rule in rules],
        default=None,
        output_field=IntegerField(),
    )
    return Coalesce(own, by_rule, output_field=IntegerField())


def _map_scope(scope: Scope, *, fresh: bool) -> MapResult:
    lines = scope.lines()
    rules = rules_for_region(scope.region_id)
    # One statement for all rules: a CASE tries them in order, so each line gets the
    # first match, and the lines are read once however many rules there are.
    lines.update(category_id=mapped_category_expression(rules))
    exclusions = exclusion_rules_for_region(scope.region_id)
    if exclusions:
        excluded = Q()
        for rule in exclusions:
            excluded |= exclusion_rule_q(rule)
        if not fresh:
            lines.filter(is_excluded=True).exclude(excluded).update(is_excluded=False)
        lines.filter(is_excluded=False).filter(excluded).update(is_excluded=True)
    elif not fresh:
        lines.filter(is_excluded=True).update(is_excluded=False)
    counts = lines.aggregate(
        lines=Count("pk"),
        mapped=Count("pk", filter=Q(category_id__isnull=False)),
        excluded=Count("pk", filter=Q(is_excluded=True)),
    )
    return MapResult(
        lines=counts["lines"],
        mapped=counts["mapped"],
        unmapped=counts["lines"] - counts["mapped"],
        excluded=counts["excluded"],
    )


def lines_map(
    *, batch: ImportBatch | None = None, region: Region | None = None, fresh: bool = False
) -> MapResult:
    """Set each line's category and exclusion flag from its own code and the rules.

    ``batch``: that batch's lines (current or not yet); ``region``: the region's current
    batches; neither: every region's current batches. ``fresh``: the lines were just
    loaded (nothing mapped or flagged yet), which saves the statements that undo.
    """
    total = MapResult()
    with transaction.atomic():
        for scope in _scopes(batch=batch, region=region):
            total.add(_map_scope(scope, fresh=fresh))
    return total


# Matching ----------------------------------------------------------------------------------


def _active_contracts():
    """Contracts active for the outer line: its region and supplier, on its posting date."""
    return (
        Contract.objects.filter(
            region_id=OuterRef("region_id"),
            supplier__identifier=OuterRef("supplier_id"),
            start_date__lte=OuterRef("posting_date"),
        )
        .alias(effective_end=Coalesce("extended_until", "end_date"))
        .filter(effective_end__gte=OuterRef("posting_date"))
    )


def contract_category_prefix(code_field: str = "category__code"):
    """The significant digits of a CPV code: trailing zeros removed, the division kept."""
    rest = Func(Substr(code_field, 3), Value("0"), function="RTRIM", output_field=CharField())
    return Concat(Substr(code_field, 1, 2), rest, output_field=CharField())


def _covering_contracts():
    """Active contracts whose category covers the outer line's category."""
    line_category = Category.objects.filter(
        pk=OuterRef(OuterRef("category_id")),
        code__startswith=OuterRef("covering_prefix"),
    )
    return (
        _active_contracts()
        .filter(category__isnull=False)
        .alias(covering_prefix=contract_category_prefix())
        .filter(Exists(line_category))
    )


@dataclass
class MatchResult:
    supplier_matched: int = 0
    category_matched: int = 0


def _match_scope(scope: Scope, *, fresh: bool) -> MatchResult:
    lines = scope.lines()
    active = Exists(_active_contracts())
    covered = Exists(_covering_contracts())
    eligible = Q(supplier_matched=True, category_id__isnull=False)
    # EXISTS in WHERE (a semi-join the planner can hash), and only the lines whose
    # flag changes are written: a contract edit touches few of them.
    lines.filter(supplier_matched=False).filter(active).update(supplier_matched=True)
    if not fresh:
        lines.filter(supplier_matched=True).filter(~active).update(supplier_matched=False)
    lines.filter(eligible, category_matched=False).filter(covered).update(category_matched=True)
    if not fresh:
        lines.filter(category_matched=True).filter(~(eligible & covered)).update(
            category_matched=False
        )
    counts = lines.aggregate(
        supplier=Count("pk", filter=Q(supplier_matched=True)),
        category=Count("pk", filter=Q(category_matched=True)),
    )
    return MatchResult(supplier_matched=counts["supplier"], category_matched=counts["category"])


def lines_match(
    *, region: Region | None = None, batch: ImportBatch | None = None, fresh: bool = False
) -> MatchResult:
    """Flag lines supplier-matched and category-matched against the contract registry."""
    total = MatchResult()
    with transaction.atomic(), _hash_joins():
        if batch is None:
            # Serialised with the switch-ins of these regions (which lock the region row
            # first too): the KPI facts rebuilt below see either the whole import or none
            # of it, and a switch-in never waits on lines this run holds while it waits.
            regions = Region.objects.select_for_update().order_by("pk")
            list(regions.filter(pk=region.pk) if region is not None else regions)
        scopes = _scopes(batch=batch, region=region)
        for scope in scopes:
            result = _match_scope(scope, fresh=fresh)
            total.supplier_matched += result.supplier_matched
            total.category_matched += result.category_matched
        if batch is None and scopes:
            # Current lines changed: the KPI rollups follow in this transaction. (A batch
            # being loaded is rolled up by its switch-in.)
            signals.ledger_rematched.send(
                sender=LedgerLine, region_ids=[scope.region_id for scope in scopes]
            )
    return total


# Before the load: the same rules on Arrow chunks ------------------------------------------------


def _fingerprint() -> tuple:
    """Changes whenever a rule, a contract or the CPV tree changes (history rows grow)."""

    def last(model) -> int:
        history = model.history.model
        return history.objects.aggregate(last=Max("history_id"))["last"] or 0

    return (
        last(MappingRule),
        last(ExclusionRule),
        last(Contract),
        tuple(Category.objects.aggregate(n=Count("pk"), last=Max("pk")).values()),
    )


class LineAnnotator:
    """Category, exclusion and contract flags for validated Arrow chunks, before COPY.

    The same rules as the UPDATEs above (and tested against them), computed column-wise
    with pyarrow while the importer still holds the chunk, so the lines can be written
    once with their final values instead of loaded and then rewritten by UPDATEs (which
    cost more than the COPY itself). ``annotate(table)`` returns the four columns;
    ``is_stale()`` tells whether a rule or contract changed since the annotator was made
    (then ``after_lines_loaded(batch)`` must run the UPDATEs after all).
    """

    def __init__(self, region_id: int):
        self.region_id = region_id
        self.fingerprint = _fingerprint()
        categories = list(Category.objects.order_by("pk").values_list("code", "pk"))
        self._codes = pa.array([code for code, _pk in categories], pa.string())
        self._ids = pa.array([pk for _code, pk in categories], pa.int64())
        self._rules = rules_for_region(region_id)
        self._exclusions = exclusion_rules_for_region(region_id)
        contracts = list(
            Contract.objects.filter(region_id=region_id).values_list(
                "supplier__identifier", "start_date", "end_date", "extended_until", "category__code"
            )
        )
        self._contracts = pa.table(
            {
                "supplier_id": pa.array([c[0] for c in contracts], pa.string()),
                "start": pa.array([c[1] for c in contracts], pa.date32()),
                "end": pa.array([c[3] or c[2] for c in contracts], pa.date32()),
                "prefix": pa.array(
                    [significant_prefix(c[4]) if c[4] else None for c in contracts],
                    pa.string(),
                ),
            }
        )

    def is_stale(self) -> bool:
        return _fingerprint() != self.fingerprint

    # The pieces --------------------------------------------------------------------------

    @staticmethod
    def _text(table, name: str):
        column = table.column(name)
        if hasattr(column, "combine_chunks"):
            column = column.combine_chunks()
        return pc.fill_null(column, "")

    @staticmethod
    def _accounts(account):
        digits = pc.match_substring_regex(account, DIGITS)
        key = pc.utf8_lpad(
            pc.utf8_ltrim(account, characters="0"), width=ACCOUNT_KEY_WIDTH, padding="0"
        )
        return digits, key

    @staticmethod
    def _range(account, digits, key, account_from: str, account_to: str):
        low = (account_from or "").strip()
        high = (account_to or "").strip() or low
        if not low:
            return pa.repeat(False, len(account))
        text = pc.and_(
            pc.greater_equal(account, pa.scalar(low)), pc.less_equal(account, pa.scalar(high))
        )
        if not (_is_digits(low) and _is_digits(high)):
            return text
        numeric = pc.and_(
            digits,
            pc.and_(
                pc.greater_equal(key, pa.scalar(account_key(low))),
                pc.less_equal(key, pa.scalar(account_key(high))),
            ),
        )
        return pc.or_(numeric, pc.and_(pc.invert(digits), text))

    def _rule_mask(self, rule: MappingRule, columns: dict):
        n = len(columns["account"])
        ranged = (
            self._range(
                columns["account"],
                columns["digits"],
                columns["key"],
                rule.account_from,
                rule.account_to,
            )
            if rule.kind in (MappingRule.Kind.ACCOUNT_RANGE, MappingRule.Kind.ACCOUNT_COST_CENTRE)
            else None
        )
        if rule.kind == MappingRule.Kind.ACCOUNT_RANGE:
            return ranged
        if rule.kind == MappingRule.Kind.ACCOUNT_COST_CENTRE:
            centre = rule.cost_centre.strip()
            if not centre:
                return pa.repeat(False, n)
            return pc.and_(ranged, pc.equal(columns["cost_centre"], pa.scalar(centre)))
        if rule.kind == MappingRule.Kind.SUPPLIER and rule.supplier_id.strip():
            return pc.equal(columns["supplier_id"], pa.scalar(rule.supplier_id.strip()))
        return pa.repeat(False, n)

    def _categories(self, table):
        """category_id (int64, null: unmapped) from the own code, else the first rule."""
        raw = self._text(table, "category_code")
        code = pc.if_else(
            pc.equal(pc.utf8_length(raw), 7),
            pc.binary_join_element_wise(pa.scalar("0"), raw, ""),
            raw,
        )
        category_id = pc.take(self._ids, pc.index_in(code, value_set=self._codes))
        unmapped = pc.is_null(category_id)
        if not self._rules or not pc.any(unmapped).as_py():
            return category_id
        positions = pc.indices_nonzero(unmapped)
        account = pc.take(self._text(table, "account"), positions)
        digits, key = self._accounts(account)
        columns = {
            "account": account,
            "digits": digits,
            "key": key,
            "cost_centre": pc.take(self._text(table, "cost_centre"), positions),
            "supplier_id": pc.take(self._text(table, "supplier_id"), positions),
        }
        result = pa.nulls(len(positions), pa.int64())
        for rule in self._rules:
            open_ = pc.is_null(result)
            if not pc.any(open_).as_py():
                break
            hit = pc.and_(open_, self._rule_mask(rule, columns))
            result = pc.if_else(hit, pa.scalar(rule.category_id, pa.int64()), result)
        return pc.replace_with_mask(category_id, unmapped, result)

    def _excluded(self, table, mapped_code):
        n = table.num_rows
        excluded = pa.repeat(False, n)
        if not self._exclusions:
            return excluded
        account = self._text(table, "account")
        digits, key = self._accounts(account)
        for rule in self._exclusions:
            if rule.kind == ExclusionRule.Kind.ACCOUNT_RANGE:
                mask = self._range(account, digits, key, rule.account_from, rule.account_to)
            elif rule.kind == ExclusionRule.Kind.CATEGORY and _is_digits(
                rule.category_prefix.strip()
            ):
                mask = pc.fill_null(
                    pc.starts_with(mapped_code, pattern=rule.category_prefix.strip()), False
                )
            else:
                continue
            excluded = pc.or_(excluded, mask)
        return excluded

    def _matched(self, table, mapped_code):
        n = table.num_rows
        rows = pc.subtract(pc.cumulative_sum(pa.repeat(1, n).cast(pa.int64())), 1)
        if not n or not self._contracts.num_rows:
            return pa.repeat(False, n), pa.repeat(False, n)
        dates = table.column("posting_date")
        if hasattr(dates, "combine_chunks"):
            dates = dates.combine_chunks()
        lines = pa.table(
            {"row": rows, "supplier_id": self._text(table, "supplier_id"), "posting_date": dates}
        )
        pairs = lines.join(self._contracts, keys="supplier_id", join_type="inner")
        if pairs.num_rows:
            active = pc.and_(
                pc.less_equal(pairs["start"], pairs["posting_date"]),
                pc.less_equal(pairs["posting_date"], pairs["end"]),
            )
            pairs = pairs.filter(active)
        supplier = pc.is_in(rows, value_set=pc.unique(pairs["row"]))
        if not pairs.num_rows:
            return supplier, pa.repeat(False, n)
        line_code = pc.take(mapped_code, pairs["row"])
        prefix = pairs["prefix"]
        prefix_length = pc.utf8_length(prefix)
        covered = pa.repeat(False, pairs.num_rows)
        for length in range(CPV_PREFIX_MIN, CPV_PREFIX_MAX + 1):
            same = pc.equal(pc.utf8_slice_codeunits(line_code, 0, length), prefix)
            covered = pc.or_(
                covered, pc.fill_null(pc.and_(pc.equal(prefix_length, length), same), False)
            )
        category_rows = pc.unique(pc.filter(pairs["row"], covered))
        return supplier, pc.is_in(rows, value_set=category_rows)

    def annotate(self, table) -> dict:
        """The chunk's category_id, is_excluded, supplier_matched and category_matched."""
        category_id = self._categories(table)
        mapped_code = pc.take(self._codes, pc.index_in(category_id, value_set=self._ids))
        supplier, category = self._matched(table, mapped_code)
        return {
            "category_id": category_id,
            "is_excluded": self._excluded(table, mapped_code),
            "supplier_matched": supplier,
            "category_matched": category,
        }


# Entry points --------------------------------------------------------------------------------


def after_lines_loaded(
    batch: ImportBatch, *, annotator: LineAnnotator | None = None
) -> MapResult | None:
    """Map, exclude and match the lines of a freshly loaded batch (inside its transaction).

    Assumes the lines were just inserted with the model's defaults (no category, not
    excluded, not matched), unless ``annotator`` wrote their final values with the COPY:
    then nothing is left to do, as long as no rule or contract changed meanwhile.
    The KPI refresh is queued by the import pipeline once the batch is switched in.
    """
    if annotator is not None and annotator.region_id == batch.region_id:
        if not annotator.is_stale():
            return None
        logger.info("rules or contracts changed during the import of batch %s", batch.pk)
        return region_remap_batch(batch)
    with transaction.atomic():
        result = lines_map(batch=batch, fresh=True)
        lines_match(batch=batch, fresh=True)
    return result


def region_remap_batch(batch: ImportBatch) -> MapResult:
    """Map, exclude and match one batch whatever its lines hold now."""
    with transaction.atomic():
        result = lines_map(batch=batch)
        lines_match(batch=batch)
    return result


@contextmanager
def _hash_joins():
    """Plan the contract semi-joins as hash joins, whatever the statistics say.

    Right after a bulk load the planner believes the new batch is empty and runs the
    EXISTS as a nested loop per line: 568 s instead of 13 s at 1M lines. ANALYZE would
    fix the estimate but takes a lock that serialises concurrent imports' switches.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_nestloop')")
        (previous,) = cursor.fetchone()
        cursor.execute("SET LOCAL enable_nestloop = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [previous])


def region_remap(*, region: Region) -> MapResult:
    """Re-apply the rules and the contracts to a region's current lines (after a rule change)."""
    with transaction.atomic():
        result = lines_map(region=region)
        lines_match(region=region)
        kpi_refresh_on_commit(region.pk)
    logger.info(
        "remapped %s: %d lines, %d mapped, %d unmapped, %d excluded",
        region.code,
        result.lines,
        result.mapped,
        result.unmapped,
        result.excluded,
    )
    return result


def contracts_changed(region: Region) -> MatchResult:
    """Re-match a region's current lines after one of its contracts changed."""
    with transaction.atomic():
        result = lines_match(region=region)
        kpi_refresh_on_commit(region.pk)
    return result


# KPI refresh ---------------------------------------------------------------------------------

KPI_TASK = "kpi.recompute_region"


def kpi_refresh_on_commit(region_id: int) -> None:
    """Once committed, have the KPI app recompute the region's figures (once per transaction).

    Looked up by task name (kpi imports spend, never the reverse); a dead broker or a
    failing recompute never fails the import or the rematch that asked (the nightly
    recompute catches up).
    """
    if region_id:
        enqueue_on_commit(KPI_TASK, region_id)
