"""manage.py backup and restore: the database and the uploaded files come back as a pair.

Runs on whichever database the suite runs on (SQLite, and PostgreSQL in CI).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from rfi.models import Region
from spend.models import ImportBatch

pytestmark = pytest.mark.django_db(transaction=True)

ORIGINAL = b"Bilagsdato;Leverandor;Belob\r\n2026-01-05;12345678;100,00\r\n"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def site(regions, media):
    """A region and an uploaded ledger extract, kept with its file."""
    batch = ImportBatch(
        region=regions["RM"],
        source=ImportBatch.Source.UPLOAD,
        file_name="januar.csv",
        sha256="0" * 64,
        size=len(ORIGINAL),
        status=ImportBatch.Status.DONE,
    )
    batch.file.save("januar.csv", ContentFile(ORIGINAL), save=False)
    batch.save()
    return regions["RM"], batch


def _backup(tmp_path) -> Path:
    call_command("backup", root=str(tmp_path / "backups"))
    (folder,) = (tmp_path / "backups").iterdir()
    return folder


def test_restore_brings_back_the_database_and_the_files(site, media, tmp_path):
    # given
    region, batch = site
    folder = _backup(tmp_path)
    stored = Path(batch.file.path)
    # when: the state changes after the backup
    Region.objects.filter(pk=region.pk).update(name_da="Omdøbt region")
    stored.unlink()
    (media / "ledger" / "later.csv").write_bytes(b"uploaded after the backup")
    call_command("restore", str(folder), yes=True)

    # then
    region.refresh_from_db()
    assert region.name_da == "Region Midtjylland"
    assert stored.read_bytes() == ORIGINAL
    assert not (media / "ledger" / "later.csv").exists()
    restored = ImportBatch.objects.get(pk=batch.pk)
    with restored.file.open("rb") as restored_file:
        assert restored_file.read() == ORIGINAL


def test_the_manifest_lists_each_file_with_its_checksum(site, tmp_path):
    folder = _backup(tmp_path)

    manifest = json.loads((folder / "manifest.json").read_text())

    assert set(manifest["files"]) == {manifest["database"]["file"], "media.tar.gz"}
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"].values())
    assert "0001_initial" in manifest["migrations"]["spend"]


def test_restore_refuses_without_yes_and_changes_nothing(site, tmp_path):
    region, _ = site
    folder = _backup(tmp_path)
    Region.objects.filter(pk=region.pk).update(name_da="Omdøbt region")

    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(folder))

    region.refresh_from_db()
    assert region.name_da == "Omdøbt region"


@pytest.mark.parametrize("damage", ["media.tar.gz", "manifest"])
def test_restore_refuses_a_backup_that_does_not_match_its_manifest(site, tmp_path, damage):
    # given
    region, batch = site
    folder = _backup(tmp_path)
    if damage == "manifest":
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["files"]["media.tar.gz"]["sha256"] = "f" * 64
        (folder / "manifest.json").write_text(json.dumps(manifest))
    else:
        with (folder / "media.tar.gz").open("ab") as archive:
            archive.write(b"\0")
    Region.objects.filter(pk=region.pk).update(name_da="Omdøbt region")
    Path(batch.file.path).unlink()

    # when / then
    with pytest.raises(CommandError, match="does not match the manifest"):
        call_command("restore", str(folder), yes=True)
    region.refresh_from_db()
    assert region.name_da == "Omdøbt region"
    assert not Path(batch.file.path).exists()


def test_restore_refuses_a_folder_without_a_manifest(db, tmp_path):
    with pytest.raises(CommandError, match="not a backup"):
        call_command("restore", str(tmp_path), yes=True)
