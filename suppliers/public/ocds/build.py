"""Build the OCDS 1.1 release package of the publishable joint tenders (docs/ocds.md).

One release per tender, following the OCDS for eForms profile's joint-procurement
conventions: every participating region is a party with the role ``buyer``, the lead
also ``leadBuyer``, and the release's ``buyer`` is the lead. Only public fields are
read (the tenders come from ``public_selectors.publishable_tenders()``, which defers
the internal columns); Danish is the release language, English goes in ``_en``
variants where the schema allows them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from rfi.models import Category, PartnerBody, Region
from suppliers.public import selectors as public_selectors
from tenders.models import Participation, TenderCase

OCDS_VERSION = "1.1"
LANGUAGE = "da"
LOT_ID = "LOT-0001"
_EXTENSION_REPOS = "https://raw.githubusercontent.com/open-contracting-extensions"
# The extensions the feed declares (extension.json URLs), each pinned to the version whose
# copy in suppliers/public/ocds_data CI validates against (suppliers/public/ocds/schema.py
# EXTENSION_FOLDERS): a tag where the extension has releases, else the commit of the copy.
# A branch (master) would change under the feed's readers.
EXTENSIONS = (
    f"{_EXTENSION_REPOS}/ocds_lots_extension/v1.1.5/extension.json",
    f"{_EXTENSION_REPOS}/ocds_communication_extension/"
    "16f7eb0413de9f22caff3b941f9c91d79493cd1c/extension.json",
    f"{_EXTENSION_REPOS}/ocds_renewal_extension/"
    "4ace98b844bde9ed763e9310d091597ab10e4043/extension.json",
)
# Extensions with neither a release nor a recorded commit: the site serves its own copy
# (/udbud/ocds/extension/copy/<name>/extension.json, suppliers/public/ocds/views.py), so
# the URL always answers with the files the feed was validated against.
SERVED_COPIES = ("options", "techniques")

# TenderCase.Status → OCDS tenderStatus (closed codelist).
_TENDER_STATUS = {
    TenderCase.Status.PLANNED: "planned",
    TenderCase.Status.IN_TENDER: "active",
    TenderCase.Status.IN_CONTRACT: "complete",
    TenderCase.Status.ENDED: "complete",
    TenderCase.Status.CANCELLED: "cancelled",
}


def ocid(tender: TenderCase) -> str:
    """The contracting process id: the registered prefix and the plan's reference."""
    return f"{settings.OCDS_OCID_PREFIX}-{tender.reference}"


def release_tag(tender: TenderCase, *, today: dt.date | None = None) -> str:
    """``planning`` until the tender is published (the portal's upcoming tab), then ``tender``."""
    if tender.status == TenderCase.Status.CANCELLED:
        started = tender.publication_date and tender.publication_date <= (
            today or timezone.localdate()
        )
        return "tender" if started else "planning"
    tab = public_selectors.tab_of(tender, today=today)
    return "planning" if tab == public_selectors.TAB_UPCOMING else "tender"


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _start(day: dt.date | None) -> str | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time.min, tzinfo=_zone()).isoformat()


def _end(day: dt.date | None) -> str | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=_zone()).isoformat()


def _period(start: dt.date | None, end: dt.date | None, **extra) -> dict | None:
    period = {"startDate": _start(start), "endDate": _end(end), **extra}
    period = {key: value for key, value in period.items() if value is not None}
    return period or None


def _amount(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _value(tender: TenderCase) -> dict | None:
    if tender.estimated_annual_value is None:
        return None
    return {"amount": _amount(tender.estimated_annual_value), "currency": settings.CURRENCY}


def _named(obj: Region | PartnerBody | Category, field: str) -> dict:
    """The Danish text under ``field`` and the English one under ``field_en`` when there is one."""
    attribute = "label" if isinstance(obj, Category) else "name"
    texts = {field: getattr(obj, f"{attribute}_da")}
    english = getattr(obj, f"{attribute}_en")
    if english:
        texts[f"{field}_en"] = english
    return texts


def _party_id(lead: Region | PartnerBody) -> str:
    kind = "region" if isinstance(lead, Region) else "partner"
    return f"{kind}-{lead.code}"


def _parties(tender: TenderCase) -> tuple[list[dict], dict]:
    """Every public participant as a party; the lead first. Returns (parties, buyer reference)."""
    lead = tender.lead_region or tender.lead_partner
    lead_id = _party_id(lead)
    parties = [
        {
            "id": lead_id,
            **_named(lead, "name"),
            "roles": ["buyer", "leadBuyer"],
            "details": {"participation": "full"},
        }
    ]
    for role in public_selectors.public_regions(tender):
        if role.role == "lead":
            continue
        parties.append(
            {
                "id": _party_id(role.region),
                **_named(role.region, "name"),
                "roles": ["buyer"],
                "details": {
                    "participation": "option"
                    if role.role == Participation.Status.OPTION
                    else "full"
                },
            }
        )
    return parties, {"id": lead_id, "name": lead.name_da}


def _option_regions(tender: TenderCase) -> list[str]:
    return [
        role.region.name_da
        for role in public_selectors.public_regions(tender)
        if role.role == Participation.Status.OPTION
    ]


def _tender(tender: TenderCase, *, tag: str) -> dict:
    is_framework = tender.kind == TenderCase.Kind.FRAMEWORK
    value = _value(tender)
    contract_period = _period(
        tender.contract_start, tender.contract_end, maxExtentDate=_end(tender.extension_until)
    )
    section: dict = {
        "id": tender.reference,
        "title": tender.title,
        "status": _TENDER_STATUS[tender.status],
        "mainProcurementCategory": tender.category.kind,
        "items": [
            {
                "id": "1",
                "classification": {
                    "scheme": "CPV",
                    "id": tender.category.code,
                    **_named(tender.category, "description"),
                },
                "relatedLot": LOT_ID,
            }
        ],
    }
    if tender.description:
        section["description"] = tender.description
    if value:
        section["value"] = value
    tender_period = _period(tender.publication_date or tender.expected_tender_start, None)
    if tender_period:
        section["tenderPeriod"] = tender_period
    if contract_period:
        section["contractPeriod"] = contract_period
    section["hasOptions"] = tender.has_options
    options = _option_regions(tender)
    if tender.has_options and options:
        section["options"] = {
            "description": "Regioner på option kan tilslutte sig senere: " + ", ".join(options)
        }
    techniques: dict = {"hasFrameworkAgreement": is_framework}
    if is_framework:
        framework = {}
        if contract_period:
            framework["period"] = contract_period
        if value:
            framework["value"] = value
        if framework:
            techniques["frameworkAgreement"] = framework
    section["techniques"] = techniques
    if tag == "planning" and tender.expected_tender_start:
        section["communication"] = {"futureNoticeDate": _start(tender.expected_tender_start)}
    lot: dict = {"id": LOT_ID, "title": tender.title, "status": section["status"]}
    if value:
        lot["value"] = value
    if contract_period:
        lot["contractPeriod"] = contract_period
    lot["hasRenewal"] = bool(tender.extension_until)
    if tender.extension_until and tender.contract_end:
        lot["renewal"] = {
            "description": "Kontrakten kan forlænges til "
            + tender.extension_until.strftime("%d-%m-%Y"),
            "period": _period(tender.contract_end + dt.timedelta(days=1), tender.extension_until),
        }
    section["lots"] = [lot]
    return section


def release(tender: TenderCase, *, today: dt.date | None = None) -> dict:
    """One OCDS release of a publishable tender, from its public fields only."""
    tag = release_tag(tender, today=today)
    parties, buyer = _parties(tender)
    body: dict = {
        "ocid": ocid(tender),
        "tag": [tag],
        "initiationType": "tender",
        "language": LANGUAGE,
        "parties": parties,
        "buyer": buyer,
    }
    value = _value(tender)
    if value:
        body["planning"] = {
            "budget": {
                "description": "Anslået årlig kontraktsum",
                "description_en": "Estimated annual contract value",
                "amount": value,
            }
        }
    body["tender"] = _tender(tender, tag=tag)
    # The release id changes exactly when the public content does: a hash of the body.
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "ocid": body.pop("ocid"),
        "id": f"{tender.reference}-{tag}-{digest}",
        "date": timezone.localtime(tender.updated_at).isoformat(),
        **body,
    }


def release_package(
    tenders: Iterable[TenderCase],
    *,
    uri: str,
    own_extension_url: str,
    copy_extension_urls: Iterable[str] = (),
    today: dt.date | None = None,
) -> dict:
    """The release package of ``tenders`` (already filtered), published at ``uri``."""
    tenders = list(tenders)
    releases = [release(tender, today=today) for tender in tenders]
    published = max((tender.updated_at for tender in tenders), default=timezone.now())
    package: dict = {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": timezone.localtime(published).isoformat(),
        "publisher": {"name": settings.OCDS_PUBLISHER_NAME},
        "extensions": [*EXTENSIONS, *copy_extension_urls, own_extension_url],
        "releases": releases,
    }
    if settings.OCDS_LICENSE:
        package["license"] = settings.OCDS_LICENSE
    return package
