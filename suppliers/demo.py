"""A demo contract registry: about 150 contracts of the five regions.

Joint contracts come from the demo plan's awarded tender cases (tenders/demo.py):
one contract per participating region with the winning supplier, the case's dates
and the region's estimated value. The regions' own contracts spread their ends
over the coming years, and in a few CPV groups several regions' own contracts end
within months of each other, so the pipeline and its joint-tender candidates show
something. Some contracts are registered after the fact.

Each joint contract is the region's own after the award (suppliers/regional.py): most
regions have signed it a few days to weeks after award, some have not (a few of them
more than 30 days after award), the region's officer owns it, and contracts still
running carry an extension option whose notice deadline falls in the coming months.

Everything goes through the services (the history shows the region's officer),
is drawn from ``random.Random(2026)`` and dated relative to ``today``. A contract
whose region and title exist is left alone, so a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from rfi.models import Category, Region
from suppliers import services
from suppliers.models import Contract, ContractExtension, Supplier
from tenders.models import Participation, TenderCase

# (name, CVR number) per line of business; fictitious companies, 8-digit numbers.
SUPPLIERS = {
    "medico": (
        ("Nordisk Hospitalsudstyr A/S", "31457826"),
        ("Sønderjysk Medico ApS", "28746153"),
        ("Ærø Kirurgi A/S", "35129874"),
        ("Brødrene Østergaard Medical A/S", "19384756"),
        ("Fyns Sårpleje ApS", "40218837"),
        ("Midtjysk Laboratorieservice A/S", "26650431"),
        ("Øresund Diagnostik A/S", "33902718"),
        ("Kærgård Respiration ApS", "37715290"),
    ),
    "goods": (
        ("Århus Kontorforsyning A/S", "12874539"),
        ("Skærbæk Tekstilservice ApS", "29563018"),
        ("Bølling Rengøringsartikler ApS", "38457120"),
        ("Møller & Søn Elartikler A/S", "17263845"),
        ("Nørrebro Papirvarer A/S", "25837419"),
    ),
    "food": (
        ("Vesterhavets Fødevarer A/S", "21094637"),
        ("Grønnegårdens Frugt og Grønt ApS", "42190365"),
        ("Hjørring Mejeri A/S", "30618274"),
    ),
    "it": (
        ("Dansk Datadrift A/S", "27419638"),
        ("Søholm IT-Konsulenter ApS", "36582017"),
        ("Fælles Netværk Øst A/S", "18827364"),
        ("Løkken Software ApS", "41073825"),
    ),
    "services": (
        ("Tolkeservice Ålborg ApS", "32746109"),
        ("Kystens Patientbefordring A/S", "24501937"),
        ("Sjællands Vaskeri A/S", "15938274"),
        ("Rådgivende Ingeniører Nørgaard A/S", "39284716"),
        ("Revisionsfirmaet Bæk & Ødum", "20357148"),
        ("Østjysk Vagt og Sikring A/S", "34618290"),
        ("Grøn Affaldshåndtering ApS", "43027516"),
        ("Kantineservice Fjordvang A/S", "26193847"),
    ),
}
# The regions' own contracts: (title, CPV code).
OWN_AREAS = (
    ("Sengelinned og dyner", "39500000"),
    ("Kirurgiske suturer", "33141120"),
    ("Inkontinensprodukter", "33141621"),
    ("Stomiprodukter", "33141600"),
    ("Urinposer", "33141200"),
    ("Laboratoriereagenser til mikrobiologi", "33696500"),
    ("Brød og bageartikler", "15810000"),
    ("Frugt og grønt til hospitalskøkkener", "15300000"),
    ("Kontorstole", "39100000"),
    ("Rengøringsmaskiner", "39830000"),
    ("Arbejdssko", "18100000"),
    ("Lyskilder", "31500000"),
    ("Serverdrift", "72260000"),
    ("Konsulentbistand til IT-projekter", "72000000"),
    ("Tolkning i almen praksis", "79540000"),
    ("Siddende patientbefordring", "60130000"),
    ("Vinduespolering", "90910000"),
    ("Energimærkning af bygninger", "71314000"),
    ("Vagtservice på akutmodtagelsen", "79710000"),
    ("Kantinedrift", "55520000"),
)
# Own contracts in these areas end within months of each other in several regions.
CLUSTERS = (
    ("Inkontinensprodukter", ("RH", "RSD", "RN"), 200),
    ("Kirurgiske suturer", ("RM", "RSJ"), 330),
    ("Tolkning i almen praksis", ("RH", "RM", "RSD", "RN"), 480),
    ("Serverdrift", ("RSJ", "RN"), 610),
    ("Sengelinned og dyner", ("RH", "RM"), 150),
)
OWN_PER_REGION = 12
JOINT_TENDERS = 24


@dataclass
class ContractDemoResult:
    contracts: int = 0
    suppliers: int = 0
    skipped: int = 0


def _line_of_business(cpv: str) -> str:
    division = int(cpv[:2])
    if division in (24, 33, 38):
        return "medico"
    if division == 15:
        return "food"
    if division in (30, 32, 48, 64, 72):
        return "it"
    if division >= 50:
        return "services"
    return "goods"


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def _years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class _Registry:
    """Creates contracts once per (region, title), with the region's officer as the actor."""

    def __init__(self, result: ContractDemoResult) -> None:
        users = {u.username: u for u in get_user_model().objects.all()}
        self.regions = {r.code: r for r in Region.objects.filter(active=True)}
        self.officers = {code: users.get(f"{code.lower()}-officer") for code in self.regions}
        self.existing = set(Contract.objects.values_list("region__code", "title"))
        self.known_suppliers = set(Supplier.objects.values_list("identifier", flat=True))
        self.result = result

    def supplier(self, name: str, cvr: str, actor) -> Supplier:
        if cvr not in self.known_suppliers:
            self.known_suppliers.add(cvr)
            self.result.suppliers += 1
        return services.supplier_upsert(identifier=cvr, name=name, country="DK", actor=actor)

    def add(self, code: str, supplier: tuple[str, str], **fields) -> None:
        if code not in self.regions:
            return
        if (code, fields["title"]) in self.existing:
            self.result.skipped += 1
            return
        actor = self.officers.get(code)
        fields["supplier"] = self.supplier(*supplier, actor)
        services.contract_create(actor=actor, region=self.regions[code], **fields)
        self.existing.add((code, fields["title"]))
        self.result.contracts += 1


def _joint_contracts(rng: random.Random, registry: _Registry, today: dt.date) -> None:
    tenders = list(
        TenderCase.objects.filter(
            status__in=[TenderCase.Status.IN_CONTRACT, TenderCase.Status.ENDED],
            contract_start__isnull=False,
            contract_end__isnull=False,
            lead_partner__isnull=True,
        )
        .select_related("category")
        .order_by("reference")
    )
    rng.shuffle(tenders)
    for tender in tenders[:JOINT_TENDERS]:
        pool = SUPPLIERS[_line_of_business(tender.category.code)]
        winner = pool[rng.randrange(len(pool))]
        participations = tender.participations.select_related("region").filter(
            status__in=[Participation.Status.FULL, Participation.Status.OPTION]
        )
        for participation in participations.order_by("region__code"):
            if participation.status == Participation.Status.OPTION:
                if not participation.option_exercised_on:
                    continue
                start = max(participation.option_exercised_on, tender.contract_start)
            else:
                start = tender.contract_start
            end = max(tender.contract_end, start)
            extended = None
            if tender.extension_until and end < today + _days(120) and rng.random() < 0.6:
                extended = tender.extension_until
            registry.add(
                participation.region.code,
                winner,
                title=tender.title,
                category=tender.category,
                kind=tender.kind,
                start_date=start,
                end_date=end,
                extended_until=extended,
                annual_value=participation.estimated_annual_value,
                tender=tender,
                registered_after_the_fact=rng.random() < 0.05,
            )


def _own_contracts(rng: random.Random, registry: _Registry, today: dt.date) -> None:
    categories = {
        c.code: c for c in Category.objects.filter(code__in=[cpv for _t, cpv in OWN_AREAS])
    }
    clustered = {(title, code): days for title, codes, days in CLUSTERS for code in codes}
    for code in sorted(registry.regions):
        areas = [a for a in OWN_AREAS if (a[0], code) in clustered]
        others = [a for a in OWN_AREAS if (a[0], code) not in clustered]
        rng.shuffle(others)
        areas += others[: OWN_PER_REGION - len(areas)]
        for title, cpv in areas:
            if cpv not in categories:
                continue
            years = rng.randint(2, 4)
            if (title, code) in clustered:
                end = today + _days(clustered[(title, code)] + rng.randint(-100, 100))
            else:
                end = today + _days(rng.randint(-250, 4 * 365))
            start = _years(end, -years) + _days(1)
            pool = SUPPLIERS[_line_of_business(cpv)]
            value = Decimal(rng.randint(4, 250)) * 25_000
            registry.add(
                code,
                pool[rng.randrange(len(pool))],
                title=title,
                category=categories[cpv],
                kind=Contract.Kind.ONE_OFF if rng.random() < 0.1 else Contract.Kind.FRAMEWORK,
                start_date=start,
                end_date=end,
                extended_until=end + _days(365) if end < today and rng.random() < 0.5 else None,
                annual_value=value,
                tender=None,
                registered_after_the_fact=rng.random() < 0.15,
            )


def _regional_follow_up(rng: random.Random, registry: _Registry, today: dt.date) -> None:
    """Award dates, signatures, owners and extension options of the joint contracts.

    Only contracts without an award date are touched, so a second run changes nothing.
    """
    joint = (
        Contract.objects.filter(tender__isnull=False, offered_on__isnull=True)
        .select_related("tender", "region")
        .order_by("tender__reference", "region__code")
    )
    participations = {
        (p.tender_id, p.region_id): p
        for p in Participation.objects.filter(tender__contracts__in=joint).distinct()
    }
    for contract in joint:
        tender = contract.tender
        participation = participations.get((tender.pk, contract.region_id))
        exercised = participation.option_exercised_on if participation else None
        offered_on = exercised or tender.award_date or contract.start_date
        officer = registry.officers.get(contract.region.code)
        contract.offered_on = offered_on
        contract.owner = officer
        contract.save(update_fields=["offered_on", "owner"])
        signed_on = offered_on + _days(rng.randint(3, 40))
        # about one region in six has not signed; the rest signed after 3 to 40 days
        if rng.random() >= 1 / 6 and signed_on <= today:
            contract.signed_on = signed_on
            contract.signed_by = officer
            contract.save(update_fields=["signed_on", "signed_by"])
        if contract.effective_end > today and not contract.extensions.exists():
            extends_to = _years(contract.effective_end, rng.choice([1, 2]))
            # notice within the coming months for some, otherwise six months before the end
            notice = today + _days(rng.randint(15, 200)) if rng.random() < 0.5 else None
            notice = min(notice or contract.effective_end - _days(182), extends_to - _days(1))
            ContractExtension.objects.create(
                contract=contract, extends_to=extends_to, notice_deadline=max(notice, today)
            )


@transaction.atomic
def contracts_demo_load(*, today: dt.date | None = None) -> ContractDemoResult:
    """Load the demo registry; contracts whose region and title exist are left alone."""
    today = today or timezone.localdate()
    result = ContractDemoResult()
    registry = _Registry(result)
    rng = random.Random(2026)
    _joint_contracts(rng, registry, today)
    _own_contracts(rng, registry, today)
    _regional_follow_up(random.Random(2027), registry, today)
    return result
