"""Suppliers' e-mail alerts: subscribe, confirm (double opt-in), digests, unsubscribe, delete.

A supplier subscribes without an account to CPV subtrees and regions. The address is
kept only once the confirmation link is used; pending ones are purged when the link
expires, unsubscribed ones after ALERT_UNSUBSCRIBED_RETENTION_DAYS. The daily digest
(task ``suppliers.send_tender_digests``) first records what the public sees of each
publishable tender (``PublicTenderState``), then mails each active subscription the
matching tenders that are new or changed since it was confirmed; a ``SentChange`` row
per (subscription, tender, public fingerprint) makes sure nothing is sent twice.
Mails are built from ``public_summary()`` only: no internal field can reach them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from rfi.links import absolute_url
from rfi.models import Category, Region
from suppliers.models import PublicTenderState, SentChange, Subscription
from suppliers.public import selectors as public_selectors
from tenders.models import Participation, TenderCase

logger = logging.getLogger(__name__)

# The salts keep the module's former path: links already mailed stay valid.
CONFIRM_SALT = "suppliers.alerts.confirm"
MANAGE_SALT = "suppliers.alerts.manage"
# Pending subscriptions one address may have at a time: the form cannot be used to
# flood someone's inbox with confirmation mails.
MAX_PENDING_PER_ADDRESS = 3
MAX_CATEGORIES = 20
LANGUAGES = ("da", "en")


class TokenError(ValueError):
    """A link that does not work; ``message`` says why in words a supplier understands."""

    def __init__(self, message: str, *, expired: bool = False):
        self.message = message
        self.expired = expired
        super().__init__(message)


# Links -------------------------------------------------------------------------------------


def _sign(subscription: Subscription, salt: str) -> str:
    return signing.dumps({"s": subscription.pk, "k": subscription.key}, salt=salt)


def confirm_token(subscription: Subscription) -> str:
    return _sign(subscription, CONFIRM_SALT)


def manage_token(subscription: Subscription) -> str:
    """The token of the unsubscribe and delete links: no expiry, void once the row is gone."""
    return _sign(subscription, MANAGE_SALT)


def confirm_max_age() -> dt.timedelta:
    return dt.timedelta(hours=settings.ALERT_CONFIRM_MAX_AGE_HOURS)


def subscription_from_token(token: str, *, purpose: str) -> Subscription:
    """The subscription a link names; ``TokenError`` with the reason when it cannot be used."""
    salt, max_age = (
        (CONFIRM_SALT, confirm_max_age()) if purpose == "confirm" else (MANAGE_SALT, None)
    )
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise TokenError(
            _(
                "This confirmation link has expired (links are valid for %(hours)d hours). "
                "Nothing was saved: subscribe again to get a new link."
            )
            % {"hours": settings.ALERT_CONFIRM_MAX_AGE_HOURS},
            expired=True,
        ) from exc
    except signing.BadSignature as exc:
        raise TokenError(
            _("This link is not valid. Check that the whole link from the e-mail was used.")
        ) from exc
    if not isinstance(data, dict):
        raise TokenError(_("This link is not valid."))
    subscription = Subscription.objects.filter(pk=data.get("s"), key=data.get("k")).first()
    if subscription is None:
        raise TokenError(
            _(
                "This link no longer works: the subscription has been deleted or has "
                "expired. Nothing is stored about this address."
            )
        )
    return subscription


def links(subscription: Subscription) -> dict[str, str]:
    """The absolute unsubscribe and delete links every mail carries."""
    token = manage_token(subscription)
    return {
        "unsubscribe": absolute_url(reverse("public:alerts_unsubscribe", kwargs={"token": token})),
        "delete": absolute_url(reverse("public:alerts_delete", kwargs={"token": token})),
        "portal": absolute_url(reverse("public:index")),
    }


def _message(
    subscription: Subscription, *, subject: str, template: str, context: dict
) -> EmailMultiAlternatives:
    """A mail with the one-click unsubscribe headers of RFC 8058."""
    context = {**context, "links": links(subscription), "subscription": subscription}
    text = render_to_string(f"email/{template}.txt", context)
    html = render_to_string(f"email/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[subscription.email],
        headers={
            "List-Unsubscribe": f"<{context['links']['unsubscribe']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


# Subscribe, confirm, unsubscribe, delete -----------------------------------------------------


def categories_from_codes(codes: Iterable[str]) -> list[Category]:
    """The categories of CPV codes ("33100000" or "33100000-1"); ValidationError names the bad."""
    wanted: list[str] = []
    bad: list[str] = []
    for raw in codes:
        code = raw.strip().split("-")[0]
        if not code:
            continue
        if len(code) == 8 and code.isdigit():
            if code not in wanted:
                wanted.append(code)
        else:
            bad.append(raw.strip())
    if bad:
        raise ValidationError(
            _("Not a CPV code (8 digits, e.g. 33100000): %(codes)s") % {"codes": ", ".join(bad)}
        )
    found = {c.code: c for c in Category.objects.filter(code__in=wanted)}
    missing = [code for code in wanted if code not in found]
    if missing:
        raise ValidationError(
            _("Not in the CPV category tree: %(codes)s") % {"codes": ", ".join(missing)}
        )
    if len(wanted) > MAX_CATEGORIES:
        raise ValidationError(_("Choose at most %(max)d categories.") % {"max": MAX_CATEGORIES})
    return [found[code] for code in wanted]


def subscription_request(
    *,
    email: str,
    categories: Iterable[Category],
    regions: Iterable[Region],
    language: str,
    confirm_url: Callable[[str], str],
) -> Subscription | None:
    """Record a pending subscription and mail its confirmation link.

    ``confirm_url(token)`` makes the absolute link (the view builds it from the
    request). Returns None, sending nothing, when the address already has
    MAX_PENDING_PER_ADDRESS pending subscriptions; the page says the same either way,
    so the form tells nobody whether an address is subscribed.
    """
    email = email.strip()
    language = language if language in LANGUAGES else "da"
    subscriptions_purge()
    pending = Subscription.objects.filter(email__iexact=email, confirmed_at__isnull=True)
    if pending.count() >= MAX_PENDING_PER_ADDRESS:
        logger.info("alert subscription: too many pending confirmations for one address")
        return None
    with transaction.atomic():
        subscription = Subscription.objects.create(email=email, language=language)
        subscription.categories.set(categories)
        subscription.regions.set(regions)
        with translation.override(language):
            message = _message(
                subscription,
                subject=_("Confirm your alerts of joint regional tenders"),
                template="alert_confirm",
                context={
                    "confirm_url": confirm_url(confirm_token(subscription)),
                    "choices": describe_choices(subscription),
                    "hours": settings.ALERT_CONFIRM_MAX_AGE_HOURS,
                },
            )
            message.send()
    return subscription


def subscription_confirm(*, subscription: Subscription) -> Subscription:
    """Consent given: the address is kept and digests start. Confirming twice changes nothing."""
    if subscription.confirmed_at is None or subscription.unsubscribed_at is not None:
        subscription.confirmed_at = timezone.now()
        subscription.unsubscribed_at = None
        subscription.save(update_fields=["confirmed_at", "unsubscribed_at"])
    return subscription


def subscription_unsubscribe(*, subscription: Subscription) -> Subscription | None:
    """Stop the mails at once. A pending subscription is deleted (it never had consent)."""
    if subscription.confirmed_at is None:
        subscription.delete()
        return None
    if subscription.unsubscribed_at is None:
        subscription.unsubscribed_at = timezone.now()
        subscription.save(update_fields=["unsubscribed_at"])
    return subscription


def address_delete(*, subscription: Subscription) -> int:
    """Delete every subscription of the link's address, and what was sent to it."""
    deleted = Subscription.objects.filter(email__iexact=subscription.email).delete()
    return deleted[1].get(Subscription._meta.label, 0)


def subscriptions_purge(*, now: dt.datetime | None = None) -> int:
    """Delete unconfirmed subscriptions whose link has expired, and old unsubscribed ones."""
    now = now or timezone.now()
    retention = dt.timedelta(days=settings.ALERT_UNSUBSCRIBED_RETENTION_DAYS)
    stale = Subscription.objects.filter(
        Q(confirmed_at__isnull=True, created_at__lt=now - confirm_max_age())
        | Q(unsubscribed_at__lt=now - retention)
    )
    return stale.delete()[1].get(Subscription._meta.label, 0)


def describe_choices(subscription: Subscription) -> dict[str, list[str]]:
    """The subscription's categories and regions as text, in the active language."""
    return {
        "categories": [
            f"{category.code} {category.label}"
            for category in subscription.categories.order_by("code")
        ],
        "regions": [region.name for region in subscription.regions.order_by("code")],
    }


# What the public sees of a tender --------------------------------------------------------------

# The summary's fields and their names in a digest's "what changed" line.
SUMMARY_LABELS = {
    "title": gettext_lazy("title"),
    "description": gettext_lazy("description"),
    "category": gettext_lazy("category"),
    "kind": gettext_lazy("kind"),
    "status": gettext_lazy("status"),
    "lead": gettext_lazy("lead"),
    "regions": gettext_lazy("participating regions"),
    "expected_tender_start": gettext_lazy("expected tender start"),
    "publication_date": gettext_lazy("publication"),
    "award_date": gettext_lazy("award"),
    "contract_start": gettext_lazy("contract start"),
    "contract_end": gettext_lazy("contract end"),
    "extension_until": gettext_lazy("extension options until"),
    "estimated_annual_value": gettext_lazy("estimated annual value"),
    "has_options": gettext_lazy("options for later joining"),
}
_DATE_FIELDS = (
    "expected_tender_start",
    "publication_date",
    "award_date",
    "contract_start",
    "contract_end",
    "extension_until",
)


def _names(obj) -> dict[str, str]:
    return {"da": obj.name_da, "en": obj.name_en or obj.name_da}


def public_summary(tender: TenderCase) -> dict:
    """The public fields of a publishable tender as JSON-ready values (mails, fingerprints).

    ``tender`` comes from ``public_selectors.publishable_tenders()``.
    """
    lead = tender.lead_region or tender.lead_partner
    regions = [
        {"code": role.region.code, **_names(role.region), "role": role.role}
        for role in public_selectors.public_regions(tender)
    ]
    value = tender.estimated_annual_value
    return {
        "reference": tender.reference,
        "title": tender.title,
        "description": tender.description,
        "category": {
            "code": tender.category.code,
            "da": tender.category.label_da,
            "en": tender.category.label_en or tender.category.label_da,
        },
        "kind": tender.kind,
        "status": tender.status,
        "lead": _names(lead),
        "regions": regions,
        **{
            field: (getattr(tender, field).isoformat() if getattr(tender, field) else None)
            for field in _DATE_FIELDS
        },
        "estimated_annual_value": str(value) if value is not None else None,
        "has_options": tender.has_options,
    }


def fingerprint(summary: dict) -> str:
    return hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()


def public_states_refresh(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Record what the public sees now; return (new, changed) tender counts.

    A tender seen for the first time counts as changed when it was last saved (not
    now), so a subscriber confirmed after that does not get the whole plan as news.
    """
    now = now or timezone.now()
    states = {state.tender_id: state for state in PublicTenderState.objects.all()}
    created: list[PublicTenderState] = []
    changed: list[PublicTenderState] = []
    for tender in public_selectors.publishable_tenders().order_by("pk").iterator(chunk_size=500):
        summary = public_summary(tender)
        digest = fingerprint(summary)
        state = states.get(tender.pk)
        if state is None:
            created.append(
                PublicTenderState(
                    tender=tender,
                    fingerprint=digest,
                    summary=summary,
                    first_seen_at=min(now, tender.updated_at),
                    changed_at=min(now, tender.updated_at),
                )
            )
        elif state.fingerprint != digest:
            state.previous_summary = state.summary
            state.summary = summary
            state.fingerprint = digest
            state.changed_at = now
            changed.append(state)
    PublicTenderState.objects.bulk_create(created, batch_size=500)
    PublicTenderState.objects.bulk_update(
        changed, ["previous_summary", "summary", "fingerprint", "changed_at"], batch_size=500
    )
    return len(created), len(changed)


# Digests -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestItem:
    tender_id: int
    fingerprint: str
    summary: dict
    is_new: bool
    changes: list[str]
    url: str


def matching_tenders(subscription: Subscription) -> QuerySet[TenderCase]:
    """Publishable tenders in the subscription's CPV subtrees and regions (none chosen: all)."""
    tenders = TenderCase.objects.filter(is_publishable=True)
    prefixes = [category.prefix for category in subscription.categories.all()]
    if prefixes:
        in_categories = Q()
        for prefix in prefixes:
            in_categories |= Q(category__code__startswith=prefix)
        tenders = tenders.filter(in_categories)
    regions = list(subscription.regions.all())
    if regions:
        takes_part = Participation.objects.filter(
            tender=OuterRef("pk"),
            region__in=regions,
            status__in=public_selectors.PUBLIC_PARTICIPATION,
        )
        tenders = tenders.filter(Q(lead_region__in=regions) | Exists(takes_part))
    return tenders


def _changes(state: PublicTenderState) -> list[str]:
    """The public fields that changed since the previous state, in words."""
    if not state.previous_summary:
        return []
    lines = []
    for field, label in SUMMARY_LABELS.items():
        old, new = state.previous_summary.get(field), state.summary.get(field)
        if old == new:
            continue
        if field in _DATE_FIELDS:
            lines.append(f"{label}: {_day(old) or '–'} → {_day(new) or '–'}")
        else:
            lines.append(str(label))
    return lines


def _day(value: str | None) -> str | None:
    return dt.date.fromisoformat(value).strftime("%d-%m-%Y") if value else None


def pending_items(subscription: Subscription) -> list[DigestItem]:
    """What the next digest of this subscription holds: matching, changed, not yet sent."""
    already_sent = SentChange.objects.filter(
        subscription=subscription,
        tender=OuterRef("tender_id"),
        fingerprint=OuterRef("fingerprint"),
    )
    ever_sent = SentChange.objects.filter(subscription=subscription, tender=OuterRef("tender_id"))
    states = (
        PublicTenderState.objects.filter(
            tender__in=matching_tenders(subscription),
            changed_at__gt=subscription.confirmed_at,
        )
        .annotate(already_sent=Exists(already_sent), ever_sent=Exists(ever_sent))
        .filter(already_sent=False)
        .order_by("summary__expected_tender_start", "tender_id")
    )
    items = []
    for state in states:
        is_new = state.previous_summary is None and not state.ever_sent
        items.append(
            DigestItem(
                tender_id=state.tender_id,
                fingerprint=state.fingerprint,
                summary=state.summary,
                is_new=is_new,
                changes=[] if is_new else _changes(state),
                url=absolute_url(
                    reverse("public:detail", kwargs={"reference": state.summary["reference"]})
                ),
            )
        )
    return items


def digest_send(*, subscription: Subscription, now: dt.datetime | None = None) -> int:
    """Mail one subscription its digest; return the number of tenders in it (0: no mail).

    The subscription row is locked and the SentChange rows are written in the same
    transaction as the mail is sent: a concurrent run waits, then finds nothing left,
    and a mail that fails rolls its rows back so the next run tries again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().filter(pk=subscription.pk).first()
        if subscription is None or not subscription.is_active:
            return 0
        with translation.override(subscription.language):
            items = pending_items(subscription)
            if not items:
                return 0
            SentChange.objects.bulk_create(
                [
                    SentChange(
                        subscription=subscription,
                        tender_id=item.tender_id,
                        fingerprint=item.fingerprint,
                    )
                    for item in items
                ]
            )
            message = _message(
                subscription,
                subject=ngettext(
                    "Joint regional tenders: %(count)d new or changed",
                    "Joint regional tenders: %(count)d new or changed",
                    len(items),
                )
                % {"count": len(items)},
                template="alert_digest",
                context={
                    "items": [_localised(item, subscription.language) for item in items],
                    "choices": describe_choices(subscription),
                },
            )
            message.send()
        subscription.last_sent_at = now
        subscription.save(update_fields=["last_sent_at"])
    return len(items)


def _localised(item: DigestItem, language: str) -> dict:
    """An item's public summary in the subscriber's language, ready for the template."""
    summary = item.summary
    roles = {"lead": _("lead"), "full": _("full participation"), "option": _("on an option")}
    value = summary["estimated_annual_value"]
    return {
        "reference": summary["reference"],
        "title": summary["title"],
        "category": f"{summary['category']['code']} {summary['category'][language]}",
        "kind": dict(TenderCase.Kind.choices).get(summary["kind"], summary["kind"]),
        "status": dict(TenderCase.Status.choices).get(summary["status"], summary["status"]),
        "lead": summary["lead"][language],
        "regions": [
            f"{region[language]} ({roles[region['role']]})" for region in summary["regions"]
        ],
        "expected_tender_start": _day(summary["expected_tender_start"]),
        "contract_start": _day(summary["contract_start"]),
        "contract_end": _day(summary["contract_end"]),
        "estimated_annual_value": value,
        "is_new": item.is_new,
        "changes": item.changes,
        "url": item.url,
    }


def digests_send(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The daily run: purge, record public states, mail every active subscription."""
    now = now or timezone.now()
    purged = subscriptions_purge(now=now)
    new, changed = public_states_refresh(now=now)
    mails = tenders = 0
    active = Subscription.objects.filter(
        confirmed_at__isnull=False, unsubscribed_at__isnull=True
    ).order_by("pk")
    for subscription in active.iterator():
        try:
            count = digest_send(subscription=subscription, now=now)
        except IntegrityError:
            # A concurrent run sent this digest first (sent_change_once).
            continue
        except OSError:  # smtplib.SMTPException is an OSError
            logger.exception("alert digest %s not sent; the next run tries again", subscription.pk)
            continue
        if count:
            mails += 1
            tenders += count
    return {"purged": purged, "new": new, "changed": changed, "mails": mails, "tenders": tenders}
