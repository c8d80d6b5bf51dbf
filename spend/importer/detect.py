"""Find out what a file is before reading it: kind, magic bytes, zip directory, text encoding.

Nothing here trusts the file: names with path parts, contents that contradict the
extension, zip bombs (judged from the zip directory before anything is inflated),
XML with a DOCTYPE (external entities), gzip that inflates past the limit and binary
data in a CSV are all refused with a message that names the problem.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from spend.importer.errors import ImportRefused

CSV, CSV_GZ, XLSX = "csv", "csv_gz", "xlsx"
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
REFUSED_SUFFIXES = {
    ".xls": gettext_noop("an old Excel workbook (.xls)"),
    ".xlsm": gettext_noop("an Excel workbook with macros (.xlsm)"),
    ".xlsb": gettext_noop("a binary Excel workbook (.xlsb)"),
    ".ods": gettext_noop("an OpenDocument spreadsheet (.ods)"),
    ".zip": gettext_noop("a zip archive"),
    ".pdf": gettext_noop("a PDF document"),
}
# What the first bytes say a file is.
MAGIC = (
    (b"PK\x03\x04", gettext_noop("a zip archive (e.g. an Excel .xlsx workbook)")),
    (b"PK\x05\x06", gettext_noop("an empty zip archive")),
    (b"\x1f\x8b", gettext_noop("a gzip-compressed file")),
    (b"\xd0\xcf\x11\xe0", gettext_noop("an old Excel (.xls) or password-protected workbook")),
    (b"%PDF", gettext_noop("a PDF document")),
    (b"\x89PNG", gettext_noop("a PNG image")),
    (b"\xff\xd8\xff", gettext_noop("a JPEG image")),
    (b"GIF8", gettext_noop("a GIF image")),
    (b"\xff\xfe", gettext_noop("UTF-16 text")),
    (b"\xfe\xff", gettext_noop("UTF-16 text")),
    (b"7z\xbc\xaf", gettext_noop("a 7-Zip archive")),
    (b"Rar!", gettext_noop("a RAR archive")),
    (b"\x7fELF", gettext_noop("a program")),
    (b"MZ", gettext_noop("a Windows program")),
)
SEPARATORS = (";", "\t", ",")
BLOCK = 8 << 20
# Zip members larger than this may not inflate more than MAX_ZIP_RATIO times; a real
# sheet compresses 5–20 times, zip bombs a thousand times and more.
MAX_ZIP_RATIO = 200
ZIP_RATIO_MIN_SIZE = 1 << 20
MAX_ZIP_MEMBERS = 10_000
# The DOCTYPE of an XML part must come before its root element; look this far for it.
XML_PROLOG_BYTES = 64 << 10


def max_uncompressed_bytes() -> int:
    """What a .gz or .xlsx may inflate to (default: 10 × the upload limit)."""
    return getattr(settings, "LEDGER_MAX_UNCOMPRESSED_BYTES", 10 * settings.LEDGER_MAX_UPLOAD_BYTES)


def check_file_name(name: str) -> str:
    """The plain file name, or refuse one with directory parts (``../x.csv``, ``C:\\x``)."""
    if not name or not name.strip():
        raise ImportRefused(_("The file has no name."), code="file_name")
    if (
        "/" in name
        or "\\" in name
        or "\x00" in name
        or name.strip() in (".", "..")
        or re.match(r"^[A-Za-z]:", name)
    ):
        raise ImportRefused(
            _("The file name “%(name)s” contains a path; give the file name only.")
            % {"name": name[:200]},
            code="file_name",
        )
    if len(name) > 255:
        raise ImportRefused(_("The file name is longer than 255 characters."), code="file_name")
    return name


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


def magic(head: bytes) -> str | None:
    for prefix, what in MAGIC:
        if head.startswith(prefix):
            return what
    return None


def check_magic(path: Path, kind: str, name: str) -> None:
    """Refuse a file whose first bytes contradict its extension."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if not head:
        raise ImportRefused(_("The file is empty."), code="empty")
    what = magic(head)
    if kind == XLSX and not head.startswith(b"PK\x03\x04"):
        raise ImportRefused(
            _("“%(name)s” is named .xlsx but is not an Excel workbook: it is %(what)s.")
            % {"name": name, "what": _(what or "not a zip archive")},
            code="file_type",
        )
    if kind == CSV_GZ and not head.startswith(b"\x1f\x8b"):
        raise ImportRefused(
            _("“%(name)s” is named .gz but is not gzip-compressed.") % {"name": name},
            code="file_type",
        )
    if kind == CSV and what:
        raise ImportRefused(
            _("“%(name)s” is named as a CSV text file but is %(what)s.")
            % {"name": name, "what": _(what)},
            code="file_type",
        )


# XLSX ------------------------------------------------------------------------------------------


def check_xlsx(path: Path) -> None:
    """Refuse a damaged workbook, a zip bomb or XML with a DOCTYPE, before any cell is read.

    The sizes come from the zip directory (nothing is inflated for that check); then every
    part is inflated once as a stream, with Python's zipfile stopping at the declared size,
    so a directory that lies about sizes is caught without the memory growing.
    """
    limit = max_uncompressed_bytes()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _damaged(exc) from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise _bomb(_("it holds %(count)d parts") % {"count": len(members)})
        total = 0
        for info in members:
            total += info.file_size
            if info.file_size > ZIP_RATIO_MIN_SIZE and (
                info.compress_size == 0 or info.file_size / info.compress_size > MAX_ZIP_RATIO
            ):
                raise _bomb(
                    _("the part %(part)s would inflate %(ratio)s times, to %(size)s")
                    % {
                        "part": info.filename,
                        "ratio": info.file_size // max(info.compress_size, 1),
                        "size": filesizeformat(info.file_size),
                    }
                )
        if total > limit:
            raise _bomb(
                _("it would inflate to %(size)s (the limit is %(limit)s)")
                % {"size": filesizeformat(total), "limit": filesizeformat(limit)}
            )
        names = {info.filename for info in members}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise ImportRefused(
                _("The file is not an Excel workbook (.xlsx): it has no workbook part."),
                code="xlsx_damaged",
            )
        for info in members:
            _check_part(archive, info)


def _check_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    is_xml = info.filename.endswith((".xml", ".rels", ".vml"))
    small = info.file_size <= XML_PROLOG_BYTES
    try:
        with archive.open(info) as part:
            prolog = part.read(XML_PROLOG_BYTES)
            if is_xml and small:
                _check_xml_document(info.filename, prolog)
            elif is_xml:
                _check_xml_prolog(info.filename, prolog)
            # Inflate the rest as a stream: zipfile stops at the declared size and checks
            # the CRC, so a part larger than the directory says is caught here.
            while part.read(BLOCK):
                pass
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise _damaged(exc) from exc


def _xml_text(prolog: bytes) -> str:
    if prolog.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return prolog.decode("utf-16", errors="replace")
    return prolog.decode("utf-8", errors="replace")


def _refuse_entities(part: str) -> ImportRefused:
    return ImportRefused(
        _(
            "The workbook part %(part)s declares a DOCTYPE or entities (possibly external "
            "entities); such files are refused. Save the sheet again from Excel."
        )
        % {"part": part},
        code="xlsx_entities",
    )


def _check_xml_document(part: str, data: bytes) -> None:
    if not data.strip():
        return
    try:
        SafeElementTree.fromstring(data, forbid_dtd=True, forbid_entities=True)
    except DefusedXmlException as exc:
        raise _refuse_entities(part) from exc
    except SafeElementTree.ParseError:
        text = _xml_text(data).upper()
        if "<!DOCTYPE" in text or "<!ENTITY" in text:
            raise _refuse_entities(part) from None
        raise ImportRefused(
            _("The workbook part %(part)s is not well-formed XML: the file is damaged.")
            % {"part": part},
            code="xlsx_damaged",
        ) from None


def _check_xml_prolog(part: str, prolog: bytes) -> None:
    text = _xml_text(prolog)
    # The root element is the first tag that is not a declaration, comment or DOCTYPE.
    root = re.search(r"<(?![?!])", text)
    head = text[: root.start()] if root else text
    if "<!DOCTYPE" in head.upper() or "<!ENTITY" in head.upper() or root is None:
        raise _refuse_entities(part)


def _damaged(exc: BaseException) -> ImportRefused:
    return ImportRefused(
        _("The Excel file is damaged or not a valid .xlsx workbook (%(error)s).")
        % {"error": str(exc)[:200] or exc.__class__.__name__},
        code="xlsx_damaged",
    )


def _bomb(why: str) -> ImportRefused:
    return ImportRefused(
        _("The Excel file is refused as a possible zip bomb: %(why)s.") % {"why": why},
        code="xlsx_bomb",
    )


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
    encoding, lines = _scan(path)
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    text = head.decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="replace")
    if not text.strip():
        raise ImportRefused(_("The file is empty."), code="empty")
    _refuse_control_characters(text[:65536])
    header_line = text.splitlines()[0]
    separator = _separator(header_line)
    headers = next(csv.reader([header_line], delimiter=separator))
    return TextFile(path=path, encoding=encoding, separator=separator, headers=headers, lines=lines)


def _scan(path: Path) -> tuple[str, int]:
    """(``utf-8`` if the whole file decodes as UTF-8, else ``cp1252`` if it decodes as that,
    number of lines)."""
    for encoding in ("utf-8", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        lines = 0
        try:
            with path.open("rb") as fh:
                while block := fh.read(BLOCK):
                    if b"\x00" in block:
                        raise _binary()
                    decoder.decode(block)
                    lines += block.count(b"\n")
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding, lines
    raise ImportRefused(
        _(
            "The file is neither UTF-8 nor Windows-1252 text (it may be binary). "
            "Save the extract as CSV UTF-8."
        ),
        code="encoding",
    )


def _binary() -> ImportRefused:
    return ImportRefused(
        _("The file holds binary data, not CSV text."),
        code="binary",
    )


def _refuse_control_characters(sample: str) -> None:
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    if controls > max(10, len(sample) // 100):
        raise _binary()


def _separator(header_line: str) -> str:
    """The separator the header line uses most: ``;``, tab or ``,`` (outside quotes)."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {sep: unquoted.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    if counts[best] == 0:
        raise ImportRefused(
            _(
                "No column separator (; , or tab) in the first line “%(line)s”: the first "
                "line must name the columns."
            )
            % {"line": header_line[:200]},
            code="separator",
        )
    return best
