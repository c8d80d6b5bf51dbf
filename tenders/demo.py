"""A realistic demo plan in the shape of the regions' 2015 status report.

119 joint tenders in the report's scope (56 upcoming/current + 41 in contract
period in goods and services, 15 + 7 in medico and acquisitions) with annual
contract sums of 1,598 mio. DKK in all (see CELL_VALUES), about 3.6
participating regions per tender including the lead (every planned case expected
to start by the end of next year, the report's horizon), plus ended and cancelled
cases; opt-outs with reasons and written justifications, options (some
exercised), pending and overdue decisions, UFO candidate areas scored by the
demo UFO users, and savings on awarded cases.

Everything goes through the services (so the history shows who did what), is
drawn from ``random.Random(2015)`` and dated relative to ``today``. A case or a
candidate whose title already exists is left alone, so a second run changes
nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from rfi.models import Category, PartnerBody, Region
from tenders import services
from tenders.models import (
    CandidateArea,
    OptOutReason,
    Participation,
    SavingsMethod,
    SavingsRecord,
    ScoringCriterion,
    TenderCase,
)
from tenders.reference import plan_reference_load

Area = TenderCase.Area
Kind = TenderCase.Kind
Status = TenderCase.Status
MIO = Decimal("1000000")

# (title, CPV code); the second case of an area is its re-tender ("genudbud").
GOODS_SERVICES = (
    ("Kontorartikler", "30192000"),
    ("Kopi- og printpapir", "30197630"),
    ("Rengøringsmidler", "39830000"),
    ("Undersøgelseshandsker", "18424000"),
    ("Sterile operationshandsker", "33141420"),
    ("Katetre", "33141200"),
    ("Kanyler og sprøjter", "33141320"),
    ("Dræn og sug", "33141600"),
    ("Forbindsstoffer og sårpleje", "33141110"),
    ("Blodprøvetagningsudstyr", "33141300"),
    ("Medicinske procedurepakker", "33141620"),
    ("Personalebeklædning", "33199000"),
    ("Laboratoriereagenser", "33696500"),
    ("Medicinske gasser", "24111500"),
    ("Tolkebistand", "79540000"),
    ("Vikarydelser – sygeplejersker", "79620000"),
    ("Revisionsydelser", "79212000"),
    ("Juridisk bistand", "79100000"),
    ("Flytteydelser", "79613000"),
    ("Vagt- og sikkerhedsydelser", "79710000"),
    ("Rengøringsservice", "90910000"),
    ("Vask af hospitalstekstiler", "98310000"),
    ("Liggende patientbefordring", "60130000"),
    ("Kød og kødprodukter", "15100000"),
    ("Frugt og grønt", "15300000"),
    ("Mejeriprodukter", "15500000"),
    ("Kaffe og te", "15860000"),
    ("Fastnet- og datatelefoni", "64210000"),
    ("Mobiltelefoner", "32250000"),
    ("Pc'er og bærbare computere", "30213000"),
    ("Printere og multifunktionsmaskiner", "30232110"),
    ("Standardsoftware og licenser", "48000000"),
    ("IT-konsulentydelser", "72000000"),
    ("Kontormøbler", "39100000"),
    ("Hospitalssenge", "33192100"),
    ("Kørestole", "33193000"),
    ("Høreapparater", "33185000"),
    ("Brændstof til køretøjer", "09100000"),
    ("Elektricitet", "09310000"),
    ("Affaldshåndtering", "90500000"),
    ("Arbejdstøj og fodtøj", "18100000"),
    ("Patienttekstiler", "39500000"),
    ("Elartikler", "31600000"),
    ("Batterier", "31440000"),
    ("Belysning og lyskilder", "31500000"),
    ("Byggematerialer", "44000000"),
    ("Ortopædiske artikler", "33141700"),
    ("Tandplejeartikler", "33141800"),
    ("Hospitalsartikler af papir", "33198000"),
    ("Hånddesinfektion og desinfektionsmidler", "33631600"),
    ("Sæbe og hudpleje", "33711900"),
    ("Personlige værnemidler", "18143000"),
    ("Ernæringsprodukter", "15800000"),
    ("Cateringydelser", "55520000"),
    ("Oversættelse", "79530000"),
    ("Forsikring", "66510000"),
    ("Service på medicoteknisk udstyr", "50421000"),
    ("Energirådgivning", "71314000"),
    ("Ambulancer", "34114121"),
    ("Personbiler og leasing", "34110000"),
    ("Toiletpapir og håndklædeark", "33761000"),
    ("Affaldssække", "19640000"),
    ("Trykning", "79810000"),
    ("Kurser og kompetenceudvikling", "80500000"),
    ("Facility management", "79993100"),
    ("Telekommunikationsudstyr", "32500000"),
    ("Drift af IT-systemer", "72260000"),
    ("IT-tilbehør", "30237000"),
    ("Fyringsolie", "09135000"),
    ("Tilbehør til kopimaskiner", "30125000"),
)
MEDICO_ACQUISITIONS = (
    ("Røntgenudstyr", "33111000"),
    ("CT-scannere", "33115000"),
    ("Ultralydsscannere", "33112000"),
    ("MR-scannere", "33113000"),
    ("Patientmonitorering", "33195000"),
    ("Infusionspumper", "33194000"),
    ("Dialyseudstyr", "33181000"),
    ("Respiratorer", "33157000"),
    ("Endoskoper", "33168000"),
    ("Laboratorieanalyseudstyr", "38430000"),
    ("Defibrillatorer", "33182100"),
    ("Operationsborde", "33192230"),
    ("Sterilisationsudstyr", "33191000"),
    ("Oftalmologisk udstyr", "33122000"),
    ("Udstyr til hjerte-kar-undersøgelser", "33123000"),
    ("Anæstesiudstyr", "33172000"),
    ("Kirurgiske instrumenter", "33169000"),
    ("Strålebehandlingsudstyr", "33158000"),
    ("Udstyr til operationsstuer", "33162000"),
    ("Hjerte-lunge-maskiner", "33186000"),
)
AMGROS_PILOTS = (
    ("Medicinsk ernæring – pilotudbud med Amgros", "15800000", Area.GOODS_SERVICES, "in_contract"),
    (
        "Infusionssæt til medicinpumper – pilotudbud med Amgros",
        "33194000",
        Area.MEDICO_ACQUISITIONS,
        "in_tender",
    ),
)
# (area, status) → number of cases; the report's cells, then the ended and cancelled ones.
SHAPE = {
    (Area.GOODS_SERVICES, Status.PLANNED): 34,
    (Area.GOODS_SERVICES, Status.IN_TENDER): 22,
    (Area.GOODS_SERVICES, Status.IN_CONTRACT): 41,
    (Area.GOODS_SERVICES, Status.ENDED): 6,
    (Area.GOODS_SERVICES, Status.CANCELLED): 2,
    (Area.MEDICO_ACQUISITIONS, Status.PLANNED): 9,
    (Area.MEDICO_ACQUISITIONS, Status.IN_TENDER): 6,
    (Area.MEDICO_ACQUISITIONS, Status.IN_CONTRACT): 7,
    (Area.MEDICO_ACQUISITIONS, Status.ENDED): 3,
    (Area.MEDICO_ACQUISITIONS, Status.CANCELLED): 1,
}
# Annual contract sums of the report's cells, mio. DKK. The published cells (887 / 612 /
# 115 / 84) add up to 1,698, not to the 1,598 the report states as the total (its count
# row has a slip too: 46 for 41); the demo keeps the stated total, 1,598, and three of the
# cells, and takes the goods in contract period as 512.
CELL_VALUES = {
    (Area.GOODS_SERVICES, "active"): 887,
    (Area.GOODS_SERVICES, "contract"): 512,
    (Area.MEDICO_ACQUISITIONS, "active"): 115,
    (Area.MEDICO_ACQUISITIONS, "contract"): 84,
}
# Participating regions per tender (lead included) over the report's 119 tenders:
# 32×5 + 26×4 + 43×3 + 18×2 = 429, i.e. 3.6 per tender.
PARTICIPANT_COUNTS = {5: 32, 4: 26, 3: 43, 2: 18}
# Rough shares of the regions' purchasing: who leads, and how a tender's value splits.
REGION_WEIGHTS = {"RH": 0.30, "RM": 0.24, "RSD": 0.22, "RSJ": 0.13, "RN": 0.11}
REASON_WEIGHTS = {
    "existing-contract": 35,
    "clinical-needs": 25,
    "volume-too-small": 15,
    "local-market": 15,
    "other": 10,
}
JUSTIFICATIONS = {
    "existing-contract": (
        "Regionen har en gældende kontrakt på området til og med {date} og deltager gerne "
        "ved næste genudbud.",
        "Regionen er bundet af en egen aftale, der udløber {date}; en tidligere opsigelse vil "
        "udløse erstatningskrav fra leverandøren.",
        "Vores nuværende aftale løber til {date} med option på forlængelse, som regionen har "
        "besluttet at udnytte.",
    ),
    "clinical-needs": (
        "Regionens klinikere vurderer, at de standardiserede produkter ikke dækker behovene i "
        "vores højt specialiserede funktioner.",
        "Regionen har særlige kliniske krav fra neonatal- og børneafdelingerne, som ikke kan "
        "rummes i den fælles kravspecifikation.",
        "Den kliniske styregruppe har valgt et andet behandlingskoncept, og produkterne i "
        "udbuddet passer ikke til det.",
    ),
    "volume-too-small": (
        "Regionens årlige forbrug på området er under 200.000 kr., så gevinsten står ikke mål "
        "med omkostningerne ved at implementere en ny aftale.",
        "Forbruget er samlet på ét hospital og så lille, at regionen dækker det via den "
        "eksisterende SKI-aftale.",
    ),
    "local-market": (
        "Regionen køber området hos lokale leverandører med kort leveringstid til øerne, hvilket "
        "en fælles aftale ikke kan sikre.",
        "Der er kun én leverandør med serviceorganisation i regionens område; et fælles udbud "
        "vil forringe servicen på udstyret.",
    ),
    "other": (
        "Regionen er midt i en omlægning af hospitalsstrukturen og kan ikke forpligte sig til en "
        "volumen, før flytningen er gennemført.",
        "Området indgår i regionens OPP-projekt for det nye hospital og er derfor allerede "
        "dækket af den aftale.",
    ),
}
NOTES = (
    "Markedsdialog gennemført med fem leverandører.",
    "Kravspecifikationen genbruger den fælles standard for funktionskrav.",
    "Brugergruppe med deltagelse fra alle deltagende regioner.",
    "",
    "",
    "",
)
CANDIDATES = (
    ("Kompressionsbehandling", "33141000", 4.1),
    ("Insulinpenne og pennekanyler", "33141320", 3.9),
    ("Ernæringspumper og sonder", "33194000", 3.2),
    ("Forflytningshjælpemidler", "33192100", 2.6),
    ("Laboratorieplast", "33696500", 3.0),
    ("Videotolkning", "79540000", 3.7),
    ("Drift af patientjournalsystemer", "72260000", 2.2),
    ("Flytning af hospitalsafdelinger", "79613000", 2.9),
    ("Affaldssortering på hospitaler", "90500000", 3.4),
    ("Energirenovering – rådgivning", "71314000", 2.4),
    ("Høreapparatbatterier", "31440000", 3.5),
    ("Kaffeautomater og service", "15860000", 1.9),
)
SCORE_COMMENTS = {
    "volume-savings": ("Stort samlet forbrug i alle regioner.", "Moderat volumen."),
    "tender-history": ("Ingen tidligere fælles udbud.", "Udbudt regionalt i 2013."),
    "complexity": ("Enkle standardprodukter.", "Kræver klinisk inddragelse."),
    "market-analysis": ("Mange leverandører på markedet.", "Få leverandører; afhængighed."),
}


@dataclass
class DemoResult:
    tenders: int = 0
    candidates: int = 0
    savings: int = 0
    skipped: int = 0


@dataclass
class TenderSpec:
    title: str
    cpv: str
    area: str
    status: str
    lead: str  # region code, or a partner body code
    partner_led: bool = False
    kind: str = Kind.FRAMEWORK
    has_options: bool = True
    dates: dict = field(default_factory=dict)
    value: Decimal = Decimal("0")
    participants: int = 0
    overdue: bool = False
    deadline_in: int | None = None
    notes: str = ""


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def _split(rng: random.Random, total_mio: int, count: int) -> list[Decimal]:
    """``count`` uneven amounts (to 0.1 mio.) that sum exactly to ``total_mio`` mio."""
    weights = [rng.lognormvariate(0, 0.8) for _ in range(count)]
    scale = Decimal(total_mio * 10) / Decimal(str(sum(weights)))
    tenths = [max(1, int(Decimal(str(w)) * scale)) for w in weights]
    tenths[tenths.index(max(tenths))] += total_mio * 10 - sum(tenths)
    return [Decimal(t) * MIO / 10 for t in tenths]


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _within_horizon(today: dt.date, draw: int) -> dt.date:
    """A planned start 45 days ahead up to the status report's horizon (end of next year).

    ``draw`` is a 45–700 draw; it is scaled rather than redrawn so the rest of the demo's
    random sequence stays as it was.
    """
    span = (dt.date(today.year + 1, 12, 31) - today).days
    return today + _days(45 + (draw - 45) * (span - 45) // (700 - 45))


def _dates(rng: random.Random, status: str, today: dt.date) -> dict:
    if status in (Status.PLANNED, Status.CANCELLED):
        start = _within_horizon(today, rng.randint(45, 700))
        if status == Status.CANCELLED:
            start = today - _days(rng.randint(30, 300))
        return {
            "expected_tender_start": start,
            "decision_deadline": start - _days(rng.randint(21, 45)),
        }
    if status == Status.IN_TENDER:
        start = today - _days(rng.randint(60, 300))
        publication = min(start + _days(rng.randint(10, 50)), today - _days(1))
        return {
            "expected_tender_start": start,
            "publication_date": publication,
            "decision_deadline": start - _days(rng.randint(21, 45)),
        }
    if status == Status.IN_CONTRACT:
        contract_start = today - _days(rng.randint(30, 1200))
        contract_end = contract_start + _days(365 * rng.randint(2, 4))
        if contract_end <= today:
            contract_end = today + _days(rng.randint(60, 700))
    else:  # ended
        contract_end = today - _days(rng.randint(20, 700))
        contract_start = contract_end - _days(365 * rng.randint(2, 4))
    award = contract_start - _days(rng.randint(20, 60))
    publication = award - _days(rng.randint(60, 150))
    start = publication - _days(rng.randint(30, 90))
    dates = {
        "expected_tender_start": start,
        "publication_date": publication,
        "award_date": award,
        "contract_start": contract_start,
        "contract_end": contract_end,
        "decision_deadline": start - _days(rng.randint(21, 45)),
    }
    if rng.random() < 0.7:
        dates["extension_until"] = contract_end + _days(365 * rng.randint(1, 2))
    return dates


def plan_specs(*, today: dt.date) -> list[TenderSpec]:
    """The demo plan as data: a pure function of the seed and ``today``."""
    rng = random.Random(2015)
    specs: list[TenderSpec] = []
    order = (Status.ENDED, Status.IN_CONTRACT, Status.IN_TENDER, Status.CANCELLED, Status.PLANNED)
    for area, areas in (
        (Area.GOODS_SERVICES, GOODS_SERVICES),
        (Area.MEDICO_ACQUISITIONS, MEDICO_ACQUISITIONS),
    ):
        items = list(areas)
        rng.shuffle(items)
        pilots = [p for p in AMGROS_PILOTS if p[2] == area]
        slots = [status for status in order for _ in range(SHAPE[(area, status)])]
        for pilot in pilots:
            slots.remove(pilot[3])
        for index, status in enumerate(slots):
            title, cpv = items[index % len(items)]
            if index >= len(items):
                title = f"{title} – genudbud"
            one_off = area == Area.MEDICO_ACQUISITIONS and rng.random() < 0.45
            one_off = one_off or (area == Area.GOODS_SERVICES and rng.random() < 0.06)
            specs.append(
                TenderSpec(
                    title=title,
                    cpv=cpv,
                    area=area,
                    status=status,
                    lead=_weighted(rng, REGION_WEIGHTS),
                    kind=Kind.ONE_OFF if one_off else Kind.FRAMEWORK,
                    has_options=not one_off and rng.random() < 0.85,
                    dates=_dates(rng, status, today),
                    notes=rng.choice(NOTES),
                )
            )
        for title, cpv, _area, status in pilots:
            specs.append(
                TenderSpec(
                    title=title,
                    cpv=cpv,
                    area=area,
                    status=status,
                    lead="AMGROS",
                    partner_led=True,
                    has_options=True,
                    dates=_dates(rng, status, today),
                    notes="Pilotudbud: Amgros er udbudsansvarlig på regionernes vegne.",
                )
            )

    in_report = [s for s in specs if s.status not in (Status.ENDED, Status.CANCELLED)]
    counts = [n for n, times in PARTICIPANT_COUNTS.items() for _ in range(times)]
    rng.shuffle(counts)
    for spec, count in zip(in_report, counts, strict=True):
        spec.participants = count
    for spec in specs:
        if spec.status in (Status.ENDED, Status.CANCELLED):
            spec.participants = rng.randint(2, 5)

    for (area, phase), total in CELL_VALUES.items():
        statuses = (
            (Status.PLANNED, Status.IN_TENDER) if phase == "active" else (Status.IN_CONTRACT,)
        )
        cell = [s for s in specs if s.area == area and s.status in statuses]
        for spec, value in zip(cell, _split(rng, total, len(cell)), strict=True):
            spec.value = value
    for spec in specs:
        if spec.status in (Status.ENDED, Status.CANCELLED):
            spec.value = Decimal(rng.randint(20, 400)) * MIO / 10

    # Decisions still open: a few deadlines passed (overdue), a few due for a reminder.
    planned = [s for s in specs if s.status == Status.PLANNED and s.participants <= 4]
    rng.shuffle(planned)
    for spec in planned[:7]:
        spec.overdue = True
        spec.dates["decision_deadline"] = today - _days(rng.randint(3, 45))
        spec.dates["expected_tender_start"] = today + _days(rng.randint(20, 120))
    for spec, days in zip(planned[7:10], (14, 14, 3), strict=True):
        spec.deadline_in = days
        spec.dates["decision_deadline"] = today + _days(days)
    return specs


def _next_numbers() -> dict[int, int]:
    numbers: dict[int, int] = defaultdict(int)
    for reference in TenderCase.objects.filter(reference__startswith="FUP-").values_list(
        "reference", flat=True
    ):
        parts = reference.split("-")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            year = int(parts[1])
            numbers[year] = max(numbers[year], int(parts[2]))
    return numbers


class _Cast:
    """The demo users that act in the demo plan."""

    def __init__(self) -> None:
        users = {u.username: u for u in get_user_model().objects.all()}
        self.secretariat = users.get("sekretariat")
        self.regions = {r.code: r for r in Region.objects.filter(active=True)}
        self.officers = {code: users.get(f"{code.lower()}-officer") for code in self.regions}
        self.ufo = [
            users[f"{code.lower()}-ufo"] for code in self.regions if f"{code.lower()}-ufo" in users
        ]
        self.chief = next(
            (
                users[f"{code.lower()}-chief"]
                for code in self.regions
                if f"{code.lower()}-chief" in users
            ),
            None,
        )

    def ready(self) -> bool:
        return bool(self.secretariat and all(self.officers.values()))

    def officer(self, code: str):
        return self.officers.get(code) or self.secretariat


def _thousands(amount: Decimal) -> Decimal:
    return (amount / 1000).quantize(Decimal("1")) * 1000


def _region_values(value: Decimal, codes: list[str]) -> dict[str, Decimal]:
    total = sum(REGION_WEIGHTS.get(c, 0.1) for c in codes)
    return {c: _thousands(value * Decimal(str(REGION_WEIGHTS.get(c, 0.1) / total))) for c in codes}


def _create_tender(
    spec: TenderSpec, rng: random.Random, cast: _Cast, reference: str, today, categories
):
    lead_region = None if spec.partner_led else cast.regions.get(spec.lead)
    actor = cast.secretariat if lead_region is None else cast.officer(spec.lead)
    tender = services.tender_create(
        actor=actor,
        reference=reference,
        title=spec.title,
        description=(
            f"Fælles udbud af {spec.title.lower()} for de deltagende regioner"
            + (" med mulighed for senere tiltrædelse på option." if spec.has_options else ".")
        ),
        category=categories[spec.cpv],
        area=spec.area,
        kind=spec.kind,
        has_options=spec.has_options,
        lead_region=lead_region,
        lead_partner=None if lead_region else PartnerBody.objects.get(code=spec.lead),
        status=spec.status,
        estimated_annual_value=spec.value,
        internal_notes=spec.notes,
        is_publishable=spec.status != Status.CANCELLED,
        **spec.dates,
    )
    codes = list(cast.regions)
    others = [c for c in codes if c != spec.lead]
    rng.shuffle(others)
    taking_part = ([spec.lead] if lead_region else []) + others
    taking_part = taking_part[: spec.participants]
    rest = [c for c in codes if c not in taking_part]
    values = _region_values(spec.value, taking_part)
    reasons = {r.code: r for r in OptOutReason.objects.filter(active=True)}
    participations = {p.region.code: p for p in tender.participations.select_related("region")}
    contract_start = spec.dates.get("contract_start") or spec.dates[
        "expected_tender_start"
    ] + _days(270)
    savings_regions = []
    for code in taking_part:
        participation = participations[code]
        officer = cast.officer(code)
        on_option = code != spec.lead and spec.has_options and rng.random() < 0.22
        if on_option:
            join = contract_start + _days(rng.randint(90, 720))
            services.participation_decide(
                participation=participation,
                actor=officer,
                status=Participation.Status.OPTION,
                option_expected_join=join,
                estimated_annual_value=values[code],
            )
            if join <= today and rng.random() < 0.65:
                services.participation_exercise_option(
                    participation=participation,
                    actor=officer,
                    exercised_on=min(join + _days(rng.randint(0, 30)), today),
                )
                savings_regions.append(code)
        else:
            services.participation_decide(
                participation=participation,
                actor=officer,
                status=Participation.Status.FULL,
                estimated_annual_value=values[code],
            )
            savings_regions.append(code)
    pending_left = 1 if spec.overdue or spec.deadline_in else 0
    for code in rest:
        open_decision = spec.status == Status.PLANNED and (
            pending_left > 0 or (spec.dates["decision_deadline"] >= today and rng.random() < 0.5)
        )
        if open_decision:
            pending_left -= 1
            continue
        reason = reasons[_weighted(rng, REASON_WEIGHTS)]
        contract_end = None
        if reason.asks_contract_end:
            contract_end = contract_start + _days(rng.randint(120, 900))
        text = rng.choice(JUSTIFICATIONS[reason.code]).format(
            date=contract_end.strftime("%d-%m-%Y") if contract_end else ""
        )
        services.participation_decide(
            participation=participations[code],
            actor=cast.officer(code),
            status=Participation.Status.OPTED_OUT,
            reason=reason,
            justification=text,
            existing_contract_end=contract_end,
        )
    return tender, savings_regions


def _record_savings(tender, codes, rng, cast, methods) -> int:
    recorded = 0
    existing = set(
        SavingsRecord.objects.filter(tender=tender).values_list("region__code", flat=True)
    )
    for participation in tender.participations.select_related("region"):
        code = participation.region.code
        if code not in codes or code in existing or rng.random() > 0.85:
            continue
        new_cost = participation.estimated_annual_value or Decimal("100000")
        reduction = Decimal(str(round(rng.uniform(0.04, 0.27), 3)))
        baseline = _thousands(new_cost / (1 - reduction))
        services.savings_record(
            tender=tender,
            region=participation.region,
            actor=cast.officer(code),
            baseline_annual_cost=baseline,
            new_annual_cost=new_cost,
            method=rng.choice(methods),
        )
        recorded += 1
    return recorded


def _load_candidates(rng: random.Random, cast: _Cast, today: dt.date) -> int:
    if not cast.ufo:
        return 0
    existing = set(CandidateArea.objects.values_list("title", flat=True))
    criteria = list(ScoringCriterion.objects.filter(active=True))
    categories = {c.code: c for c in Category.objects.filter(code__in=[c[1] for c in CANDIDATES])}
    partners = {p.code: p for p in PartnerBody.objects.all()}
    created = []
    for index, (title, cpv, quality) in enumerate(CANDIDATES):
        plan_year = today.year + (2 if index % 5 == 4 else 1)
        proposer = cast.ufo[index % len(cast.ufo)]
        scorers = list(cast.ufo)
        rng.shuffle(scorers)
        scorers = scorers[: rng.randint(2, len(cast.ufo))]
        if title in existing or cpv not in categories:
            continue
        candidate = services.candidate_create(
            actor=proposer,
            title=title,
            category=categories[cpv],
            plan_year=plan_year,
            description=f"Kandidatområde foreslået af UFO-gruppen: {title.lower()}.",
            proposer_region=proposer.memberships.first().region,
            # UFO figures (no draw, so the random sequence stays as it was).
            annual_volume=Decimal((index % 7 + 2) * 4) * MIO,
            expected_reduction=Decimal(8 + (index % 5) * 2),
        )
        for scorer in scorers:
            scores = {}
            for criterion in criteria:
                value = max(1, min(5, round(quality + rng.uniform(-1.2, 1.2))))
                comments = SCORE_COMMENTS.get(criterion.code, ("", ""))
                scores[criterion.code] = (value, comments[0] if value >= 3 else comments[1])
            other = rng.choices(["no", "maybe", "yes"], weights=[6, 3, 1])[0]
            services.score_sheet_submit(
                candidate=candidate,
                scorer=scorer,
                scores=scores,
                with_other_body=other,
                other_body=partners.get("SKI") if other != "no" else None,
                other_body_comment="SKI har en aftale på området." if other == "yes" else "",
            )
        created.append((candidate, quality))
    # The best four go to the chiefs: one waits for the chiefs' votes (one region has
    # voted), one waits untouched, one was postponed at a chiefs' meeting (recorded by the
    # secretariat), and one was rejected by a region's vote (unanimity: one rejection decides).
    best = sorted(created, key=lambda c: -c[1])[:4]
    for rank, (candidate, _quality) in enumerate(best):
        if services.scorers_missing(candidate) and cast.secretariat is not None:
            # Not every UFO member scored: the secretariat recommends, with its reason.
            services.candidate_recommend(
                candidate=candidate,
                actor=cast.secretariat,
                reason="Skal nå chefmødet; de manglende scoringer følger.",
            )
        else:
            services.candidate_recommend(candidate=candidate, actor=cast.ufo[0])
        if cast.chief is None:
            continue
        if rank == 0:
            candidate.meeting_date = today + dt.timedelta(days=21)
            candidate.save(update_fields=["meeting_date"])
            services.candidate_vote(
                candidate=candidate, actor=cast.chief, decision=services.Decision.APPROVE
            )
        elif rank == 2 and cast.secretariat is not None:
            services.candidate_decide(
                candidate=candidate,
                actor=cast.secretariat,
                decision=services.Decision.POSTPONE,
                reason="Afventer markedsdialog og regionernes kontraktudløb.",
                postpone_to_year=candidate.plan_year + 1,
                meeting_date=today - dt.timedelta(days=30),
                minutes_reference=f"Referat fra indkøbschefmødet {today - dt.timedelta(days=30):%d-%m-%Y}, pkt. 5",
            )
        elif rank == 3:
            services.candidate_decide(
                candidate=candidate,
                actor=cast.chief,
                decision=services.Decision.REJECT,
                reason="Området dækkes af en national aftale, som regionerne allerede bruger.",
            )
    return len(created)


@transaction.atomic
def plan_demo_load(*, today: dt.date | None = None) -> DemoResult:
    """Load the demo plan; cases and candidates whose titles exist are left alone."""
    today = today or timezone.localdate()
    plan_reference_load()
    result = DemoResult()
    cast = _Cast()
    if not cast.ready():
        return result
    specs = plan_specs(today=today)
    categories = {c.code: c for c in Category.objects.filter(code__in={s.cpv for s in specs})}
    existing = set(TenderCase.objects.values_list("title", flat=True))
    numbers = _next_numbers()
    methods = list(SavingsMethod.objects.all())
    rng = random.Random(2015)
    for spec in sorted(specs, key=lambda s: (s.dates["expected_tender_start"], s.title)):
        if spec.title in existing or spec.cpv not in categories:
            result.skipped += 1
            continue
        year = spec.dates["expected_tender_start"].year
        numbers[year] += 1
        reference = f"FUP-{year}-{numbers[year]:03d}"
        tender, savings_regions = _create_tender(spec, rng, cast, reference, today, categories)
        result.tenders += 1
        if tender.award_date and methods:
            result.savings += _record_savings(tender, savings_regions, rng, cast, methods)
    result.candidates = _load_candidates(rng, cast, today)
    if methods:
        # Its own random sequence: the plan above stays as it was.
        result.savings += _savings_lifecycle_demo(random.Random(2014), cast, today)
    return result


def _savings_lifecycle_demo(rng: random.Random, cast: _Cast, today: dt.date) -> int:
    """Expected savings beside awarded ones and on cases in tender, regional savings on
    the regions' own contracts (some from before the strategy's 2021 start), and each
    region's savings plan for this year and the next. Idempotent: every write is an upsert.
    """
    made = 0
    estimate = SavingsMethod.objects.filter(code="estimate").first()
    methods = list(SavingsMethod.objects.exclude(code="estimate")) or [estimate]
    tenders = TenderCase.objects.filter(lead_partner__isnull=True).order_by("reference")
    for tender in tenders.prefetch_related("participations__region"):
        awarded = {r.region_id: r for r in tender.savings.filter(stage=SavingsRecord.Stage.AWARDED)}
        in_tender = tender.status == TenderCase.Status.IN_TENDER and tender.award_date is None
        for participation in tender.participations.all():
            region = participation.region
            record = awarded.get(region.pk)
            if record is not None and rng.random() < 0.5:
                # The estimate made before award: within a few points of what came out.
                reduction = (record.price_reduction or Decimal("0.1")) + Decimal(
                    str(round(rng.uniform(-0.04, 0.05), 3))
                )
                baseline = record.baseline_annual_cost
            elif in_tender and participation.status == Participation.Status.FULL:
                reduction = Decimal(str(round(rng.uniform(0.06, 0.18), 3)))
                baseline = _thousands(participation.estimated_annual_value or Decimal("500000"))
            else:
                continue
            if baseline <= 0:
                continue
            services.savings_expect(
                tender=tender,
                region=region,
                actor=cast.officer(region.code),
                baseline_annual_cost=baseline,
                new_annual_cost=_thousands(baseline * (1 - max(reduction, Decimal("0.02")))),
                method=estimate,
            )
            made += 1
    categories = list(
        Category.objects.filter(pk__in=tenders.values("category_id")).order_by("code")[:12]
    )
    if categories:
        for code, region in sorted(cast.regions.items()):
            for index in range(3):
                start_year = today.year - 8 + 3 * index + rng.randint(0, 1)
                start = dt.date(start_year, rng.choice([1, 4, 7, 10]), 1)
                baseline = _thousands(Decimal(str(rng.uniform(0.4, 6.0))) * MIO)
                reduction = Decimal(str(round(rng.uniform(0.04, 0.2), 3)))
                kind = Kind.FRAMEWORK if index != 1 else Kind.ONE_OFF
                services.savings_record_regional(
                    actor=cast.officer(code),
                    region=region,
                    category=categories[(index * 5 + len(code) * 3) % len(categories)],
                    kind=kind,
                    baseline_annual_cost=baseline,
                    new_annual_cost=_thousands(baseline * (1 - reduction)),
                    method=rng.choice(methods),
                    contract_start=start,
                    contract_end=(
                        dt.date(start.year + 4, start.month, 1) - dt.timedelta(days=1)
                        if kind == Kind.FRAMEWORK
                        else dt.date(start.year + 1, start.month, 1) - dt.timedelta(days=1)
                    ),
                )
                made += 1
    for code, region in sorted(cast.regions.items()):
        owner = cast.officer(code)
        active = sum(
            (
                r.annual_saving
                for r in SavingsRecord.objects.filter(
                    region=region, stage=SavingsRecord.Stage.AWARDED
                )
            ),
            Decimal("0"),
        )
        for year in (today.year, today.year + 1):
            services.savings_plan_set(
                actor=owner,
                region=region,
                year=year,
                owner=owner,
                forecast=_thousands(active * Decimal(str(round(rng.uniform(0.75, 1.05), 2)))),
                note="Plan godkendt af indkøbschefen." if year == today.year else "",
            )
    return made
