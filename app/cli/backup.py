"""`autodiag backup …` and `autodiag restore …`: the whole service in one archive, and back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from app.backup.archive import BackupError
from app.backup.service import create_backup, restore_backup, verify_backup
from app.cli.console import fail
from app.config import settings


def backup_command(
    destination: Annotated[
        Path | None, typer.Argument(help="The archive to write, or a folder to write a dated one in.")
    ] = None,
    verify: Annotated[
        Path | None,
        typer.Option("--verify", help="Check this archive instead: restore it aside and verify it."),
    ] = None,
) -> None:
    """Back up the database, the evidence files and the keys into one archive (safe while serving)."""
    if (destination is None) == (verify is None):
        fail("give either DEST (where to write the backup) or --verify ARCHIVE")
    try:
        if verify is not None:
            _verify(verify)
            return
        assert destination is not None
        target, manifest = create_backup(settings=settings, destination=destination)
    except (BackupError, SQLAlchemyError, OSError) as error:
        fail(_line(error))
    typer.echo(f"wrote {target}: {manifest['database']['kind']} database and {len(manifest['files'])} files")


def _verify(archive: Path) -> None:
    found = verify_backup(archive=archive, settings=settings)
    for problem in found.problems:
        typer.echo(f"problem: {problem}", err=True)
    if found.problems:
        fail(f"{archive}: {len(found.problems)} problems")
    typer.echo(
        f"ok: {archive}: {found.files} files match the manifest, the database is intact, "
        f"{found.evidence} evidence files match their SHA-256, {found.snapshots} snapshot signatures verify"
    )


def restore_command(
    archive: Annotated[Path, typer.Argument(help="The archive `autodiag backup` wrote.")],
) -> None:
    """Restore a backup into an empty data folder (AUTODIAG_DATA_DIR) and an empty database."""
    try:
        manifest = restore_backup(archive=archive, settings=settings)
    except (BackupError, SQLAlchemyError, OSError) as error:
        fail(_line(error))
    typer.echo(
        f"restored {archive} into {settings.data_dir} (schema {manifest['database']['schema_revision']}); "
        "run `autodiag db upgrade` if this version is newer"
    )


def _line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
