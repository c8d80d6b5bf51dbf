"""The one rule for text and dates typed into the system (rfi/validation.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from rfi.validation import check_values, date_error, plausible_or_none, printable, text_error
from tenders.models import TenderCase


@pytest.mark.parametrize(
    ("value", "multiline", "refused"),
    [
        ("Sårplejeprodukter – æøå ÆØÅ é ü", False, False),
        ("Linje 1\nLinje 2\tmed tab\r\n", True, False),
        ("Linje 1\nLinje 2", False, True),
        ("Titel\x00", True, True),
        ("Titel\x0b", True, True),
        ("Titel\x1b[31m", True, True),
        ("Titel\x7f", True, True),
        ("Titel\x85", True, True),
        ("Titel\ud800", True, True),
        ("Titel\ufffe", True, True),
        ('=HYPERLINK("http://x")', False, False),  # formulas are the writers' concern
    ],
)
def test_control_characters_are_refused_newline_and_tab_only_in_long_texts(
    value, multiline, refused
):
    assert (text_error(value, multiline=multiline) is not None) is refused


def test_the_message_names_the_character_and_its_position():
    with translation.override("da"):
        assert text_error("ab\x07c", multiline=True) == (
            "Teksten indeholder et usynligt kontroltegn (U+0007 på position 3)."
        )


@pytest.mark.parametrize(
    ("day", "refused"),
    [
        (dt.date(1999, 12, 31), True),
        (dt.date(2000, 1, 1), False),
        (dt.date(2099, 12, 31), False),
        (dt.date(2100, 1, 1), True),
        (dt.date(9999, 12, 31), True),
    ],
)
def test_dates_are_bounded_to_the_plausible_range(day, refused):
    assert (date_error(day) is not None) is refused
    assert (plausible_or_none(day) is None) is refused


def test_the_range_is_a_setting(settings):
    settings.PLAUSIBLE_DATES = ("1990-01-01", "2200-12-31")

    assert date_error(dt.date(1995, 6, 1)) is None
    with translation.override("en"):
        assert "01-01-1990 to 31-12-2200" in date_error(dt.date(1989, 1, 1))


def test_check_values_names_every_refused_field_of_a_model():
    tender = TenderCase(
        title="Senge\x00",
        description="ok\nok",
        internal_notes="bad\x1b",
        expected_tender_start=dt.date(9999, 12, 31),
        publication_date=dt.date(2027, 1, 1),
    )

    with pytest.raises(ValidationError) as raised:
        check_values(tender)

    assert sorted(raised.value.message_dict) == [
        "expected_tender_start",
        "internal_notes",
        "title",
    ]


def test_printable_keeps_line_breaks_only_where_asked():
    assert printable("a\x00b\nc\td") == "ab\nc\td"
    assert printable("a\x00b\nc\td", multiline=False) == "ab c d"
    assert printable(None) == ""
