"""A small public plan: one case per tab, plus cases the portal must never list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from rfi.models import Category, PartnerBody
from tenders.models import Participation, TenderCase

D = dt.date

CATEGORIES = [
    # code, check digit, level, Danish label, English label
    (
        "33000000",
        "0",
        1,
        "Medicinsk udstyr, lægemidler og produkter til personlig pleje",
        "Medical equipments, pharmaceuticals and personal care products",
    ),
    ("33100000", "1", 2, "Medicinsk udstyr", "Medical equipments"),
    ("33140000", "3", 3, "Medicinske forbrugsartikler", "Medical consumables"),
    (
        "33141000",
        "0",
        4,
        "Ikke-kemiske medicinske engangsforbrugsartikler og hæmatologiske forbrugsartikler",
        "Disposable non-chemical medical consumables and haematological consumables",
    ),
    (
        "33190000",
        "8",
        3,
        "Diverse medicinsk udstyr og diverse produkter",
        "Miscellaneous medical devices and products",
    ),
    ("33192000", "2", 4, "Medicinske møbler", "Medical furniture"),
    (
        "30000000",
        "9",
        1,
        "Kontormaskiner, computerudstyr og -materiel, undtagen møbler og programpakker",
        "Office and computing machinery, equipment and supplies except "
        "furniture and software packages",
    ),
    (
        "30190000",
        "7",
        3,
        "Diverse kontorudstyr og -artikler",
        "Various office equipment and supplies",
    ),
]


def make_categories() -> dict[str, Category]:
    made: dict[str, Category] = {}
    for code, check, level, label_da, label_en in CATEGORIES:
        parent = None
        for digits in (5, 4, 3, 2):
            candidate = code[:digits].ljust(8, "0")
            if candidate != code and candidate in made:
                parent = made[candidate]
                break
        made[code], _ = Category.objects.update_or_create(
            code=code,
            defaults={
                "check_digit": check,
                "level": level,
                "label_da": label_da,
                "label_en": label_en,
                "parent": parent,
            },
        )
    return made


def make_tender(reference: str, *, category, participations: dict | None = None, **fields):
    defaults = {
        "title": reference,
        "area": TenderCase.Area.MEDICO_ACQUISITIONS,
        "kind": TenderCase.Kind.FRAMEWORK,
        "is_publishable": True,
    }
    tender = TenderCase.objects.create(
        reference=reference, category=category, **{**defaults, **fields}
    )
    for region, status in (participations or {}).items():
        Participation.objects.create(tender=tender, region=region, status=status)
    return tender


FULL, OPTION = Participation.Status.FULL, Participation.Status.OPTION
OPTED_OUT, PENDING = Participation.Status.OPTED_OUT, Participation.Status.PENDING


def build_plan(regions) -> dict[str, TenderCase]:
    """Seven cases: upcoming, current (two ways), completed, cancelled, partner-led, internal."""
    cats = make_categories()
    rm, rh, rsd, rsj, rn = (regions[c] for c in ("RM", "RH", "RSD", "RSJ", "RN"))
    plan = {}
    plan["sutures"] = make_tender(
        "FUP-2026-101",
        title="Sutur og hæftemateriale",
        description="Suturer, hæfteklammer og vævslim til operationsafsnit.",
        category=cats["33141000"],
        lead_region=rm,
        status=TenderCase.Status.PLANNED,
        expected_tender_start=D(2027, 5, 15),
        contract_start=D(2028, 3, 1),
        contract_end=D(2032, 2, 28),
        estimated_annual_value=Decimal("12500000"),
        participations={rm: FULL, rsd: FULL, rh: OPTION, rn: OPTED_OUT, rsj: PENDING},
    )
    plan["office"] = make_tender(
        "FUP-2025-050",
        title="Kontorartikler",
        area=TenderCase.Area.GOODS_SERVICES,
        category=cats["30190000"],
        lead_region=rh,
        status=TenderCase.Status.IN_TENDER,
        expected_tender_start=D(2025, 11, 1),
        publication_date=D(2026, 1, 10),
        estimated_annual_value=Decimal("4000000"),
        participations={rh: FULL, rm: FULL, rsj: FULL},
    )
    plan["gloves"] = make_tender(
        "FUP-2025-060",
        title="Undersøgelseshandsker",
        category=cats["33140000"],
        lead_region=rsd,
        status=TenderCase.Status.PLANNED,
        expected_tender_start=D(2025, 9, 1),
        publication_date=D(2025, 12, 1),
        participations={rsd: FULL, rn: FULL},
    )
    plan["beds"] = make_tender(
        "FUP-2023-010",
        title="Hospitalssenge",
        kind=TenderCase.Kind.ONE_OFF,
        category=cats["33192000"],
        lead_region=rsd,
        status=TenderCase.Status.IN_CONTRACT,
        expected_tender_start=D(2023, 2, 1),
        publication_date=D(2023, 4, 1),
        award_date=D(2023, 9, 1),
        contract_start=D(2024, 1, 1),
        contract_end=D(2027, 12, 31),
        participations={rsd: FULL, rm: FULL, rh: FULL, rn: OPTION},
    )
    plan["cancelled"] = make_tender(
        "FUP-2026-102",
        title="Aflyst vaskeriudbud",
        category=cats["33190000"],
        lead_region=rn,
        status=TenderCase.Status.CANCELLED,
        expected_tender_start=D(2027, 1, 10),
        participations={rn: FULL},
    )
    plan["ski"] = make_tender(
        "FUP-2026-103",
        title="Printere via SKI",
        area=TenderCase.Area.GOODS_SERVICES,
        kind=TenderCase.Kind.FRAMEWORK,
        category=cats["30000000"],
        lead_partner=PartnerBody.objects.get(code="SKI"),
        status=TenderCase.Status.PLANNED,
        expected_tender_start=D(2027, 8, 20),
        participations={rm: FULL, rn: FULL},
    )
    plan["internal"] = make_tender(
        "FUP-2026-104",
        title="Intern sag om dialyse",
        category=cats["33140000"],
        lead_region=rm,
        is_publishable=False,
        expected_tender_start=D(2027, 5, 1),
        participations={rm: FULL, rsd: FULL},
    )
    return plan


@pytest.fixture
def plan(regions) -> dict[str, TenderCase]:
    return build_plan(regions)


def english_client():
    """A visitor who chose English: assertions on UI text then hold whatever the Danish
    catalogue says (it is translated separately)."""
    client = Client()
    client.post(reverse("set_language"), {"language": "en"})
    return client
