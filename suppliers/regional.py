"""Each region's own contract after a joint award: award, signing, owner, extension options.

Each participating region signs its own contract with the supplier (DOMAIN.md): when a
joint case is awarded, ``tender_award`` records the award on the case and creates one
contract per full participant; an option region gets its contract when it exercises the
option (tenders asks for it by the task name ``suppliers.regional_contracts_sync``, as
tenders never imports suppliers). ``regional_contracts_sync`` is idempotent: a region
that already holds a contract of the case gets no second one.

Extension options carry a notice deadline; ``extension_reminders_send`` mails the
contract's owner 90 and 30 days before it, once (an ExtensionReminder row per deadline and
day, as tenders' DeadlineReminder).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rfi import permissions
from rfi.links import absolute_url
from rfi.models import Membership
from rfi.reminders import Mail, reminders_send
from rfi.validation import date_error
from suppliers.models import Contract, ContractExtension, ExtensionReminder, Supplier
from suppliers.services import _rematch_on_commit, _with_actor
from tenders import selectors as tender_selectors
from tenders import services as tender_services
from tenders.models import Participation, TenderCase

REMINDER_DAYS = (90, 30)
UNSIGNED_AFTER_DAYS = 30
SYNC_TASK = "suppliers.regional_contracts_sync"


def _date(value: dt.date) -> str:
    return value.strftime("%d-%m-%Y")


def _date_errors(errors: dict, **dates) -> None:
    for name, day in dates.items():
        if day is None:
            errors.setdefault(name, []).append(_("Give the date."))
        elif message := date_error(day):
            errors.setdefault(name, []).append(message)


# Award and the regions' contracts ------------------------------------------------------------


@transaction.atomic
def tender_award(
    *,
    tender: TenderCase,
    actor,
    supplier: Supplier,
    award_date: dt.date,
    contract_start: dt.date,
    contract_end: dt.date,
) -> list[Contract]:
    """Record the award of a joint case and give each full participant its own contract."""
    if not permissions.can_edit_tender(actor, tender):
        raise PermissionDenied(_("Only the lead region's officers and the secretariat edit it."))
    errors: dict[str, list[str]] = {}
    _date_errors(
        errors, award_date=award_date, contract_start=contract_start, contract_end=contract_end
    )
    if tender.status == TenderCase.Status.CANCELLED:
        errors.setdefault("award_date", []).append(_("A cancelled case is not awarded."))
    if errors:
        raise ValidationError(errors)
    status = tender.status
    if status in (TenderCase.Status.PLANNED, TenderCase.Status.IN_TENDER):
        status = TenderCase.Status.IN_CONTRACT
    tender = tender_services.tender_update(
        tender=tender,
        actor=actor,
        award_date=award_date,
        contract_start=contract_start,
        contract_end=contract_end,
        status=status,
    )
    return regional_contracts_sync(tender=tender, actor=actor, supplier=supplier)


@transaction.atomic
def regional_contracts_sync(
    *, tender: TenderCase, actor=None, supplier: Supplier | None = None
) -> list[Contract]:
    """Create the missing regional contracts of an awarded case; returns those created.

    Full participants get theirs from the award date, option regions from the day they
    exercised the option. The supplier is the award's (given, or that of the case's
    contracts so far); a case with neither, or not awarded, gets none.
    """
    tender = TenderCase.objects.select_for_update().get(pk=tender.pk)
    existing = Contract.objects.filter(tender=tender)
    if supplier is None:
        first = existing.order_by("pk").first()
        supplier = first.supplier if first else None
    if supplier is None or tender.award_date is None:
        return []
    end = tender.contract_end
    if end is None:
        return []
    holding = set(existing.values_list("region_id", flat=True))
    created = []
    participations = (
        tender.participations.select_related("region")
        .filter(region__active=True)
        .order_by("region__code")
    )
    for participation in participations:
        if participation.region_id in holding:
            continue
        if participation.status == Participation.Status.FULL:
            offered_on = tender.award_date
            start = tender.contract_start or tender.award_date
        elif (
            participation.status == Participation.Status.OPTION
            and participation.option_exercised_on
        ):
            offered_on = participation.option_exercised_on
            start = max(participation.option_exercised_on, tender.contract_start or offered_on)
        else:
            continue
        contract = Contract(
            region=participation.region,
            supplier=supplier,
            title=tender.title,
            category=tender.category,
            start_date=start,
            end_date=max(end, start),
            kind=tender.kind,
            annual_value=participation.estimated_annual_value,
            tender=tender,
            offered_on=offered_on,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        _with_actor(contract, actor)
        contract.save()
        created.append(contract)
    _rematch_on_commit({c.region_id for c in created})
    return created


def unsigned_too_long(contract: Contract, today: dt.date) -> bool:
    """Not signed 30 days (or more) after the region was awarded it."""
    return (
        contract.signed_on is None
        and contract.offered_on is not None
        and today >= contract.offered_on + dt.timedelta(days=UNSIGNED_AFTER_DAYS)
    )


# Signing and the owner -----------------------------------------------------------------------


def _owner_errors(contract: Contract, owner) -> list[str]:
    if owner is None:
        return []
    holds_role = Membership.objects.filter(
        user=owner,
        region=contract.region,
        role__in=(Membership.Role.OFFICER, Membership.Role.CHIEF),
    ).exists()
    if not holds_role or not owner.is_active:
        return [_("The owner is an officer or the chief of the contract's region.")]
    return []


@transaction.atomic
def contract_sign(*, contract: Contract, actor, signed_on: dt.date, owner=None) -> Contract:
    """Record that the region has signed its contract: the date and who recorded it."""
    if not permissions.can_edit_contract(actor, contract):
        raise PermissionDenied(_("Only the region's officers and the secretariat edit it."))
    errors: dict[str, list[str]] = {}
    _date_errors(errors, signed_on=signed_on)
    if contract.signed_on is not None:
        errors.setdefault("signed_on", []).append(
            _("The contract was signed on %(date)s.") % {"date": _date(contract.signed_on)}
        )
    if signed_on and signed_on > timezone.localdate():
        errors.setdefault("signed_on", []).append(_("A contract cannot be signed in the future."))
    if signed_on and contract.offered_on and signed_on < contract.offered_on:
        errors.setdefault("signed_on", []).append(
            _("The region cannot sign before it was awarded the contract (%(date)s).")
            % {"date": _date(contract.offered_on)}
        )
    if owner_errors := _owner_errors(contract, owner):
        errors["owner"] = owner_errors
    if errors:
        raise ValidationError(errors)
    contract.signed_on = signed_on
    contract.signed_by = actor
    if owner is None and contract.owner_id is None and not _owner_errors(contract, actor):
        owner = actor  # until someone else is named, the officer who signed follows it
    if owner is not None:
        contract.owner = owner
    _with_actor(contract, actor)
    contract.save(update_fields=["signed_on", "signed_by", "owner"])
    return contract


@transaction.atomic
def contract_set_owner(*, contract: Contract, actor, owner) -> Contract:
    """Hand the contract to a user of its region (an officer or the chief)."""
    if not permissions.can_edit_contract(actor, contract):
        raise PermissionDenied(_("Only the region's officers and the secretariat edit it."))
    if errors := _owner_errors(contract, owner):
        raise ValidationError({"owner": errors})
    contract.owner = owner
    _with_actor(contract, actor)
    contract.save(update_fields=["owner"])
    return contract


def owner_choices(contract: Contract):
    """The users who may own the contract: its region's officers and chief."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__region=contract.region,
            memberships__role__in=(Membership.Role.OFFICER, Membership.Role.CHIEF),
        )
        .distinct()
        .order_by("username")
    )


# Extension options ---------------------------------------------------------------------------


@transaction.atomic
def extension_add(
    *, contract: Contract, actor, extends_to: dt.date, notice_deadline: dt.date
) -> ContractExtension:
    """Register an extension option with the deadline for giving notice."""
    if not permissions.can_edit_contract(actor, contract):
        raise PermissionDenied(_("Only the region's officers and the secretariat edit it."))
    errors: dict[str, list[str]] = {}
    _date_errors(errors, extends_to=extends_to, notice_deadline=notice_deadline)
    if extends_to and extends_to <= contract.end_date:
        errors.setdefault("extends_to", []).append(
            _("An extension ends after the contract does (%(end)s).")
            % {"end": _date(contract.end_date)}
        )
    if notice_deadline and extends_to and notice_deadline >= extends_to:
        errors.setdefault("notice_deadline", []).append(
            _("Notice is given before the extension ends.")
        )
    if errors:
        raise ValidationError(errors)
    extension = ContractExtension(
        contract=contract, extends_to=extends_to, notice_deadline=notice_deadline
    )
    _with_actor(extension, actor)
    extension.save()
    return extension


@transaction.atomic
def extension_decide(*, extension: ContractExtension, actor, decision: str) -> ContractExtension:
    """Exercise or decline an extension option; an exercised one extends the contract."""
    contract = extension.contract
    if not permissions.can_edit_contract(actor, contract):
        raise PermissionDenied(_("Only the region's officers and the secretariat edit it."))
    Decision = ContractExtension.Decision
    if decision not in (Decision.EXERCISED, Decision.DECLINED):
        raise ValidationError({"decision": _("Exercise or decline the extension.")})
    if extension.decision != Decision.PENDING:
        raise ValidationError({"decision": _("The extension has already been decided.")})
    extension.decision = decision
    extension.decided_by = actor
    extension.decided_at = timezone.now()
    _with_actor(extension, actor)
    extension.save()
    if decision == Decision.EXERCISED and extension.extends_to > contract.effective_end:
        contract.extended_until = extension.extends_to
        _with_actor(contract, actor)
        contract.save(update_fields=["extended_until"])
        _rematch_on_commit({contract.region_id})
    return extension


def _reminder_stage(days_left: int) -> int | None:
    """The reminder owed with ``days_left`` to the deadline: 90 (from 90 days before), then
    30 (from 30 days before, until the deadline); None before 90 days or after it."""
    for stage in sorted(REMINDER_DAYS):
        if 0 <= days_left <= stage:
            return stage
    return None


def extension_reminders_send(*, today: dt.date | None = None) -> int:
    """Mail the owner of each pending extension 90 and 30 days before its notice deadline.

    A contract without an owner: its region's officers. Each reminder is sent once: one
    ExtensionReminder row per (extension, deadline, stage), created in the same transaction
    as the mail is sent, keeps a second run from mailing again, and a failed mail rolls it
    back for the next run. A day the beat missed is caught up the next day (the 90-day
    reminder then says 89 days); an option registered 20 days before its deadline gets the
    30-day reminder at once. Returns the number of reminders sent.
    """
    today = today or timezone.localdate()
    pending = (
        ContractExtension.objects.filter(
            decision=ContractExtension.Decision.PENDING,
            notice_deadline__gte=today,
            notice_deadline__lte=today + dt.timedelta(days=max(REMINDER_DAYS)),
        )
        .select_related("contract__region", "contract__owner", "contract__supplier")
        .order_by("notice_deadline", "pk")
    )
    due = [
        (extension, stage)
        for extension in pending
        if (stage := _reminder_stage((extension.notice_deadline - today).days)) is not None
    ]

    def claim(item):
        extension, stage = item
        return ExtensionReminder.objects.get_or_create(
            extension=extension, notice_deadline=extension.notice_deadline, days_before=stage
        )

    def mails(item) -> list[Mail]:
        extension, _stage = item
        contract = extension.contract
        owner = contract.owner
        if owner is not None and owner.is_active and owner.email:
            recipients = [owner.email]
        else:
            recipients = tender_selectors.officer_emails(region=contract.region)
        if not recipients:
            return []
        link = absolute_url(reverse("suppliers:detail", args=[contract.pk]))
        context = {
            "contract": contract,
            "extension": extension,
            "days": (extension.notice_deadline - today).days,
            "deadline": _date(extension.notice_deadline),
            "extends_to": _date(extension.extends_to),
            "link": link,
        }
        with translation.override("da"):
            subject = _("Reminder: notice on extending %(title)s is due %(deadline)s") % {
                "title": contract.title,
                "deadline": context["deadline"],
            }
            body = render_to_string("email/extension_reminder.txt", context)
        return [Mail(subject, body, recipients)]

    return reminders_send(
        due=due,
        claim=claim,
        mails=mails,
        describe=lambda item: f"extension reminder for contract {item[0].contract.pk}",
    )
