"""A realistic synthetic Danish ledger extract, for demos, tests and the import benchmark.

The shape follows DOMAIN.md "Contracts and spend": a few suppliers carry most of the
spend (Zipf-distributed line counts), about 80 % of invoice lines are under 10,000 DKK
(log-normal amounts), a few per cent are credit notes (negative), every ordering
channel occurs, a quarter of the lines carry no category code, supplier names are
Danish (æ, ø, å) and supplier ids are CVR numbers that pass the modulus-11 check.
The file is what a Danish ERP exports: ``;``-separated, decimal comma with ``.``
thousands separators, dates ``dd-mm-yyyy``, UTF-8 with BOM (or Windows-1252).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from openpyxl import Workbook

from rfi.models import Category

HEADER = (
    "Bogføringsdato",
    "Bilagsnr",
    "Fakturanr",
    "Leverandør CVR",
    "Leverandørnavn",
    "Konto",
    "Omkostningssted",
    "Beløb",
    "Tekst",
    "Bestillingskanal",
    "CPV-kode",
)
FORMATS = ("csv", "csv.gz", "xlsx")
ENCODINGS = ("utf-8-sig", "utf-8", "cp1252")

# Divisions a hospital region buys from, with the ledger accounts they are booked on
# and line texts; weights roughly follow a region's purchasing mix.
SPEND_AREAS = (
    # (CPV division, weight, accounts, line texts, trade words for supplier names)
    (
        "33",
        30,
        ("22110", "22120", "22130"),
        (
            "Handsker nitril str. M",
            "Sprøjter 10 ml",
            "Forbindinger",
            "Kateter",
            "Suturer",
            "Laboratorieanalyser",
        ),
        ("Medico", "Hospitalsudstyr", "Laboratorieudstyr", "Sterilgods", "Ortopædi"),
    ),
    (
        "15",
        6,
        ("23100",),
        ("Fødevarer køkken", "Mejeriprodukter", "Kaffe og te", "Frugt og grønt"),
        ("Fødevarer", "Grønt", "Mejeri", "Storkøkken"),
    ),
    (
        "30",
        5,
        ("24100",),
        ("Kontorartikler", "Printerpapir A4", "Toner"),
        ("Kontorforsyning", "Papir"),
    ),
    (
        "48",
        6,
        ("24300",),
        ("Licens, årlig", "Softwarevedligehold", "Journalsystem, drift"),
        ("Software", "Data"),
    ),
    ("32", 4, ("24200",), ("Netværksudstyr", "Telefoner", "Skærme"), ("Elektro", "Net")),
    ("39", 4, ("24400",), ("Møbler", "Senge og madrasser", "Gardiner"), ("Møbelhus", "Inventar")),
    (
        "18",
        3,
        ("25200",),
        ("Arbejdstøj", "Linned og håndklæder", "Sikkerhedssko"),
        ("Linnedservice", "Beklædning"),
    ),
    (
        "90",
        5,
        ("25100",),
        ("Rengøring afd. 4", "Affaldshåndtering", "Vinduespudsning"),
        ("Rengøringsservice", "Miljø"),
    ),
    (
        "50",
        6,
        ("26200",),
        ("Service på røntgenudstyr", "Reparation af senge", "Elevatorservice"),
        ("Teknik", "Service"),
    ),
    (
        "45",
        4,
        ("26100",),
        ("Ombygning sengeafsnit", "Tagrenovering", "Elarbejde"),
        ("Byg & Anlæg", "Entreprenør", "Tømrer"),
    ),
    ("71", 3, ("27100",), ("Rådgivende ingeniør", "Byggestyring"), ("Rådgivning", "Ingeniører")),
    ("72", 5, ("27110",), ("IT-konsulent", "Systemintegration", "Hosting"), ("IT-Service", "Data")),
    (
        "79",
        5,
        ("27120",),
        ("Konsulentbistand", "Tolkebistand", "Kursusafgift"),
        ("Konsulenthus", "Tolkeservice"),
    ),
    (
        "85",
        5,
        ("27200",),
        ("Vikarbistand sygeplejersker", "Lægevikar", "Privathospital, behandling"),
        ("Vikarservice", "Privathospital", "Klinik"),
    ),
    (
        "60",
        3,
        ("28100",),
        ("Transport af prøver", "Patientbefordring", "Fragt"),
        ("Kørsel", "Transport", "Taxa"),
    ),
    ("09", 2, ("29100",), ("El", "Fjernvarme", "Fyringsolie"), ("Energi", "Forsyning")),
)
# Lines an exclusion rule would take out: investments, Amgros medicine.
NON_ADDRESSABLE = (
    ("61100", "Anlægsinvestering, scanner"),
    ("22200", "Medicin via Amgros"),
)
CHANNELS = (("E-ordre", 55), ("Indkøbssystem", 25), ("Manuel", 12), ("", 8))
NAME_FIRST = (
    "Nordisk",
    "Dansk",
    "Jysk",
    "Fynsk",
    "Sjællandsk",
    "Østjysk",
    "Sønderjysk",
    "Ærø",
    "Køge",
    "Næstved",
    "Hørsholm",
    "Brøndby",
    "Ølstykke",
    "Fåborg",
    "Græsted",
    "Søborg",
    "Århus",
    "Aalborg",
    "Vejle",
    "Holstebro",
    "Skærbæk",
    "Løgstør",
    "Bøgelund",
    "Hjørring",
)
NAME_SUFFIX = ("A/S", "ApS", "A/S", "ApS", "I/S", "& Søn A/S", "Holding A/S")
ZIPF_EXPONENT = 1.1
CREDIT_NOTE_SHARE = 0.03
WITHOUT_CATEGORY_SHARE = 0.25
MEDIAN_AMOUNT = 2500.0
AMOUNT_SIGMA = 1.5


@dataclass(frozen=True)
class SyntheticSupplier:
    cvr: str
    name: str
    area: int
    codes: tuple[str, ...]
    channel_bias: float


@dataclass(frozen=True)
class GivenSupplier:
    """A supplier the caller names (e.g. one holding a contract) for ``ledger_rows``.

    Its lines fall between ``start`` and ``end`` (within the extract's own dates), carry
    one of ``codes`` (or none, as often as other lines do) and, when given, ``text``;
    ``weight`` sets its share of the given suppliers' invoices.
    """

    cvr: str
    name: str
    codes: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    weight: float = 1.0
    text: str = ""


# Accounts for a given supplier whose CPV division no spend area has.
OTHER_ACCOUNTS = {"goods": "24900", "works": "26100", "services": "27900"}


def _given_account(code: str) -> tuple[str, tuple[str, ...]]:
    """(account, line texts) for a CPV code: its spend area's, else a generic account."""
    division = code[:2]
    for area in SPEND_AREAS:
        if area[0] == division:
            return area[2][0], area[3]
    if not division.isdigit():
        return OTHER_ACCOUNTS["services"], ("Diverse",)
    number = int(division)
    kind = "works" if number == 45 else "services" if number >= 50 else "goods"
    return OTHER_ACCOUNTS[kind], ("Diverse",)


def cvr_number(rng: random.Random) -> str:
    """A CVR number that passes the modulus-11 check (weights 2 7 6 5 4 3 2 1)."""
    weights = (2, 7, 6, 5, 4, 3, 2)
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(6)]
        check = (11 - sum(w * d for w, d in zip(weights, digits, strict=True)) % 11) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


def cpv_codes_by_division() -> dict[str, list[str]]:
    """Real CPV codes ("33141110-4"), from the Category table or else rfi/data/cpv_2008.csv."""
    wanted = {area[0] for area in SPEND_AREAS}
    rows: list[tuple[str, str]] = list(
        Category.objects.filter(level__gte=3).values_list("code", "check_digit")
    )
    if not rows:
        path = Path(settings.BASE_DIR) / "rfi" / "data" / "cpv_2008.csv"
        with path.open(encoding="utf-8") as fh:
            rows = [(row["code"], row["check_digit"]) for row in csv.DictReader(fh)]
    codes: dict[str, list[str]] = {}
    for code, check in rows:
        if code[:2] in wanted and code[3:] != "00000":
            codes.setdefault(code[:2], []).append(f"{code}-{check}")
    return {division: sorted(found) for division, found in codes.items()}


def _suppliers(rng: random.Random, count: int) -> list[SyntheticSupplier]:
    codes = cpv_codes_by_division()
    areas = [area for area in SPEND_AREAS if area[0] in codes] or list(SPEND_AREAS)
    area_weights = [area[1] for area in areas]
    seen: set[str] = set()
    suppliers = []
    for _ in range(count):
        cvr = cvr_number(rng)
        while cvr in seen:
            cvr = cvr_number(rng)
        seen.add(cvr)
        area = rng.choices(range(len(areas)), weights=area_weights)[0]
        available = codes.get(areas[area][0], [])
        trade = rng.choice(areas[area][4])
        name = f"{rng.choice(NAME_FIRST)} {trade} {rng.choice(NAME_SUFFIX)}"
        suppliers.append(
            SyntheticSupplier(
                cvr=cvr,
                name=name,
                area=SPEND_AREAS.index(areas[area]),
                codes=tuple(rng.sample(available, min(3, len(available)))),
                channel_bias=rng.random(),
            )
        )
    return suppliers


def danish_amount(value: Decimal) -> str:
    """``-1234567.5`` → ``-1.234.567,50``."""
    text = f"{value:,.2f}"
    return text.replace(",", "X").replace(".", ",").replace("X", ".")


def ledger_rows(
    *,
    rows: int,
    region: str,
    seed: int,
    start: dt.date,
    end: dt.date,
    suppliers: int | None = None,
    given: Sequence[GivenSupplier] = (),
    given_share: float = 0.0,
) -> Iterator[tuple]:
    """Yield ``rows`` extract lines: (date, voucher, invoice, cvr, name, account,
    cost centre, Decimal amount, text, channel, CPV code).

    ``given``: suppliers the caller names; about ``given_share`` of the invoices are
    theirs (by weight, dated inside each one's window), the rest go to the generated
    suppliers. Without ``given`` the lines are exactly those of earlier versions.
    """
    rng = random.Random(f"{seed}-{region}")
    supplier_count = suppliers or max(20, min(5000, rows // 40))
    cast = _suppliers(rng, supplier_count)
    cumulative = list(
        itertools.accumulate(1 / (rank + 1) ** ZIPF_EXPONENT for rank in range(supplier_count))
    )
    days = (end - start).days + 1
    dates = [(start + dt.timedelta(days=d)).strftime("%d-%m-%Y") for d in range(days)]
    region_prefix = str(sum(map(ord, region)) % 9 + 1)
    cost_centres = [f"{region_prefix}{n:05d}" for n in rng.sample(range(1, 99999), 400)]
    channel_labels = [label for label, _ in CHANNELS]
    channel_weights = list(itertools.accumulate(weight for _, weight in CHANNELS))
    mu = math.log(MEDIAN_AMOUNT)
    cent = Decimal("0.01")
    voucher = 10_000_000
    written = 0
    invoice_counter = itertools.count(100_001)
    named = _given_windows(given, start, end) if given_share > 0 else []
    named_weights = list(itertools.accumulate(max(g[0].weight, 0.0) for g in named))
    if named and named_weights[-1] <= 0:
        named = []
    while written < rows:
        if named and rng.random() < given_share:
            pick = named[rng.choices(range(len(named)), cum_weights=named_weights)[0]]
            voucher += 1
            written += yield from _given_invoice(
                rng,
                pick,
                rows - written,
                voucher,
                next(invoice_counter),
                start,
                cost_centres,
                channel_labels,
                channel_weights,
                mu,
            )
            continue
        supplier = cast[rng.choices(range(supplier_count), cum_weights=cumulative)[0]]
        area = SPEND_AREAS[supplier.area]
        date = dates[rng.randrange(days)]
        voucher += 1
        invoice = f"F{next(invoice_counter)}"
        credit = rng.random() < CREDIT_NOTE_SHARE
        if supplier.channel_bias > 0.3:
            channel = rng.choices(channel_labels, cum_weights=channel_weights)[0]
        else:
            channel = rng.choice(channel_labels)
        cost_centre = rng.choice(cost_centres)
        for _ in range(min(rng.choice((1, 1, 1, 2, 2, 3, 4)), rows - written)):
            amount = Decimal(round(rng.lognormvariate(mu, AMOUNT_SIGMA), 2)).quantize(cent)
            if rng.random() < 0.004:
                account, text = rng.choice(NON_ADDRESSABLE)
            else:
                account, text = rng.choice(area[2]), rng.choice(area[3])
            if credit:
                amount, text = -amount, f"Kreditnota: {text}"
            code = ""
            if supplier.codes and rng.random() >= WITHOUT_CATEGORY_SHARE:
                code = rng.choice(supplier.codes)
            written += 1
            yield (
                date,
                str(voucher),
                invoice,
                supplier.cvr,
                supplier.name,
                account,
                cost_centre,
                amount,
                text,
                channel,
                code,
            )


def _given_windows(
    given: Sequence[GivenSupplier], start: dt.date, end: dt.date
) -> list[tuple[GivenSupplier, int, int]]:
    """Each given supplier with the day offsets (from ``start``) its lines may fall on."""
    windows = []
    for supplier in given:
        first = max(supplier.start or start, start)
        last = min(supplier.end or end, end)
        if first <= last:
            windows.append((supplier, (first - start).days, (last - start).days))
    return windows


def _given_invoice(
    rng, pick, room, voucher, invoice_number, start, cost_centres, labels, weights, mu
):
    """The lines of one invoice of a given supplier; returns how many were yielded."""
    supplier, first, last = pick
    date = (start + dt.timedelta(days=rng.randint(first, last))).strftime("%d-%m-%Y")
    credit = rng.random() < CREDIT_NOTE_SHARE
    channel = rng.choices(labels, cum_weights=weights)[0]
    cost_centre = rng.choice(cost_centres)
    count = min(rng.choice((1, 1, 1, 2, 2, 3, 4)), room)
    for _ in range(count):
        amount = Decimal(round(rng.lognormvariate(mu, AMOUNT_SIGMA), 2)).quantize(Decimal("0.01"))
        code = rng.choice(supplier.codes) if supplier.codes else ""
        account, texts = _given_account(code)
        text = supplier.text or rng.choice(texts)
        if credit:
            amount, text = -amount, f"Kreditnota: {text}"
        if rng.random() < WITHOUT_CATEGORY_SHARE:
            code = ""
        yield (
            date,
            str(voucher),
            f"F{invoice_number}",
            supplier.cvr,
            supplier.name,
            account,
            cost_centre,
            amount,
            text,
            channel,
            code,
        )
    return count


def write_extract(
    path: str | Path,
    *,
    rows: int,
    region: str,
    seed: int = 1,
    fmt: str = "csv",
    encoding: str = "utf-8-sig",
    start: dt.date = dt.date(2025, 1, 1),
    end: dt.date = dt.date(2025, 12, 31),
    given: Sequence[GivenSupplier] = (),
    given_share: float = 0.0,
    channel_column: bool = True,
) -> Path:
    """Write a synthetic extract as ``csv``, ``csv.gz`` or ``xlsx``; return its path.

    ``given``/``given_share``: see ``ledger_rows``. ``channel_column=False`` leaves out the
    ordering-channel column, as an ERP that does not record it exports.
    """
    path = Path(path)
    lines = ledger_rows(
        rows=rows,
        region=region,
        seed=seed,
        start=start,
        end=end,
        given=given,
        given_share=given_share,
    )
    header = HEADER
    if not channel_column:
        header = HEADER[:9] + HEADER[10:]
        lines = (line[:9] + line[10:] for line in lines)
    if fmt == "xlsx":
        _write_xlsx(path, lines, header)
        return path
    opener = gzip.open if fmt == "csv.gz" else open
    with opener(path, "wt", encoding=encoding, newline="") as fh:
        fh.write(";".join(header) + "\r\n")
        block = []
        for line in lines:
            block.append(
                f"{line[0]};{line[1]};{line[2]};{line[3]};{line[4]};{line[5]};{line[6]};"
                f"{danish_amount(line[7])};" + ";".join(line[8:]) + "\r\n"
            )
            if len(block) == 10_000:
                fh.write("".join(block))
                block.clear()
        fh.write("".join(block))
    return path


def _write_xlsx(path: Path, lines, header: tuple[str, ...] = HEADER) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Hovedbog")
    sheet.append(header)
    for line in lines:
        row = list(line)
        row[0] = dt.datetime.strptime(row[0], "%d-%m-%Y").date()  # noqa: DTZ007 (a date)
        row[7] = float(row[7])
        sheet.append(row)
    workbook.save(path)
