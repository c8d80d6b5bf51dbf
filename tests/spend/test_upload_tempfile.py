"""An interrupted upload leaves no temporary file behind, even when its process is killed."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.http.multipartparser import MultiPartParser
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from spend.importer.upload import UnnamedTemporaryFileUploadHandler

SIZE = 4 * 1024 * 1024  # over FILE_UPLOAD_MAX_MEMORY_SIZE: spooled to disk


class _CutOff(io.BytesIO):
    """A request body whose client goes away after ``limit`` bytes."""

    def __init__(self, data: bytes, limit: int, seen: list):
        super().__init__(data)
        self.limit, self.seen = limit, seen

    def read(self, size=-1):
        if self.tell() >= self.limit:
            raise OSError("client disconnected")
        chunk = super().read(size)
        self.seen.append(sorted(p.name for p in self.folder.iterdir()))
        return chunk


def _parse(folder, body: bytes, stream) -> tuple:
    meta = {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(len(body))}
    handlers = [UnnamedTemporaryFileUploadHandler()]
    return MultiPartParser(meta, stream, handlers).parse()


@pytest.fixture
def folder(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    return tmp_path


def _body() -> bytes:
    upload = io.BytesIO(b"x" * SIZE)
    upload.name = "hovedbog.csv"
    return encode_multipart(BOUNDARY, {"region": "RM", "file": upload})


def test_the_uploads_handlers_spool_without_a_file_name_on_disk():
    assert "spend.importer.upload.UnnamedTemporaryFileUploadHandler" in (
        settings.FILE_UPLOAD_HANDLERS
    )


def test_an_upload_cut_off_midway_leaves_no_file_not_even_while_it_streams(folder):
    body, seen = _body(), []
    stream = _CutOff(body, len(body) // 2, seen)
    stream.folder = folder

    with pytest.raises(OSError):
        _parse(folder, body, stream)

    assert seen, "the body was read"
    assert all(names == [] for names in seen)  # a kill at any moment leaves nothing
    assert list(folder.iterdir()) == []


def test_a_complete_upload_is_read_back_whole(folder):
    body = _body()
    _post, files = _parse(folder, body, io.BytesIO(body))

    uploaded = files["file"]
    assert uploaded.size == SIZE
    uploaded.seek(0)
    assert uploaded.read() == b"x" * SIZE
    assert list(folder.iterdir()) == []
