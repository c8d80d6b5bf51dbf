"""Checks shared by the rule forms and the rule API: what makes a mapping or exclusion rule whole.

The fields a kind does not use are cleared, so a rule never carries a stale account
range or supplier id that would look like it matters.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from rfi.cpv import significant_prefix
from spend.matching import account_key
from spend.models import ExclusionRule, MappingRule

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
