"""Backups: the database and the uploaded files as one pair, with a manifest to check them by.

A backup is a folder named by its UTC time holding ``database.dump`` (pg_dump's custom
format) or ``database.sqlite3`` (SQLite's online backup), ``media.tar.gz`` (MEDIA_ROOT)
and ``manifest.json`` (each file's SHA-256 and size, the migrations applied). The database
is dumped first and the files tarred after it, under the maintenance lock that the upload
purge also takes: every file a dumped row names is in the tar (a file uploaded meanwhile
may be there too, without its row, which is harmless). docs/operations.md has the procedures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MEDIA_ARCHIVE = "media.tar.gz"
PG_DUMP = "database.dump"
SQLITE_DUMP = "database.sqlite3"
FORMAT = 1
# pg_advisory_lock key shared by backups and the purge of superseded uploads ("rfi-mnt").
MAINTENANCE_LOCK_KEY = 0x72666D6E74


class BackupError(Exception):
    """The backup could not be made, or a folder is not a backup that may be restored."""


@contextmanager
def maintenance_lock() -> Iterator[None]:
    """Keep backups and the purge of uploaded files from running at the same time.

    PostgreSQL: a session advisory lock, so it holds across machines. SQLite runs on one
    machine with one writer at a time; nothing more is needed there.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MAINTENANCE_LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MAINTENANCE_LOCK_KEY])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _media_root() -> Path:
    if not isinstance(default_storage, FileSystemStorage):
        raise BackupError(
            "Uploaded files are kept in an object store, not in MEDIA_ROOT: back them up with "
            "the store's own versioning or replication (docs/operations.md)."
        )
    return Path(settings.MEDIA_ROOT)


def _pg_env() -> dict[str, str]:
    db = connection.settings_dict
    env = {**os.environ}
    for key, name in (
        ("PGHOST", db.get("HOST")),
        ("PGPORT", str(db.get("PORT") or "")),
        ("PGUSER", db.get("USER")),
        ("PGPASSWORD", db.get("PASSWORD")),
        ("PGDATABASE", db.get("NAME")),
        ("PGSSLMODE", (db.get("OPTIONS") or {}).get("sslmode")),
    ):
        if name:
            env[key] = name
    return env


def _run(command: list[str], **kwargs) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, **kwargs)
    except FileNotFoundError as missing:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools)") from missing
    except subprocess.CalledProcessError as failed:
        detail = failed.stderr.decode(errors="replace").strip() if failed.stderr else ""
        raise BackupError(f"{command[0]} failed: {detail}") from failed


def _dump_database(folder: Path) -> str:
    if connection.vendor == "postgresql":
        target = folder / PG_DUMP
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "-f", str(target)],
            env=_pg_env(),
        )
        return PG_DUMP
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(folder / SQLITE_DUMP)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        return SQLITE_DUMP
    raise BackupError(f"no backup method for a {connection.vendor} database")


def _applied_migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def backup_create(*, root: Path | None = None) -> Path:
    """Write a new backup folder under ``root`` (settings.BACKUP_ROOT) and return it."""
    media_root = _media_root()
    root = Path(root or settings.BACKUP_ROOT)
    if root.resolve().is_relative_to(media_root.resolve()):
        raise BackupError("BACKUP_ROOT lies inside MEDIA_ROOT: the backup would hold itself")
    created = dt.datetime.now(dt.UTC)
    folder = root / created.strftime("%Y%m%dT%H%M%SZ")
    try:
        folder.mkdir(parents=True, exist_ok=False)
    except FileExistsError as taken:
        raise BackupError(f"{folder} exists already: one backup a second") from taken
    try:
        with maintenance_lock():
            database_file = _dump_database(folder)
            with tarfile.open(folder / MEDIA_ARCHIVE, "w:gz") as archive:
                if media_root.exists():
                    archive.add(media_root, arcname=".")
        files = {
            name: {"sha256": _sha256(folder / name), "size": (folder / name).stat().st_size}
            for name in (database_file, MEDIA_ARCHIVE)
        }
        manifest = {
            "format": FORMAT,
            "created_at": created.isoformat(),
            "database": {"vendor": connection.vendor, "file": database_file},
            "media": MEDIA_ARCHIVE,
            "files": files,
            "migrations": _applied_migrations(),
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # never leave half a backup behind
        raise
    logger.info("backup written to %s", folder)
    return folder


def backup_verify(folder: Path) -> dict:
    """The backup's manifest, after checking every file it lists against its SHA-256."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as missing:
        raise BackupError(f"{folder} has no {MANIFEST}: not a backup") from missing
    except ValueError as bad:
        raise BackupError(f"{folder / MANIFEST} is not valid JSON: {bad}") from bad
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    for name, expected in manifest["files"].items():
        path = folder / name
        if Path(name).name != name or not path.is_file():
            raise BackupError(f"{name} is missing from the backup")
        if _sha256(path) != expected["sha256"]:
            raise BackupError(f"{name} does not match the manifest (SHA-256 differs)")
    for role in (manifest["database"]["file"], manifest["media"]):
        if role not in manifest["files"]:
            raise BackupError(f"the manifest lists no checksum for {role}")
    return manifest


def _restore_postgresql(dump: Path) -> None:
    """Replace the database's public schema by the dump's, in one transaction.

    The schema is emptied first (a table a newer migration created would otherwise
    survive a rollback), and psql runs the whole script as one transaction: a failure
    leaves the database as it was.
    """
    connection.close()
    env = _pg_env()
    try:
        script = subprocess.Popen(
            ["pg_restore", "--no-owner", "--no-privileges", "-f", "-", str(dump)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
    except FileNotFoundError as missing:
        raise BackupError("pg_restore is not installed (PostgreSQL client tools)") from missing
    psql = subprocess.Popen(
        ["psql", "--quiet", "--no-psqlrc", "--single-transaction", "-v", "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert psql.stdin is not None and script.stdout is not None
    try:
        psql.stdin.write(b"DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n")
        shutil.copyfileobj(script.stdout, psql.stdin, 1024 * 1024)
    except BrokenPipeError:
        pass  # psql stopped at an error: its stderr says which
    finally:
        psql.stdin.close()
    script_error = script.stderr.read().decode(errors="replace") if script.stderr else ""
    psql_error = psql.stderr.read().decode(errors="replace") if psql.stderr else ""
    if script.wait() != 0:
        psql.kill()
        psql.wait()
        raise BackupError(f"pg_restore failed: {script_error.strip()}")
    if psql.wait() != 0:
        raise BackupError(f"psql failed, the database is unchanged: {psql_error.strip()}")


def _restore_sqlite(dump: Path) -> None:
    connection.ensure_connection()
    source = sqlite3.connect(dump)
    try:
        source.backup(connection.connection)
    finally:
        source.close()


def _restore_media(archive_path: Path, media_root: Path) -> None:
    """Make MEDIA_ROOT hold exactly the archive's files (it may be a mount: kept itself)."""
    media_root.mkdir(parents=True, exist_ok=True)
    staging = media_root / f".restoring-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            archive.extractall(staging, filter="data")
        for entry in media_root.iterdir():
            if entry == staging:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        for entry in staging.iterdir():
            entry.rename(media_root / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def backup_restore(*, folder: Path) -> dict:
    """Restore the database and the uploaded files from a backup folder; return its manifest.

    Stop the web, worker and beat first (docs/operations.md): the restore replaces
    everything they read.
    """
    folder = Path(folder)
    manifest = backup_verify(folder)
    media_root = _media_root()
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(
            f"the backup is of a {vendor} database; this site runs on {connection.vendor}"
        )
    dump = folder / manifest["database"]["file"]
    if connection.in_atomic_block:
        raise BackupError("a restore cannot run inside a transaction")
    if vendor == "postgresql":
        _restore_postgresql(dump)
    else:
        _restore_sqlite(dump)
    _restore_media(folder / manifest["media"], media_root)
    logger.info("restored the backup of %s from %s", manifest["created_at"], folder)
    return manifest
