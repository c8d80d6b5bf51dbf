"""The Danish catalogue: complete, and no translation garbled by a merge."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

PO = Path(__file__).resolve().parents[2] / "locale" / "da" / "LC_MESSAGES" / "django.po"


def _entries(*, plurals: bool = True) -> list[tuple[str, str]]:
    """(msgid, msgstr) pairs read from the .po file, continuation lines joined."""
    text = PO.read_text(encoding="utf-8")
    pattern = re.compile(
        r'^msgid "(.*)"\n((?:".*"\n)*)(msgid_plural .*\n(?:".*"\n)*)?'
        r'msgstr(?:\[0\])? "(.*)"\n((?:".*"\n)*)',
        re.M,
    )
    joined = []
    for first_id, more_id, plural, first_str, more_str in pattern.findall(text):
        if plural and not plurals:
            continue
        msgid = first_id + "".join(line[1:-1] for line in more_id.splitlines())
        msgstr = first_str + "".join(line[1:-1] for line in more_str.splitlines())
        joined.append((msgid, msgstr))
    return [(i, s) for i, s in joined if i]  # the header has an empty msgid


def test_every_message_has_a_danish_translation():
    untranslated = [msgid for msgid, msgstr in _entries() if not msgstr]
    assert len(_entries()) > 100
    assert not untranslated, f"untranslated: {untranslated[:10]}"


def test_no_translation_repeats_itself():
    # Two people editing the catalogue at once once left "X.X.X" in a msgstr.
    repeated = [
        msgstr for _msgid, msgstr in _entries() if len(msgstr) > 40 and msgstr[:40] in msgstr[40:]
    ]
    assert not repeated, repeated


def test_the_compiled_catalogue_matches_the_source():
    with PO.with_suffix(".mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for msgid, msgstr in _entries(plurals=False):
        if "\\" in msgid or "\\" in msgstr:
            continue  # escapes are decoded in the .mo
        assert catalogue.gettext(msgid) == msgstr, msgid
