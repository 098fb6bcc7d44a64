"""Back up a running service into one archive, restore it into an empty data folder, verify an archive.

SQLite is copied with its online backup API, in one step under a read transaction: a consistent
copy while the server keeps writing (WAL lets writers go on). PostgreSQL is dumped by `pg_dump`
(a consistent snapshot too). The database goes first, the evidence files after: a file is stored
before the row naming it is committed and never changes, so every file the copy names is there.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session, col, select

from app.assessments.files import file_path
from app.assessments.models import Evidence, EvidenceKind, Snapshot
from app.assessments.snapshot import KEY_FILE, Signer, load_or_create_signer, verify
from app.backup.archive import (
    ALLOWED,
    FORMAT,
    PG_DUMP_FILE,
    SECRET_FILES,
    SQLITE_FILE,
    BackupError,
    extract,
    sha256_of,
    write_archive,
)
from app.config import Settings
from app.db import make_engine


@dataclass
class Verification:
    """What `verify_backup` checked, and every problem it found (none: the archive restores whole)."""

    files: int = 0
    evidence: int = 0
    snapshots: int = 0
    problems: list[str] = field(default_factory=list)


def create_backup(*, settings: Settings, destination: Path) -> tuple[Path, dict[str, Any]]:
    """Write the archive at `destination` (a folder gets a dated name); return its path and manifest."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = destination / f"autodiag-{stamp}.tar.gz" if destination.is_dir() else destination
    if target.exists():
        raise BackupError(f"{target} already exists: choose another name")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder")
    url = make_url(settings.sqlalchemy_url)
    signer = load_or_create_signer(settings.data_dir, settings.snapshot_signing_key)
    with tempfile.TemporaryDirectory(prefix=".autodiag-backup-", dir=target.parent) as work:
        database, revision = _dump(settings, url, Path(work))
        members = [database, *_data_files(settings.data_dir)]
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "database": {"kind": _kind(url), "file": database[0], "schema_revision": revision},
            "public_keys": {signer.key_id: base64.b64encode(signer.public_bytes).decode("ascii")},
        }
        return target, write_archive(target, members=members, manifest=manifest)


def _kind(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {backend} database: only SQLite and PostgreSQL")
    return backend


def _dump(settings: Settings, url: URL, work: Path) -> tuple[tuple[str, Path], str | None]:
    if _kind(url) == "sqlite":
        copy = work / SQLITE_FILE
        _sqlite_copy(Path(url.database or ""), copy)
        with sqlite3.connect(copy) as connection:
            found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return (SQLITE_FILE, copy), found[0] if found else None
    dump = work / PG_DUMP_FILE
    _run(settings, "pg_dump", "--format=custom", "--no-owner", f"--file={dump}", f"--dbname={_libpq(url)}")
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    return (PG_DUMP_FILE, dump), revision


def _sqlite_copy(source: Path, copy: Path) -> None:
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    origin = sqlite3.connect(source, timeout=30)
    target = sqlite3.connect(copy)
    try:
        origin.backup(target)  # every page in one step: one consistent read transaction
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        target.close()
        origin.close()


def _data_files(data_dir: Path) -> Iterator[tuple[str, Path]]:
    """The keys and the evidence files of `data_dir`; temporary uploads and e-mail copies stay out."""
    for name in SECRET_FILES:
        if (data_dir / name).is_file():
            yield name, data_dir / name
    for path in sorted((data_dir / "evidence").glob("??/*")):
        name = path.relative_to(data_dir).as_posix()
        if ALLOWED.fullmatch(name) and path.is_file():
            yield name, path


def restore_backup(*, archive: Path, settings: Settings) -> dict[str, Any]:
    """Restore `archive` into the empty data folder (and empty database) of `settings`."""
    data_dir = settings.data_dir
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise BackupError(
            f"{data_dir} is not an empty folder: restore only into an empty data folder "
            "(move this one aside, or set AUTODIAG_DATA_DIR to a new one)"
        )
    url = make_url(settings.sqlalchemy_url)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.restoring-", dir=data_dir.parent))
    try:
        manifest = extract(archive, staging)
        _restore_database(settings, url, manifest, staging)
        if data_dir.exists():
            data_dir.rmdir()
        staging.replace(data_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _restore_database(settings: Settings, url: URL, manifest: dict[str, Any], staging: Path) -> None:
    kind = manifest.get("database", {}).get("kind")
    if kind != _kind(url):
        raise BackupError(f"the archive holds a {kind} database, but the configured database is {_kind(url)}")
    if kind == "postgresql":
        _pg_restore_into_empty(settings, settings.sqlalchemy_url, staging / PG_DUMP_FILE)
        (staging / PG_DUMP_FILE).unlink()
        return
    target = Path(url.database or "")
    if target.resolve() != (settings.data_dir / SQLITE_FILE).resolve():
        if target.exists():
            raise BackupError(f"{target} already exists: restore only into a new database file")
        target.parent.mkdir(parents=True, exist_ok=True)
        (staging / SQLITE_FILE).replace(target)


def _pg_restore_into_empty(settings: Settings, database_url: str, dump: Path) -> None:
    engine = make_engine(database_url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        name = make_url(database_url).database
        raise BackupError(f"database {name} already has tables: restore only into an empty database")
    target = _libpq(make_url(database_url))
    _run(
        settings,
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        f"--dbname={target}",
        str(dump),
    )


def verify_backup(*, archive: Path, settings: Settings) -> Verification:
    """Restore `archive` in a temporary place, then check the database, every file and every snapshot."""
    with tempfile.TemporaryDirectory(prefix="autodiag-verify-") as work:
        data = Path(work) / "data"
        manifest = extract(archive, data)
        with _restored_database(settings, manifest, data) as engine:
            found = Verification(files=len(manifest["files"]))
            found.problems += _integrity(engine)
            _check_evidence(engine, data, found)
            _check_snapshots(engine, _public_keys(manifest, data), found)
    return found


@contextmanager
def _restored_database(settings: Settings, manifest: dict[str, Any], data: Path) -> Iterator[Engine]:
    """The archive's database, live: the SQLite file as extracted, or the dump in a scratch database."""
    if manifest.get("database", {}).get("kind") == "sqlite":
        engine = make_engine(f"sqlite:///{data / SQLITE_FILE}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    server = make_url(settings.sqlalchemy_url)
    if server.get_backend_name() != "postgresql":
        raise BackupError("verifying a PostgreSQL dump needs DATABASE_URL to name a PostgreSQL server")
    scratch = f"autodiag_verify_{uuid.uuid4().hex[:12]}"
    admin = make_engine(settings.sqlalchemy_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    scratch_url = server.set(database=scratch).render_as_string(hide_password=False)
    engine = make_engine(scratch_url)
    try:
        _pg_restore_into_empty(settings, scratch_url, data / PG_DUMP_FILE)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        admin.engine.dispose()


def _integrity(engine: Engine) -> list[str]:
    if engine.dialect.name != "sqlite":
        return []  # pg_restore --exit-on-error rebuilt every table, constraint and index, or failed
    with engine.connect() as connection:
        rows = [row[0] for row in connection.execute(text("PRAGMA integrity_check"))]
    return [] if rows == ["ok"] else [f"database integrity: {row}" for row in rows]


def _check_evidence(engine: Engine, data: Path, found: Verification) -> None:
    with Session(engine) as session:
        pieces = session.exec(
            select(Evidence).where(Evidence.kind == EvidenceKind.FILE).order_by(col(Evidence.id))
        )
        for piece in pieces:
            found.evidence += 1
            path = file_path(data / "evidence", piece.sha256)
            if not path.is_file():
                found.problems.append(f"evidence {piece.id} ({piece.filename}): file {piece.sha256} missing")
            elif (actual := sha256_of(path)) != piece.sha256:
                found.problems.append(
                    f"evidence {piece.id} ({piece.filename}): SHA-256 {actual}, expected {piece.sha256}"
                )


def _public_keys(manifest: dict[str, Any], data: Path) -> dict[str, bytes]:
    keys = {key_id: base64.b64decode(raw) for key_id, raw in manifest.get("public_keys", {}).items()}
    if (data / KEY_FILE).is_file():
        private = load_pem_private_key((data / KEY_FILE).read_bytes(), password=None)
        signer = Signer(private)  # type: ignore[arg-type]
        keys[signer.key_id] = signer.public_bytes
    return keys


def _check_snapshots(engine: Engine, keys: dict[str, bytes], found: Verification) -> None:
    with Session(engine) as session:
        for snapshot in session.exec(select(Snapshot).order_by(col(Snapshot.id))):
            found.snapshots += 1
            digest = hashlib.sha256(snapshot.canonical_json.encode("utf-8")).hexdigest()
            key = keys.get(snapshot.key_id)
            if digest != snapshot.sha256:
                found.problems.append(f"snapshot {snapshot.id}: SHA-256 {digest}, expected {snapshot.sha256}")
            elif key is None:
                found.problems.append(
                    f"snapshot {snapshot.id}: no public key {snapshot.key_id} in the archive"
                )
            elif not verify(key, snapshot.canonical_json, snapshot.signature):
                found.problems.append(f"snapshot {snapshot.id}: the signature does not verify")


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(settings: Settings, program: str, *args: str) -> None:
    tool = settings.pg_bin_dir / program if settings.pg_bin_dir else shutil.which(program)
    if tool is None or not Path(tool).exists():
        raise BackupError(
            f"{program} not found: install PostgreSQL's client tools or set AUTODIAG_PG_BIN_DIR"
        )
    done = subprocess.run([str(tool), *args], capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit code {done.returncode}"]
        raise BackupError(f"{program} failed: {lines[0]}")
