"""Every write to the supplier register and the contract registry.

Each service checks the actor's rights through rfi.permissions, validates, saves
(history rows come from django-simple-history with the actor set) and returns
what it changed. Errors are ValidationError by field, or PermissionDenied.

``actor=None`` is the command line (``manage.py import_contracts`` without
``--user``): an operator with shell access, recorded as no user in the history.
Browser views and the API always pass the signed-in user.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from rfi import permissions
from rfi.models import Region
from rfi.tasks import enqueue_on_commit
from rfi.validation import merge_errors, text_error
from suppliers.models import Contract, Supplier
from tenders.models import TenderCase

logger = logging.getLogger(__name__)

CONTRACT_FIELDS = (
    "region",
    "supplier",
    "title",
    "category",
    "start_date",
    "end_date",
    "extended_until",
    "kind",
    "annual_value",
    "tender",
    "registered_after_the_fact",
)
CVR_PATTERN = re.compile(r"^[0-9]{8}$")
# Other countries' organisation numbers: Swedish 556036-0793, Norwegian 923609016, ...
ORG_NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
# The spend app's task that re-flags ledger lines' contract matches for a region, looked up
# by name in the Celery registry: suppliers must not import spend (docs/architecture.md).
REMATCH_TASK = "spend.rematch_region"


def _with_actor(obj, actor) -> None:
    # django-simple-history reads _history_user when the request middleware has no user
    # (management commands, Celery tasks, the API with token auth).
    obj._history_user = actor if actor is not None and actor.is_authenticated else None


# Suppliers ---------------------------------------------------------------------------------


def supplier_identifier_clean(identifier, country: str = "DK") -> str:
    """The identifier as stored; a Danish CVR number is exactly 8 digits."""
    text = "" if identifier is None else str(identifier).strip()
    text = text.replace(" ", "")
    if not text:
        raise ValidationError({"identifier": _("Give the supplier's id (CVR number).")})
    if country == "DK":
        if not CVR_PATTERN.match(text):
            raise ValidationError(
                {
                    "identifier": _("A Danish CVR number is exactly 8 digits; “%(value)s” is not.")
                    % {"value": text[:40]}
                }
            )
    elif not ORG_NUMBER_PATTERN.match(text):
        raise ValidationError(
            {
                "identifier": _(
                    "An organisation number is up to 20 letters, digits or dashes; "
                    "“%(value)s” is not."
                )
                % {"value": text[:40]}
            }
        )
    return text


def supplier_country_clean(country) -> str:
    text = (country or "DK").strip().upper()
    if not COUNTRY_PATTERN.match(text):
        raise ValidationError(
            {"country": _("Give the country as a two-letter code, e.g. DK, SE or NO.")}
        )
    return text


@transaction.atomic
def supplier_upsert(
    *, identifier: str, name: str, country: str = "DK", is_sme: bool | None = None, actor=None
) -> Supplier:
    """One supplier per identifier: create it, or take the name from the newest data."""
    country = supplier_country_clean(country)
    identifier = supplier_identifier_clean(identifier, country)
    # Line breaks and tabs fold into spaces below; other control characters are refused.
    if error := text_error(name or "", multiline=True):
        raise ValidationError({"name": error})
    name = " ".join((name or "").split())
    if len(name) > Supplier._meta.get_field("name").max_length:
        raise ValidationError({"name": _("The supplier's name is too long.")})
    supplier = Supplier.objects.select_for_update().filter(identifier=identifier).first()
    if supplier is None:
        if not name:
            raise ValidationError({"name": _("Give the supplier's name.")})
        supplier = Supplier(identifier=identifier, name=name, country=country)
        if is_sme is not None:
            supplier.is_sme = is_sme
        _with_actor(supplier, actor)
        try:
            with transaction.atomic():
                supplier.save()
            return supplier
        except IntegrityError:
            # Someone registered the same identifier a moment ago: theirs is the one.
            supplier = Supplier.objects.select_for_update().get(identifier=identifier)
    changed = False
    if name and name != supplier.name:
        supplier.name = name
        changed = True
    if is_sme is not None and is_sme != supplier.is_sme:
        supplier.is_sme = is_sme
        changed = True
    if changed:
        _with_actor(supplier, actor)
        supplier.save()
    return supplier


# Contracts ---------------------------------------------------------------------------------


def tender_by_reference(reference: str) -> TenderCase:
    reference = (reference or "").strip()
    tender = TenderCase.objects.filter(reference__iexact=reference).first()
    if tender is None:
        raise ValidationError(
            {"tender": _("No tender case has the reference “%(ref)s”.") % {"ref": reference[:40]}}
        )
    return tender


def _resolve_tender(value) -> TenderCase | None:
    """A tender case given as an object, a reference, or nothing (the region's own tender)."""
    if value is None or isinstance(value, TenderCase):
        return value
    if isinstance(value, str):
        return tender_by_reference(value) if value.strip() else None
    raise TypeError(f"tender must be a TenderCase, a reference or None, not {type(value)!r}")


def contract_validate(contract: Contract) -> None:
    """Refuse dates out of order, a missing category and a negative value."""
    errors: dict[str, list[str]] = {}
    if contract.region_id is None:
        errors.setdefault("region", []).append(_("Choose the contract's region."))
    if contract.supplier_id is None:
        errors.setdefault("supplier", []).append(_("Give the contract's supplier."))
    if not (contract.title or "").strip():
        errors.setdefault("title", []).append(_("Give the contract a title."))
    if contract.category_id is None:
        errors.setdefault("category", []).append(_("Give the contract's CPV category."))
    if contract.kind not in Contract.Kind.values:
        errors.setdefault("kind", []).append(_("Unknown kind of contract."))
    start, end, extended = contract.start_date, contract.end_date, contract.extended_until
    if start and end and end < start:
        errors.setdefault("end_date", []).append(
            _("The contract cannot end (%(end)s) before it starts (%(start)s).")
            % {"end": _date(end), "start": _date(start)}
        )
    if extended and end and extended < end:
        errors.setdefault("extended_until", []).append(
            _("An extension (%(extended)s) cannot end before the contract does (%(end)s).")
            % {"extended": _date(extended), "end": _date(end)}
        )
    if contract.annual_value is not None and contract.annual_value < Decimal("0"):
        errors.setdefault("annual_value", []).append(_("The annual value cannot be negative."))
    merge_errors(errors, contract)
    if errors:
        raise ValidationError(errors)


def _date(value: dt.date) -> str:
    return value.strftime("%d-%m-%Y")


def _check_fields(fields: dict) -> None:
    unknown = set(fields) - set(CONTRACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown contract fields: {sorted(unknown)}")


def _may_register_for(actor, region: Region | None) -> bool:
    return actor is None or permissions.can_register_contract_for(actor, region)


@transaction.atomic
def contract_create(*, actor, **fields) -> Contract:
    """Register a contract of a region: its officers, or the secretariat."""
    _check_fields(fields)
    if "tender" in fields:
        fields["tender"] = _resolve_tender(fields["tender"])
    contract = Contract(**fields)
    if actor is not None and not permissions.can_register_contract(actor):
        raise PermissionDenied(_("You may not register contracts."))
    if contract.region_id is not None and not _may_register_for(actor, contract.region):
        raise PermissionDenied(_("Officers register contracts of their own region only."))
    contract_validate(contract)
    contract.created_by = actor if actor is not None and actor.is_authenticated else None
    _with_actor(contract, actor)
    contract.save()
    _rematch_on_commit({contract.region_id})
    return contract


@transaction.atomic
def contract_update(*, contract: Contract, actor, **fields) -> Contract:
    """Change a contract: its region's officers and the secretariat."""
    _check_fields(fields)
    if actor is not None and not permissions.can_edit_contract(actor, contract):
        raise PermissionDenied(_("Only the region's officers and the secretariat edit it."))
    if "tender" in fields:
        fields["tender"] = _resolve_tender(fields["tender"])
    regions = {contract.region_id}
    for name, value in fields.items():
        setattr(contract, name, value)
    moved = "region" in fields and contract.region_id is not None
    if moved and not _may_register_for(actor, contract.region):
        raise PermissionDenied(_("Officers cannot move a contract to another region."))
    contract_validate(contract)
    _with_actor(contract, actor)
    contract.save()
    _rematch_on_commit(regions | {contract.region_id})
    return contract


@transaction.atomic
def contract_delete(*, contract: Contract, actor) -> None:
    """Delete a contract (its history is kept): its region's officers and the secretariat."""
    if actor is not None and not permissions.can_edit_contract(actor, contract):
        raise PermissionDenied(_("Only the region's officers and the secretariat delete it."))
    region_id = contract.region_id
    _with_actor(contract, actor)
    contract.delete()
    _rematch_on_commit({region_id})


def _rematch_on_commit(region_ids: set[int]) -> None:
    """Once committed, have the spend app re-flag the regions' ledger lines (KPI.md terms).

    An import registers hundreds of contracts in one transaction: each region is sent
    once; a rolled-back transaction takes its requests with it. The task is looked up by
    name, so suppliers never imports spend.
    """
    for region_id in sorted(r for r in region_ids if r):
        enqueue_on_commit(REMATCH_TASK, region_id)
