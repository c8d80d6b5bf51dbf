"""Figures that read at a glance (rfi/formatting.py and its template filters), Danish and English."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from rfi import formatting


@pytest.fixture(params=["da", "en"])
def lang(request):
    with translation.override(request.param):
        yield request.param


COMPACT = [
    (0, "0 kr.", "DKK 0"),
    (-98_300_000, "-98,3 mio. kr.", "DKK -98.3 m"),
    (999_999, "999.999 kr.", "DKK 999,999"),
    (1_000_000, "1,0 mio. kr.", "DKK 1.0 m"),
    (98_300_000, "98,3 mio. kr.", "DKK 98.3 m"),
    (Decimal("98349999.99"), "98,3 mio. kr.", "DKK 98.3 m"),
    (999_960_000, "1,0 mia. kr.", "DKK 1.0 bn"),  # rounds up into the next scale
    (1_600_000_000, "1,6 mia. kr.", "DKK 1.6 bn"),
    (-1_650_000_000, "-1,7 mia. kr.", "DKK -1.7 bn"),
    (1_234_500_000_000, "1.234,5 mia. kr.", "DKK 1,234.5 bn"),
]


@pytest.mark.parametrize(("value", "danish", "english"), COMPACT)
def test_headline_figures_in_millions_and_billions(lang, value, danish, english):
    assert formatting.compact_money(value) == (danish if lang == "da" else english)


MONEY = [
    (0, "0 kr.", "DKK 0"),
    (-2500, "-2.500 kr.", "DKK -2,500"),
    (Decimal("999999.4"), "999.999 kr.", "DKK 999,999"),
    (1_000_000, "1.000.000 kr.", "DKK 1,000,000"),
    (Decimal("1234567.50"), "1.234.568 kr.", "DKK 1,234,568"),
    (1_600_000_000, "1.600.000.000 kr.", "DKK 1,600,000,000"),
    (Decimal("-0.4"), "0 kr.", "DKK 0"),  # never "-0"
]


@pytest.mark.parametrize(("value", "danish", "english"), MONEY)
def test_tables_in_whole_kroner_with_thousands_separators(lang, value, danish, english):
    assert formatting.money(value) == (danish if lang == "da" else english)


def test_months_read_as_abbreviated_month_and_year(lang):
    expected = "nov. 2026" if lang == "da" else "Nov 2026"
    assert formatting.month(dt.date(2026, 11, 17)) == expected
    assert formatting.month(dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)) == expected
    assert formatting.month("2026-11") == expected
    assert formatting.month(dt.date(2026, 5, 1)) == ("maj 2026" if lang == "da" else "May 2026")


@pytest.mark.parametrize(
    ("value", "danish", "english"),
    [
        (60_000, "60.000 linjer", "60,000 lines"),
        (1, "1 linje", "1 line"),
        (0, "0 linjer", "0 lines"),
        (1_000_000, "1.000.000 linjer", "1,000,000 lines"),
    ],
)
def test_counts_with_their_noun(lang, value, danish, english):
    assert formatting.count(value, "lines") == (danish if lang == "da" else english)


def test_counts_without_a_noun_and_explicit_language():
    assert formatting.count(999_999) in ("999.999", "999,999")
    assert formatting.count(60_000, "lines", lang="da") == "60.000 linjer"
    assert formatting.count(60_000, "lines", lang="en") == "60,000 lines"


@pytest.mark.parametrize("empty", [None, "", "abc", float("nan")])
def test_missing_or_bad_values_show_a_dash(lang, empty):
    assert formatting.compact_money(empty) == "–"
    assert formatting.money(empty) == "–"
    assert formatting.count(empty, "lines") == "–"


def test_floats_are_read_as_their_printed_value(lang):
    assert formatting.compact_money(98.35e6) == ("98,4 mio. kr." if lang == "da" else "DKK 98.4 m")


def test_the_chart_formatter_gets_the_same_words(lang):
    words = formatting.compact_money_words()
    if lang == "da":
        assert words["million"].format("98,3") == "98,3 mio. kr."
        assert words["billion"].format("1,6") == "1,6 mia. kr."
        assert words["plain"].format("999.999") == "999.999 kr."
    else:
        assert words["million"].format("98.3") == "DKK 98.3 m"
        assert words["billion"].format("1.6") == "DKK 1.6 bn"


def test_template_filters(lang):
    template = Template(
        "{% load rfi_format %}{{ big|compact_money }}|{{ big|whole_kroner }}|"
        '{{ day|month }}|{{ n|counted:"lines" }}'
    )
    html = template.render(
        Context({"big": Decimal("98300000"), "day": dt.date(2026, 11, 1), "n": 60000})
    )
    if lang == "da":
        assert html == "98,3 mio. kr.|98.300.000 kr.|nov. 2026|60.000 linjer"
    else:
        assert html == "DKK 98.3 m|DKK 98,300,000|Nov 2026|60,000 lines"


def test_the_chart_words_tag_is_json_data(lang):
    html = Template("{% load rfi_format %}{% chart_money_words %}").render(Context())
    assert html.startswith('<script id="chart-money-words" type="application/json">')
    assert ("mio. kr." in html) == (lang == "da")
