"""The backup archive: a tar file of named members and `manifest.json`, their SHA-256s and sizes.

Only the names below may be in an archive: the database (a SQLite file or a PostgreSQL custom-format
dump), the two keys and the evidence files, stored by their SHA-256 as in `data/evidence/`.
Reading an archive checks every member against the manifest while it is written out, so nothing
unlisted, renamed or altered is ever restored.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

FORMAT = "autodiag-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "autodiag.sqlite3"
PG_DUMP_FILE = "database.pgdump"
SECRET_FILES = ("secret_key", "snapshot_signing_key.pem")
ALLOWED = re.compile(
    r"(autodiag\.sqlite3|database\.pgdump|secret_key|snapshot_signing_key\.pem|evidence/[0-9a-f]{2}/[0-9a-f]{64})"
)
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup, restore or verification that cannot go on; the message is one line for the operator."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_archive(
    target: Path, *, members: Iterable[tuple[str, Path]], manifest: dict[str, Any]
) -> dict[str, Any]:
    """Write `members` (archive name, file) then the manifest with their hashes; all or nothing.

    Return the manifest as written."""
    partial = target.with_name(f".{target.name}.partial")
    files: dict[str, dict[str, Any]] = {}
    try:
        with tarfile.open(partial, "w:gz") as tar:
            for name, path in members:
                files[name] = {"sha256": sha256_of(path), "size": path.stat().st_size}
                tar.add(path, arcname=name, recursive=False)
            manifest = manifest | {"files": files}
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))
        os.replace(partial, target)
        return manifest
    finally:
        partial.unlink(missing_ok=True)


def _add_bytes(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(content))


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
        handle = tar.extractfile(member)
        manifest = json.loads(handle.read()) if handle else None
    except (KeyError, ValueError) as error:
        raise BackupError(f"not an Autodiag backup: {MANIFEST} is missing or unreadable ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"not an Autodiag backup: {MANIFEST} does not say format {FORMAT}")
    if not isinstance(manifest.get("files"), dict):
        raise BackupError(f"the archive's {MANIFEST} lists no files")
    return manifest


def extract(archive: Path, into: Path) -> dict[str, Any]:
    """Write every member of `archive` under `into`, each checked against the manifest; return it."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            return _extract_members(tar, into)
    except (OSError, EOFError, tarfile.TarError, zlib.error) as error:
        raise BackupError(f"cannot read {archive}: {error}") from None


def _extract_members(tar: tarfile.TarFile, into: Path) -> dict[str, Any]:
    manifest = read_manifest(tar)
    expected: dict[str, dict[str, Any]] = manifest["files"]
    seen = set()
    for member in tar:
        if member.name == MANIFEST:
            continue
        if member.name not in expected or not ALLOWED.fullmatch(member.name) or not member.isfile():
            raise BackupError(f"unexpected member in the archive: {member.name!r}")
        source = tar.extractfile(member)
        if source is None:
            raise BackupError(f"unreadable member in the archive: {member.name!r}")
        found = _write(source, into / member.name, secret=member.name in SECRET_FILES)
        if found != expected[member.name].get("sha256"):
            raise BackupError(f"{member.name}: SHA-256 {found} differs from the manifest's")
        seen.add(member.name)
    if missing := sorted(set(expected) - seen):
        raise BackupError(f"files listed in the manifest are missing from the archive: {', '.join(missing)}")
    return manifest


def _write(source: IO[bytes], path: Path, *, secret: bool) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if secret else 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()
