"""Stop a browser upload at the size limit while it streams, not after it has arrived.

Django's multipart parser writes the whole request body to a temporary file before the
view runs (FILE_UPLOAD_MAX_MEMORY_SIZE only decides memory versus disk). This handler
skips the file as soon as it passes settings.LEDGER_MAX_UPLOAD_BYTES; the rest of the
body is read and thrown away, so the page can still answer with a message.

Install it before anything reads request.POST or request.FILES (CSRF does, so the view
is csrf_exempt and calls csrf_protect itself, as the Django docs show under "Modifying
upload handlers on the fly")::

    request.upload_handlers.insert(0, LedgerUploadLimit(request))
    ...
    if getattr(request, "ledger_upload_too_large", False): show the refusal
"""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import (
    FileUploadHandler,
    SkipFile,
    TemporaryFileUploadHandler,
)


class LedgerUploadLimit(FileUploadHandler):
    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received = start + len(raw_data)
        if self.received > settings.LEDGER_MAX_UPLOAD_BYTES:
            self.request.ledger_upload_too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (disk or memory) builds the file


class UnnamedTemporaryUploadedFile(UploadedFile):
    """A large upload spooled to a temporary file without a name on disk.

    Django's TemporaryUploadedFile is a named file, removed when it is closed: an upload
    cut off by a killed process (gunicorn's timeout, an OOM kill, a container stop) leaves
    it behind in /tmp for good. This file is unlinked as it is created, so the operating
    system reclaims it when the process lets go of it, however the upload ended. Storage
    copies it in chunks instead of renaming it.
    """

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        file = tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)
        super().__init__(file, name, content_type, size, charset, content_type_extra)


class UnnamedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """settings.FILE_UPLOAD_HANDLERS: uploads over FILE_UPLOAD_MAX_MEMORY_SIZE go to an
    UnnamedTemporaryUploadedFile."""

    def new_file(self, *args, **kwargs) -> None:
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = UnnamedTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )

    def upload_interrupted(self) -> None:
        if hasattr(self, "file"):
            self.file.close()
