"""Mapping and exclusion rules and column mappings: what makes one whole, and writing them.

The pages, the API and the admin write rules through ``mapping_rule_save``,
``exclusion_rule_save``, ``column_mapping_save`` and ``rule_delete``: each checks the
actor's rights (rfi.permissions), validates, saves and leaves the history row with the
actor. The fields a kind does not use are cleared, so a rule never carries a stale account
range or supplier id that would look like it matters.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rfi import permissions
from rfi.cpv import significant_prefix
from rfi.models import Region
from spend.importer.columns import CANONICAL
from spend.matching import account_key
from spend.models import ColumnMapping, ExclusionRule, MappingRule

ACCOUNT_FIELDS = ("account_from", "account_to")


def _strip(data: dict, *names: str) -> None:
    for name in names:
        value = data.get(name)
        data[name] = value.strip() if isinstance(value, str) else ""


def _is_digits(value: str) -> bool:
    return bool(value) and value.isascii() and value.isdigit()


def _check_account_range(data: dict, errors: dict) -> None:
    low, high = data["account_from"], data["account_to"]
    if not low:
        errors["account_from"] = [_("Give the first account of the range.")]
        return
    if not high:
        return
    numeric = _is_digits(low) and _is_digits(high)
    if (account_key(low) > account_key(high)) if numeric else (low > high):
        errors["account_to"] = [_("The range ends before it starts.")]


def clean_mapping_rule(data: dict) -> dict:
    """Validate and tidy a mapping rule's fields by its kind; ValidationError by field."""
    data = dict(data)
    _strip(data, "account_from", "account_to", "cost_centre", "supplier_id")
    kind = data.get("kind")
    errors: dict[str, list[str]] = {}
    if kind == MappingRule.Kind.ACCOUNT_RANGE:
        _check_account_range(data, errors)
        data["cost_centre"] = data["supplier_id"] = ""
    elif kind == MappingRule.Kind.ACCOUNT_COST_CENTRE:
        _check_account_range(data, errors)
        if not data["cost_centre"]:
            errors["cost_centre"] = [_("Give the cost centre.")]
        data["supplier_id"] = ""
    elif kind == MappingRule.Kind.SUPPLIER:
        if not data["supplier_id"]:
            errors["supplier_id"] = [_("Give the supplier id.")]
        data["account_from"] = data["account_to"] = data["cost_centre"] = ""
    if errors:
        raise ValidationError(errors)
    return data


def clean_exclusion_rule(data: dict) -> dict:
    """Validate and tidy an exclusion rule's fields by its kind; ValidationError by field."""
    data = dict(data)
    _strip(data, "account_from", "account_to", "category_prefix", "reason")
    kind = data.get("kind")
    errors: dict[str, list[str]] = {}
    if kind == ExclusionRule.Kind.ACCOUNT_RANGE:
        _check_account_range(data, errors)
        data["category_prefix"] = ""
    elif kind == ExclusionRule.Kind.CATEGORY:
        prefix = data["category_prefix"].split("-", 1)[0]
        if not (_is_digits(prefix) and 2 <= len(prefix) <= 8):
            errors["category_prefix"] = [
                _("Give the first 2 to 8 digits of the CPV codes to exclude, e.g. 336.")
            ]
        if len(prefix) == 8:
            # A whole CPV code means its subtree: 33600000 → 336.
            prefix = significant_prefix(prefix)
        data["category_prefix"] = prefix
        data["account_from"] = data["account_to"] = ""
    if not data["reason"]:
        errors["reason"] = [_("Say why these lines are not addressable spend.")]
    if errors:
        raise ValidationError(errors)
    return data


# Writing rules: the one path for the pages, the API and the admin -------------------------------

MAPPING_RULE_FIELDS = (
    "region",
    "priority",
    "kind",
    "account_from",
    "account_to",
    "cost_centre",
    "supplier_id",
    "category",
    "active",
)
EXCLUSION_RULE_FIELDS = (
    "region",
    "kind",
    "account_from",
    "account_to",
    "category_prefix",
    "reason",
    "active",
)
COLUMN_MAPPING_FIELDS = ("region", "source_header", "canonical")

Rule = MappingRule | ExclusionRule | ColumnMapping


def _check_fields(fields: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown rule fields: {sorted(unknown)}")


def _check_stored_region(*, actor, rule: Rule) -> None:
    """The rights on a saved rule follow the region it is saved under, not an edit in memory."""
    if rule.pk is None:
        return
    stored = type(rule).objects.filter(pk=rule.pk).values_list("region_id", flat=True).first()
    region = Region.objects.filter(pk=stored).first() if stored is not None else None
    if not permissions.can_edit_spend_rules(actor, region):
        raise PermissionDenied(_("You cannot change this region's rules."))


def _save(*, actor, rule: Rule, fields: dict, clean, text_fields: tuple[str, ...]) -> Rule:
    _check_stored_region(actor=actor, rule=rule)
    for name, value in fields.items():
        setattr(rule, name, value)
    if not permissions.can_edit_spend_rules(actor, rule.region):
        raise PermissionDenied(
            _("You cannot write rules for this region (common rules: the secretariat).")
        )
    if clean is not None:
        cleaned = clean({name: getattr(rule, name) for name in text_fields})
        for name in text_fields:
            setattr(rule, name, cleaned[name])
    rule.full_clean()
    # django-simple-history reads _history_user when no request middleware set the user
    # (the API with token auth, management commands).
    rule._history_user = actor if actor is not None and actor.is_authenticated else None
    rule.save()
    return rule


@transaction.atomic
def mapping_rule_save(*, actor, rule: MappingRule | None = None, **fields) -> MappingRule:
    """Create (``rule=None``) or change a mapping rule: its region's officers, the secretariat.

    Fields as on the model (``region`` None: a common rule, the secretariat's). Raises
    PermissionDenied, or ValidationError by field.
    """
    _check_fields(fields, MAPPING_RULE_FIELDS)
    return _save(
        actor=actor,
        rule=rule if rule is not None else MappingRule(),
        fields=fields,
        clean=clean_mapping_rule,
        text_fields=("kind", "account_from", "account_to", "cost_centre", "supplier_id"),
    )


@transaction.atomic
def exclusion_rule_save(*, actor, rule: ExclusionRule | None = None, **fields) -> ExclusionRule:
    """Create (``rule=None``) or change an exclusion rule; rights as for mapping rules."""
    _check_fields(fields, EXCLUSION_RULE_FIELDS)
    return _save(
        actor=actor,
        rule=rule if rule is not None else ExclusionRule(),
        fields=fields,
        clean=clean_exclusion_rule,
        text_fields=("kind", "account_from", "account_to", "category_prefix", "reason"),
    )


def clean_column_mapping(data: dict) -> dict:
    data = dict(data)
    _strip(data, "source_header", "canonical")
    errors: dict[str, list[str]] = {}
    if not data["source_header"]:
        errors["source_header"] = [_("Give the header.")]
    if data["canonical"] not in CANONICAL:
        errors["canonical"] = [_("Choose one of the columns the importer reads.")]
    if errors:
        raise ValidationError(errors)
    return data


@transaction.atomic
def column_mapping_save(*, actor, rule: ColumnMapping | None = None, **fields) -> ColumnMapping:
    """Create (``rule=None``) or change a region's column mapping; always a region's own."""
    _check_fields(fields, COLUMN_MAPPING_FIELDS)
    return _save(
        actor=actor,
        rule=rule if rule is not None else ColumnMapping(),
        fields=fields,
        clean=clean_column_mapping,
        text_fields=("source_header", "canonical"),
    )


@transaction.atomic
def rule_delete(*, actor, rule: Rule) -> None:
    """Delete a mapping or exclusion rule or a column mapping; the history keeps it."""
    _check_stored_region(actor=actor, rule=rule)
    rule._history_user = actor if actor is not None and actor.is_authenticated else None
    rule.delete()
