"""The ledger-line columns, the header names regions' exports use for them, and the mapping."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from spend.importer.errors import ImportRefused

# (canonical name, whether the file must have the column)
COLUMNS: tuple[tuple[str, bool], ...] = (
    ("posting_date", True),
    ("voucher_no", True),
    ("invoice_no", True),
    ("supplier_id", True),
    ("supplier_name", True),
    ("account", True),
    ("cost_centre", True),
    ("amount", True),
    ("description", True),
    ("order_channel", False),
    ("category_code", False),
    # Not stored: when present, every line must name the region the file is imported for.
    ("region", False),
)
CANONICAL = tuple(name for name, _required in COLUMNS)
REQUIRED = tuple(name for name, required in COLUMNS if required)
LINE_FIELDS = tuple(name for name in CANONICAL if name != "region")

# Header names seen in the regions' exports, normalised by header_key().
ALIASES: dict[str, tuple[str, ...]] = {
    "posting_date": (
        "bogføringsdato",
        "bogfoeringsdato",
        "bogforingsdato",
        "bogf_dato",
        "bogføringsdag",
        "posteringsdato",
        "posting_dato",
        "bilagsdato",
        "dato",
        "date",
    ),
    "voucher_no": (
        "bilagsnr",
        "bilagsnummer",
        "bilag",
        "bilag_nr",
        "voucher",
        "voucher_number",
        "document_no",
    ),
    "invoice_no": (
        "fakturanr",
        "fakturanummer",
        "faktura",
        "faktura_nr",
        "invoice",
        "invoice_number",
    ),
    "supplier_id": (
        "leverandør_id",
        "leverandørid",
        "leverandoer_id",
        "leverandor_id",
        "leverandør_cvr",
        "leverandør_cvr_nr",
        "cvr",
        "cvr_nr",
        "cvrnr",
        "cvr_nummer",
        "se_nr",
        "supplier_cvr",
        "vendor_id",
    ),
    "supplier_name": (
        "leverandørnavn",
        "leverandør_navn",
        "leverandoernavn",
        "leverandornavn",
        "leverandør",
        "kreditor",
        "kreditornavn",
        "vendor_name",
    ),
    "account": ("konto", "kontonr", "kontonummer", "finanskonto", "artskonto", "account_no"),
    "cost_centre": (
        "omkostningssted",
        "omk_sted",
        "omkostningssted_nr",
        "omkostningsted",
        "ansvarssted",
        "cost_center",
        "costcentre",
        "costcenter",
    ),
    "amount": (
        "beløb",
        "beloeb",
        "belob",
        "beløb_dkk",
        "beløb_kr",
        "nettobeløb",
        "amount_dkk",
    ),
    "description": (
        "tekst",
        "text",
        "beskrivelse",
        "posteringstekst",
        "fakturatekst",
        "linjetekst",
    ),
    "order_channel": (
        "bestillingskanal",
        "ordrekanal",
        "indkøbskanal",
        "kanal",
        "channel",
        "ordering_channel",
    ),
    "category_code": (
        "kategori",
        "kategorikode",
        "varekategori",
        "cpv",
        "cpv_kode",
        "cpv_code",
        "category",
    ),
    "region": ("regionskode", "region_kode", "region_code"),
}

# The header each column has in the upload template, in Danish as the regions' exports
# write it; header_key() maps each back to its column.
DANISH_HEADERS: dict[str, str] = {
    "posting_date": "Bogføringsdato",
    "voucher_no": "Bilagsnr",
    "invoice_no": "Fakturanr",
    "supplier_id": "Leverandør CVR",
    "supplier_name": "Leverandørnavn",
    "account": "Konto",
    "cost_centre": "Omkostningssted",
    "amount": "Beløb",
    "description": "Tekst",
    "order_channel": "Bestillingskanal",
    "category_code": "CPV-kode",
    "region": "Regionskode",
}


@dataclass(frozen=True)
class ColumnGuide:
    """One column as the upload page explains it."""

    name: str  # canonical
    danish: str
    required: bool
    synonyms: tuple[str, ...]


def column_guide() -> list[ColumnGuide]:
    """The ledger columns in file order: Danish header, required or not, the names accepted."""
    return [
        ColumnGuide(
            name=name,
            danish=DANISH_HEADERS[name],
            required=required,
            synonyms=tuple(
                alias
                for alias in ALIASES.get(name, ())
                if header_key(alias) != header_key(DANISH_HEADERS[name])
            ),
        )
        for name, required in COLUMNS
    ]


_SEPARATORS = re.compile(r"[\s\-./:#()]+")


def header_key(header: str) -> str:
    """Compare headers case- and punctuation-blind: ``"Leverandør CVR-nr."`` → ``leverandør_cvr_nr``."""
    text = header.replace("\ufeff", "").strip().strip('"').lower()
    return _SEPARATORS.sub("_", text).strip("_")


def _alias_table() -> dict[str, str]:
    table = {name: name for name in CANONICAL}
    for canonical, aliases in ALIASES.items():
        for alias in aliases:
            table[header_key(alias)] = canonical
    return table


ALIAS_TABLE = _alias_table()


@dataclass(frozen=True)
class ColumnMap:
    """Which position of the file holds which canonical column, and its header as written."""

    positions: dict[str, int]
    headers: dict[str, str]
    ignored: tuple[str, ...]

    def header(self, canonical: str) -> str:
        return self.headers.get(canonical, canonical)


def map_columns(headers: list[str], saved: Iterable[tuple[str, str]] = ()) -> ColumnMap:
    """Map the file's header row to canonical columns.

    ``saved`` holds the region's own (source header, canonical) pairs; they win over the
    built-in aliases. Refuses a file that lacks a required column or names one twice.
    """
    table = dict(ALIAS_TABLE)
    for source_header, canonical in saved:
        if canonical in CANONICAL:
            table[header_key(source_header)] = canonical
    positions: dict[str, int] = {}
    written: dict[str, str] = {}
    ignored: list[str] = []
    for position, header in enumerate(headers):
        key = header_key(header or "")
        canonical = table.get(key)
        if canonical is None:
            if key:
                ignored.append(header.strip())
            continue
        if canonical in positions:
            raise ImportRefused(
                _("The columns “%(first)s” and “%(second)s” both hold %(column)s.")
                % {"first": written[canonical], "second": header.strip(), "column": canonical},
                code="duplicate_column",
                column=header.strip(),
            )
        positions[canonical] = position
        written[canonical] = header.replace("\ufeff", "").strip()
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        # Named as the upload page and its template name them: in Danish.
        names = ", ".join(f"“{DANISH_HEADERS[name]}”" for name in missing)
        found = ", ".join(h.replace("\ufeff", "").strip() for h in headers if h) or "—"
        raise ImportRefused(
            ngettext(
                "The file lacks the required column %(names)s. The file's columns are: "
                "%(found)s. Rename the column, or save a column mapping for your region.",
                "The file lacks the required columns %(names)s. The file's columns are: "
                "%(found)s. Rename the columns, or save a column mapping for your region.",
                len(missing),
            )
            % {"names": names, "found": found},
            code="missing_column",
            column=DANISH_HEADERS[missing[0]],
        )
    return ColumnMap(positions=positions, headers=written, ignored=tuple(ignored))
