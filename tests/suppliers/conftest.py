"""Fixtures of the contract registry: a small CPV tree and contracts made through the services."""

from __future__ import annotations

import datetime as dt

import pytest

from rfi.models import Category
from suppliers import services
from suppliers.models import Contract
from tenders.models import TenderCase

TODAY = dt.date(2026, 3, 15)
CPV = (
    # code, check digit, level, Danish label
    ("33000000", "0", 1, "Medicinsk udstyr, lægemidler og produkter til personlig pleje"),
    ("33100000", "1", 2, "Medicinsk udstyr"),
    ("33140000", "3", 3, "Medicinske forbrugsartikler"),
    ("33141000", "0", 4, "Ikke-kemiske medicinske engangsforbrugsartikler"),
    ("33141200", "2", 5, "Katetre"),
    ("33600000", "6", 2, "Lægemidler"),
    ("79000000", "4", 1, "Forretningstjenester"),
    ("79500000", "9", 2, "Kontorstøttearbejde"),
    ("79540000", "1", 3, "Tolkning"),
)


@pytest.fixture
def cpv(db) -> dict[str, Category]:
    """A slice of the CPV tree: medical consumables and interpreting."""
    made: dict[str, Category] = {}
    for code, digit, level, label in CPV:
        parent = next(
            (made[c] for c in sorted(made, reverse=True) if code.startswith(made[c].prefix)),
            None,
        )
        made[code], _ = Category.objects.get_or_create(
            code=code,
            defaults={
                "check_digit": digit,
                "label_da": label,
                "label_en": label,
                "level": level,
                "parent": parent,
            },
        )
    return made


@pytest.fixture
def make_contract(regions, cpv, secretariat):
    """``make_contract("RM", title=..., end_date=...)``: a contract registered by the secretariat."""
    counter = iter(range(10_000_000, 99_999_999, 7919))

    def make(region: str, **fields) -> Contract:
        identifier = fields.pop("supplier_identifier", None) or str(next(counter))
        supplier = services.supplier_upsert(
            identifier=identifier,
            name=fields.pop("supplier_name", f"Leverandør {identifier} A/S"),
            actor=secretariat,
        )
        category = fields.pop("category", "33141200")
        defaults = {
            "title": "Katetre",
            "category": cpv[category] if isinstance(category, str) else category,
            "start_date": dt.date(2024, 1, 1),
            "end_date": dt.date(2027, 12, 31),
            "kind": Contract.Kind.FRAMEWORK,
        }
        return services.contract_create(
            actor=secretariat,
            region=regions[region],
            supplier=supplier,
            **{**defaults, **fields},
        )

    return make


@pytest.fixture
def make_tender(regions, cpv):
    """``make_tender("FUP-2024-001")``: a joint case led by RM, made directly (no services)."""

    def make(reference: str, **fields) -> TenderCase:
        defaults = {
            "title": "Fælles katetre",
            "category": cpv["33141200"],
            "area": TenderCase.Area.MEDICO_ACQUISITIONS,
            "kind": TenderCase.Kind.FRAMEWORK,
            "lead_region": regions["RM"],
        }
        return TenderCase.objects.create(reference=reference, **{**defaults, **fields})

    return make
