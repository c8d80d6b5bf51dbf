"""The plan's file format: its columns, their Danish and English headers, the words in cells.

The export's layout is also the import's: export → import of the same file changes
nothing, and into an empty database it reproduces the plan. The headers and the words in
the cells (status, area, participation …) are a file format with a Danish and an English
spelling, written out here rather than taken from the translations, so that a reworded
translation never makes an older file unreadable; the import accepts either language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import get_language

from tenders.models import Participation, TenderCase


@dataclass(frozen=True)
class Column:
    key: str
    da: str
    en: str
    kind: str  # text, date, money, bool, area, kind, status, cpv, region, partner, …
    width: int = 14


TENDER_COLUMNS: tuple[Column, ...] = (
    Column("reference", "Reference", "Reference", "text", 15),
    Column("title", "Titel", "Title", "text", 40),
    Column("description", "Beskrivelse", "Description", "text", 50),
    Column("category", "CPV-kode", "CPV code", "cpv", 12),
    Column("area", "Område", "Area", "area", 24),
    Column("kind", "Aftaletype", "Kind", "kind", 18),
    Column("has_options", "Optioner", "Options", "bool", 10),
    Column("lead_region", "Tovholder (region)", "Lead region", "region", 12),
    Column("lead_partner", "Tovholder (partner)", "Lead partner body", "partner", 12),
    Column("status", "Status", "Status", "status", 18),
    Column("expected_tender_start", "Forventet udbudsstart", "Expected tender start", "date"),
    Column("publication_date", "Offentliggørelse", "Publication", "date"),
    Column("award_date", "Tildeling", "Award", "date"),
    Column("contract_start", "Kontraktstart", "Contract start", "date"),
    Column("contract_end", "Kontraktudløb", "Contract end", "date"),
    Column("extension_until", "Forlængelse til", "Extension until", "date"),
    Column("decision_deadline", "Beslutningsfrist", "Decision deadline", "date"),
    Column(
        "estimated_annual_value",
        "Anslået årlig kontraktsum",
        "Estimated annual value",
        "money",
        18,
    ),
    Column("is_publishable", "Må offentliggøres", "Publishable", "bool", 10),
    Column("internal_notes", "Interne noter", "Internal notes", "text", 40),
)

# One column per active region for each of these; the header is "<prefix> <region code>".
PARTICIPATION_COLUMNS: tuple[Column, ...] = (
    Column("status", "Deltagelse", "Participation", "participation", 14),
    Column("opt_out_reason", "Fravalgsårsag", "Opt-out reason", "reason", 16),
    Column("justification", "Begrundelse", "Justification", "text", 40),
    Column(
        "existing_contract_end",
        "Eksisterende kontrakt udløber",
        "Existing contract ends",
        "date",
    ),
    Column("option_expected_join", "Forventet tiltrædelse", "Expected to join", "date"),
    Column("option_exercised_on", "Option udnyttet", "Option exercised", "date"),
    Column("estimated_annual_value", "Årlig værdi", "Annual value", "money", 16),
)

WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "area": {
        TenderCase.Area.GOODS_SERVICES: ("Varer og tjenesteydelser", "Goods and services"),
        TenderCase.Area.MEDICO_ACQUISITIONS: ("Medico og anskaffelser", "Medico and acquisitions"),
    },
    "kind": {
        TenderCase.Kind.FRAMEWORK: ("Rammeaftale", "Framework agreement"),
        TenderCase.Kind.ONE_OFF: ("Engangskøb", "One-off purchase"),
    },
    "status": {
        TenderCase.Status.PLANNED: ("Kommende", "Planned"),
        TenderCase.Status.IN_TENDER: ("Aktuel", "In tender"),
        TenderCase.Status.IN_CONTRACT: ("I kontraktperiode", "In contract period"),
        TenderCase.Status.ENDED: ("Afsluttet", "Ended"),
        TenderCase.Status.CANCELLED: ("Annulleret", "Cancelled"),
    },
    "participation": {
        Participation.Status.FULL: ("Fuld", "Full"),
        Participation.Status.OPTION: ("Option", "Option"),
        Participation.Status.OPTED_OUT: ("Fravalgt", "Opted out"),
        Participation.Status.PENDING: ("Afventer", "Pending"),
    },
    "bool": {True: ("ja", "yes"), False: ("nej", "no")},
}
# Other spellings people type; matched without regard to case.
SYNONYMS: dict[str, dict[str, Iterable[str]]] = {
    "status": {
        TenderCase.Status.PLANNED: ("planlagt", "upcoming"),
        TenderCase.Status.IN_TENDER: ("i udbud", "current"),
        TenderCase.Status.IN_CONTRACT: ("i kontrakt", "in contract"),
        TenderCase.Status.ENDED: ("udløbet",),
        TenderCase.Status.CANCELLED: ("aflyst", "canceled"),
    },
    "participation": {
        Participation.Status.FULL: ("deltager fuldt ud", "fuldt", "full participation"),
        Participation.Status.OPTION: ("på option", "på en option", "on an option"),
        Participation.Status.OPTED_OUT: ("fravalg", "opted-out", "opt-out", "opt out"),
        Participation.Status.PENDING: ("pending decision",),
    },
    "bool": {True: ("j", "y", "true", "1", "x", "sand"), False: ("n", "false", "0", "falsk")},
}


def active_language() -> str:
    return "en" if (get_language() or "da").startswith("en") else "da"


def header_text(column: Column, language: str, region_code: str | None = None) -> str:
    text = column.en if language == "en" else column.da
    return f"{text} {region_code}" if region_code else text


def word_for(kind: str, value, language: str) -> str:
    da, en = WORDS[kind][value]
    return en if language == "en" else da


def normalise(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def vocabulary_of(kind: str) -> dict[str, object]:
    """Every accepted spelling (both languages, the stored code, synonyms) → value."""
    vocabulary: dict[str, object] = {}
    for value, spellings in WORDS[kind].items():
        for spelling in (*spellings, *SYNONYMS.get(kind, {}).get(value, ())):
            vocabulary[normalise(spelling)] = value
        if isinstance(value, str):
            vocabulary[normalise(value)] = value
            vocabulary[normalise(value.replace("_", " "))] = value
    return vocabulary


def plan_sheet_title(language: str) -> str:
    return "Tender plan" if language == "en" else "Udbudsplan"


def export_filename(stem: str) -> str:
    return f"{stem}-{timezone.localdate():%Y-%m-%d}.xlsx"
