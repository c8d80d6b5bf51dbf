"""What is refused before an uploaded spreadsheet is opened.

Nothing here trusts the file: names with path parts, contents that contradict the
extension (an .xlsx that is no zip, a .csv that is binary), zip bombs (judged from the
zip directory before anything is inflated, then inflated as a stream that stops at the
declared size), XML parts with a DOCTYPE or entities (XXE, "billion laughs") and files
over the size limit are all refused with a FileRefused whose message names the problem.

The ledger import (spend.importer) and the plan import (tenders.excel) both call these.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from rfi.spreadsheet.errors import FileRefused

CSV, CSV_GZ, XLSX = "csv", "csv_gz", "xlsx"
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
BLOCK = 8 << 20
# Zip members larger than this may not inflate more than MAX_ZIP_RATIO times; a real
# sheet compresses 5–20 times, zip bombs a thousand times and more.
MAX_ZIP_RATIO = 200
ZIP_RATIO_MIN_SIZE = 1 << 20
MAX_ZIP_MEMBERS = 10_000
# The DOCTYPE of an XML part must come before its root element; look this far for it.
XML_PROLOG_BYTES = 64 << 10

Source = Path | bytes | BinaryIO


def check_size(size: int, limit: int) -> None:
    """Refuse a file larger than ``limit`` bytes."""
    if size > limit:
        raise FileRefused(
            _("The file is larger than the limit of %(limit)s.") % {"limit": filesizeformat(limit)},
            code="too_large",
        )


def check_file_name(name: str) -> str:
    """The plain file name, or refuse one with directory parts (``../x.csv``, ``C:\\x``)."""
    if not name or not name.strip():
        raise FileRefused(_("The file has no name."), code="file_name")
    if (
        "/" in name
        or "\\" in name
        or "\x00" in name
        or name.strip() in (".", "..")
        or re.match(r"^[A-Za-z]:", name)
    ):
        raise FileRefused(
            _("The file name “%(name)s” contains a path; give the file name only.")
            % {"name": name[:200]},
            code="file_name",
        )
    if len(name) > 255:
        raise FileRefused(_("The file name is longer than 255 characters."), code="file_name")
    return name


def magic(head: bytes) -> str | None:
    """What the first bytes say the file is (untranslated), or None for plain text."""
    for prefix, what in MAGIC:
        if head.startswith(prefix):
            return what
    return None


def check_type(head: bytes, kind: str, name: str) -> None:
    """Refuse a file whose first bytes contradict its extension (``kind``: csv, csv_gz, xlsx)."""
    if not head:
        raise FileRefused(_("The file is empty."), code="empty")
    what = magic(head)
    if kind == XLSX and not head.startswith(b"PK\x03\x04"):
        raise FileRefused(
            _("“%(name)s” is named .xlsx but is not an Excel workbook: it is %(what)s.")
            % {"name": name, "what": _(what or "not a zip archive")},
            code="file_type",
        )
    if kind == CSV_GZ and not head.startswith(b"\x1f\x8b"):
        raise FileRefused(
            _("“%(name)s” is named .gz but is not gzip-compressed.") % {"name": name},
            code="file_type",
        )
    if kind == CSV and what:
        raise FileRefused(
            _("“%(name)s” is named as a CSV text file but is %(what)s.")
            % {"name": name, "what": _(what)},
            code="file_type",
        )


def check_magic(path: Path, kind: str, name: str) -> None:
    """check_type on the first bytes of a stored file."""
    with Path(path).open("rb") as fh:
        check_type(fh.read(8), kind, name)


# XLSX ------------------------------------------------------------------------------------------


def _open_zip(source: Source) -> zipfile.ZipFile:
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(bytes(source))
    return zipfile.ZipFile(source)


def check_xlsx(source: Source, *, max_uncompressed: int) -> None:
    """Refuse a damaged workbook, a zip bomb or XML with a DOCTYPE, before any cell is read."""
    check_office_zip(
        source,
        max_uncompressed=max_uncompressed,
        main_part="xl/workbook.xml",
        missing=_("The file is not an Excel workbook (.xlsx): it has no workbook part."),
    )


def check_office_zip(
    source: Source, *, max_uncompressed: int, main_part: str, missing: str
) -> None:
    """Refuse a damaged Office file (.xlsx, .docx), a zip bomb or XML with a DOCTYPE.

    The sizes come from the zip directory (nothing is inflated for that check); then every
    part is inflated once as a stream, with Python's zipfile stopping at the declared size,
    so a directory that lies about sizes is caught without the memory growing.
    """
    try:
        archive = _open_zip(source)
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
        if total > max_uncompressed:
            raise _bomb(
                _("it would inflate to %(size)s (the limit is %(limit)s)")
                % {"size": filesizeformat(total), "limit": filesizeformat(max_uncompressed)}
            )
        names = {info.filename for info in members}
        if "[Content_Types].xml" not in names or main_part not in names:
            raise FileRefused(missing, code="xlsx_damaged")
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


def _refuse_entities(part: str) -> FileRefused:
    return FileRefused(
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
        raise FileRefused(
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


def _damaged(exc: BaseException) -> FileRefused:
    return FileRefused(
        _("The Excel file is damaged or not a valid .xlsx workbook (%(error)s).")
        % {"error": str(exc)[:200] or exc.__class__.__name__},
        code="xlsx_damaged",
    )


def _bomb(why: str) -> FileRefused:
    return FileRefused(
        _("The Excel file is refused as a possible zip bomb: %(why)s.") % {"why": why},
        code="xlsx_bomb",
    )


# CSV -------------------------------------------------------------------------------------------


def binary() -> FileRefused:
    return FileRefused(_("The file holds binary data, not CSV text."), code="binary")


def check_text_sample(sample: str) -> None:
    """Refuse text with many control characters: binary data that happened to decode."""
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    if controls > max(10, len(sample) // 100):
        raise binary()


def check_csv_bytes(data: bytes) -> None:
    """Refuse a "CSV" that is binary: NUL bytes, or many control characters."""
    if b"\x00" in data:
        raise binary()
    check_text_sample(data[:65536].decode("cp1252", errors="replace"))
