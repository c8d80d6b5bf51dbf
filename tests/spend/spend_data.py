"""Hand-made spend fixtures: a few CPV codes, current batches, ledger lines and contracts.

Tests write lines with the ORM; the importer writes them with COPY.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from rfi.models import Category, Region
from rfi.services import cpv_level
from spend.models import ImportBatch, LedgerLine
from suppliers.models import Contract, Supplier

_rows = itertools.count(1)

LABELS = {
    "33000000": "Medicinsk udstyr",
    "33100000": "Medicinsk udstyr (gruppe)",
    "33140000": "Medicinske forbrugsvarer",
    "33141000": "Ikke-kemiske medicinske forbrugsvarer",
    "33141110": "Forbindinger",
    "33600000": "Lægemidler",
    "30000000": "Kontormaskiner",
    "30190000": "Diverse kontorudstyr",
    "03000000": "Landbrugsprodukter",
    "03111000": "Frø",
    "45000000": "Bygge- og anlægsarbejder",
    "85000000": "Sundhedsvæsen",
    "85100000": "Sundhedstjenester",
}


def category(code: str) -> Category:
    """The CPV code with its ancestors (the tree follows the code prefix)."""
    significant = code[:2] + code[2:].rstrip("0")
    parent = None
    if len(significant) > 2:
        for length in range(len(significant) - 1, 1, -1):
            parent_code = significant[:length].ljust(8, "0")
            if parent_code != code:
                parent = category(parent_code)
                break
    label = LABELS.get(code, f"Kategori {code}")
    obj, _ = Category.objects.get_or_create(
        code=code,
        defaults={
            "check_digit": "0",
            "label_da": label,
            "label_en": label,
            "level": cpv_level(code),
            "parent": parent,
        },
    )
    return obj


def batch(region: Region, *, current: bool = True, year: int = 2025, **fields) -> ImportBatch:
    n = next(_rows)
    defaults = {
        "period_start": dt.date(year, 1, 1),
        "period_end": dt.date(year, 12, 31),
        "source": ImportBatch.Source.COMMAND,
        "file_name": f"hovedbog-{n}.csv",
        "sha256": f"{n:064x}",
        "status": ImportBatch.Status.DONE if current else ImportBatch.Status.SUPERSEDED,
        "is_current": current,
    }
    defaults.update(fields)
    return ImportBatch.objects.create(region=region, **defaults)


def lines(batch_: ImportBatch, *rows: dict) -> list[LedgerLine]:
    """Ledger lines of a batch; each row gives the fields that matter to the test."""
    objs = []
    for row in rows:
        values = {
            "posting_date": dt.date(2025, 3, 1),
            "supplier_id": "11111111",
            "supplier_name": "Leverandør A/S",
            "invoice_no": f"F{next(_rows)}",
            "amount": Decimal("1000.00"),
        }
        values.update(row)
        if isinstance(values["amount"], int | float | str):
            values["amount"] = Decimal(str(values["amount"]))
        objs.append(
            LedgerLine(batch=batch_, region_id=batch_.region_id, row_number=next(_rows), **values)
        )
    return LedgerLine.objects.bulk_create(objs)


def supplier(identifier: str, name: str = "") -> Supplier:
    obj, _ = Supplier.objects.get_or_create(
        identifier=identifier, defaults={"name": name or f"Leverandør {identifier}"}
    )
    return obj


def contract(
    region: Region,
    supplier_id: str,
    start: dt.date,
    end: dt.date,
    *,
    code: str | None = None,
    extended_until: dt.date | None = None,
    title: str = "Aftale",
) -> Contract:
    return Contract.objects.create(
        region=region,
        supplier=supplier(supplier_id),
        title=title,
        category=category(code) if code else None,
        start_date=start,
        end_date=end,
        extended_until=extended_until,
    )


def tree() -> dict[str, Category]:
    """Every code in LABELS, with its ancestors."""
    return {code: category(code) for code in LABELS}
