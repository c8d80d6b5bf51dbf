"""Find out what a ledger extract is before reading it: kind, gzip, text encoding, separator.

The checks every upload gets (path names, magic bytes against the extension, zip bombs,
DOCTYPE/XXE, binary "CSV") live in rfi.spreadsheet.checks and are used from there; this
module adds what is particular to the ledger: .csv.gz, the inflation limit from settings,
the header line of a large CSV read as a stream.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from rfi.spreadsheet import checks, read
from rfi.spreadsheet.checks import (  # noqa: F401 – the ledger import's names for them
    BLOCK,
    CSV,
    CSV_GZ,
    REFUSED_SUFFIXES,
    XLSX,
    check_file_name,
    check_magic,
    magic,
)
from spend.importer.errors import ImportRefused

CSV_SUFFIXES = (".csv", ".txt", ".tsv")


def max_uncompressed_bytes() -> int:
    """What a .gz or .xlsx may inflate to (default: 10 × the upload limit)."""
    return getattr(settings, "LEDGER_MAX_UNCOMPRESSED_BYTES", 10 * settings.LEDGER_MAX_UPLOAD_BYTES)


def kind_from_name(name: str) -> str:
    """``csv``, ``csv_gz`` or ``xlsx`` from the extension; refuse anything else."""
    lower = name.lower()
    if lower.endswith(".gz"):
        return CSV_GZ
    suffix = Path(lower).suffix
    if suffix in CSV_SUFFIXES:
        return CSV
    if suffix == ".xlsx":
        return XLSX
    what = REFUSED_SUFFIXES.get(suffix)
    if what:
        raise ImportRefused(
            _("“%(name)s” is %(what)s. Save the extract as .xlsx or as CSV (.csv).")
            % {"name": name, "what": _(what)},
            code="file_type",
        )
    raise ImportRefused(
        _("“%(name)s” is not a ledger extract: use .csv, .csv.gz or .xlsx.") % {"name": name},
        code="file_type",
    )


def check_xlsx(path: Path) -> None:
    """checks.check_xlsx with the ledger's inflation limit."""
    checks.check_xlsx(path, max_uncompressed=max_uncompressed_bytes())


# CSV -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextFile:
    """A CSV extract ready for the parser: plain (inflated) bytes, encoding, separator, header."""

    path: Path
    encoding: str
    separator: str
    headers: list[str]
    lines: int


def gunzip(path: Path, target: Path) -> Path:
    """Inflate a .gz to ``target``, refusing past the limit or on damaged data."""
    limit = max_uncompressed_bytes()
    written = 0
    try:
        with gzip.open(path, "rb") as source, target.open("wb") as out:
            while block := source.read(BLOCK):
                written += len(block)
                if written > limit:
                    raise ImportRefused(
                        _("The compressed file inflates past %(limit)s; it is refused.")
                        % {"limit": filesizeformat(limit)},
                        code="gzip_bomb",
                    )
                out.write(block)
    except (gzip.BadGzipFile, zlib.error, EOFError, OSError) as exc:
        raise ImportRefused(
            _("The gzip file is damaged (%(error)s).") % {"error": str(exc)[:200]},
            code="gzip_damaged",
        ) from exc
    return target


def inspect_text(path: Path) -> TextFile:
    """Check that the file is text (UTF-8 with or without BOM, else Windows-1252),
    count its lines and find the separator from the header line."""
    encoding, lines = read.scan_encoding(path)
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    text = head.decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="replace")
    if not text.strip():
        raise ImportRefused(_("The file is empty."), code="empty")
    checks.check_text_sample(text[:65536])
    header_line = text.splitlines()[0]
    separator = _separator(header_line)
    headers = next(csv.reader([header_line], delimiter=separator))
    return TextFile(path=path, encoding=encoding, separator=separator, headers=headers, lines=lines)


def _separator(header_line: str) -> str:
    """The separator the header line uses most: ``;``, tab or ``,`` (outside quotes)."""
    best = read.sniff_separator(header_line)
    if best is None:
        raise ImportRefused(
            _(
                "No column separator (; , or tab) in the first line “%(line)s”: the first "
                "line must name the columns."
            )
            % {"line": header_line[:200]},
            code="separator",
        )
    return best
