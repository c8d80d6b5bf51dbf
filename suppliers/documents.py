"""A contract's documents (the signed contract, appendices): checked, stored, never public.

An upload passes the same checks as the imports (rfi/spreadsheet/checks.py): a plain file
name, the size limit, first bytes that match the extension (a program named .pdf is
refused), and for .docx and .xlsx the zip-bomb and DOCTYPE checks. Files are stored
under MEDIA_ROOT with a random name; MEDIA_ROOT is never served, and
suppliers.views.document_download hands a file only to those who may read the contract.
"""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rfi import permissions
from rfi.spreadsheet import checks
from rfi.spreadsheet.errors import FileRefused
from suppliers.models import Contract, ContractDocument

PDF, DOCX, XLSX = ".pdf", ".docx", ".xlsx"
ALLOWED_SUFFIXES = (PDF, DOCX, XLSX)
CONTENT_TYPES = {
    PDF: "application/pdf",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def max_bytes() -> int:
    return getattr(settings, "CONTRACT_DOCUMENT_MAX_BYTES", 25 * 1024 * 1024)


def document_check(upload) -> str:
    """Refuse a file that is not what its name says (PDF, Word .docx, Excel .xlsx).

    Returns the plain file name. Raises FileRefused (a ValidationError) naming the problem.
    """
    name = checks.check_file_name(getattr(upload, "name", "") or "")
    suffix = PurePath(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise FileRefused(
            _("Upload a PDF, a Word document (.docx) or an Excel workbook (.xlsx)."),
            code="file_type",
        )
    checks.check_size(upload.size, max_bytes())
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not head:
        raise FileRefused(_("The file is empty."), code="empty")
    if suffix == PDF and not head.startswith(b"%PDF"):
        what = checks.magic(head)
        raise FileRefused(
            _("“%(name)s” is named .pdf but is not a PDF document: it is %(what)s.")
            % {"name": name, "what": _(what) if what else _("text")},
            code="file_type",
        )
    if suffix in (DOCX, XLSX):
        if not head.startswith(b"PK\x03\x04"):
            what = checks.magic(head)
            raise FileRefused(
                _("“%(name)s” is not an Office document: it is %(what)s.")
                % {"name": name, "what": _(what) if what else _("text")},
                code="file_type",
            )
        main_part, missing = (
            ("word/document.xml", _("The file is not a Word document (.docx)."))
            if suffix == DOCX
            else (
                "xl/workbook.xml",
                _("The file is not an Excel workbook (.xlsx): it has no workbook part."),
            )
        )
        checks.check_office_zip(
            upload.file if hasattr(upload, "file") else upload,
            max_uncompressed=max_bytes() * 20,
            main_part=main_part,
            missing=missing,
        )
        upload.seek(0)
    return name


@transaction.atomic
def contract_document_add(
    *, contract: Contract, actor, upload, kind: str = ContractDocument.Kind.SIGNED
) -> ContractDocument:
    """Store a checked file with the contract: its region's officers and the secretariat."""
    if not permissions.can_edit_contract(actor, contract):
        raise PermissionDenied(_("Only the region's officers and the secretariat edit it."))
    if kind not in ContractDocument.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of document.")})
    try:
        name = document_check(upload)
    except FileRefused as refused:
        raise ValidationError({"file": refused.messages}) from refused
    document = ContractDocument(
        contract=contract, kind=kind, name=name, size=upload.size, uploaded_by=actor
    )
    document.file.save(name, upload, save=False)
    document.save()
    return document


def content_type(document: ContractDocument) -> str:
    return CONTENT_TYPES.get(PurePath(document.name).suffix.lower(), "application/octet-stream")
