"""`autodiag backup`, `restore` and `backup --verify`, run as an operator would, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import sqlite3
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import Session, col, select, update

from app.accounts.models import Role
from app.accounts.service import create_user
from app.assessments import answering, evidence, files, service, snapshot
from app.assessments.models import Answer, Assessment, Snapshot
from app.backup.service import create_backup
from app.cli import settings as cli_settings
from app.db import make_engine, pk
from app.structures import service as structures
from tests.postgres import BIN, PostgresServer
from tests.test_cli import Run, run

__all__ = ["run"]
PDF = Path(__file__).parent.parent / "fixtures" / "files" / "charte.pdf"
CRITERIA = ("DEO-01", "DEO-02", "DEO-03", "DEO-04")


@pytest.fixture
def world(app: FastAPI, monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> dict[str, Any]:
    """A structure with an evidence file and a submitted assessment (its signed snapshot), a draft besides."""
    catalog, settings = app.state.catalog, app.state.settings
    with Session(app.state.engine) as session:
        owner = create_user(
            session, email="d@example.org", name="D", role=Role.DIRECTOR, password="x" * 8 + "une phrase"
        )
        structure = structures.create(session, name="Médiation Nord")
        structures.add_member(session, structure=structure, user=owner)
        submitted = service.start(
            session, catalog=catalog, structure=structure, user=owner, questionnaire_ref="full"
        )
        stored = files.store_file(settings.evidence_dir, io.BytesIO(PDF.read_bytes()), max_bytes=10**6)
        piece = evidence.add(
            session, structure=structure, user=owner, title="Charte", stored=stored, filename="c.pdf"
        )
        save(session, app, submitted, owner, "DEO-01", 0)
        evidence.attach(
            session, assessment=submitted, evidence=piece, criterion_id="DEO-01", covers=[], user=owner
        )
        snapshot.submit(
            session,
            catalog=catalog,
            assessment=submitted,
            structure=structure,
            user=owner,
            signer=app.state.signer,
        )
        draft = service.start(
            session, catalog=catalog, structure=structure, user=owner, questionnaire_ref="full"
        )
        ids = {
            "owner": pk(owner),
            "draft": pk(draft),
            "submitted": pk(submitted),
            "evidence_sha": stored.sha256,
        }
    monkeypatch.setattr(cli_settings, "database_url", database_url)
    monkeypatch.setattr(cli_settings, "data_dir", tmp_path)
    monkeypatch.setattr(cli_settings, "pg_bin_dir", BIN)
    monkeypatch.setattr(cli_settings, "snapshot_signing_key", "")
    return ids


def save(
    session: Session, app: FastAPI, assessment: Assessment, user: Any, criterion: str, base: int
) -> Answer:
    return answering.save_answer(
        session,
        catalog=app.state.catalog,
        assessment=assessment,
        user=user,
        criterion_id=criterion,
        base_revision=base,
        level=(base % 3) + 1,
        not_applicable=False,
        justification="",
        comment=f"écriture {base + 1}",
    )


@pytest.fixture
def empty_target(
    database_kind: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Path, str]:
    """Where to restore: a data folder that does not exist yet, and an empty database."""
    folder = tmp_path_factory.mktemp("restored")
    if database_kind == "sqlite":
        return folder / "data", f"sqlite:///{folder / 'data' / 'autodiag.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"restored_{folder.name.replace('-', '_')}"
    server.execute(f"CREATE DATABASE {name}")
    return folder / "data", server.url(name)


def restore_into(
    run: Run, monkeypatch: pytest.MonkeyPatch, archive: Path, target: tuple[Path, str]
) -> tuple[int, str, str]:
    monkeypatch.setattr(cli_settings, "data_dir", target[0])
    monkeypatch.setattr(cli_settings, "database_url", target[1])
    return run("restore", str(archive))


def test_backup_verify_and_restore_give_back_everything(
    run: Run,
    world: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    empty_target: tuple[Path, str],
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
) -> None:
    folder = tmp_path_factory.mktemp("backups")
    code, out, err = run("backup", str(folder))
    assert (code, err) == (0, "")
    archive = next(folder.glob("autodiag-*.tar.gz"))
    assert f"wrote {archive}" in out
    code, out, err = run("backup", "--verify", str(archive))
    assert (code, err) == (0, "")
    assert "1 evidence files match their SHA-256, 1 snapshot signatures verify" in out
    code, out, err = restore_into(run, monkeypatch, archive, empty_target)
    assert (code, err) == (0, "")
    data_dir, restored_url = empty_target
    assert (
        data_dir / "evidence" / world["evidence_sha"][:2] / world["evidence_sha"]
    ).read_bytes() == PDF.read_bytes()
    assert (data_dir / "snapshot_signing_key.pem").stat().st_mode & 0o777 == 0o600
    assert rows(restored_url) == rows(database_url)


def rows(url: str) -> tuple[list[Any], list[Any]]:
    engine = make_engine(url)
    with Session(engine) as session:
        answers = [
            (a.assessment_id, a.criterion_id, a.revision, a.comment)
            for a in session.exec(select(Answer).order_by(col(Answer.id)))
        ]
        snapshots = [(s.id, s.sha256, s.signature) for s in session.exec(select(Snapshot))]
    engine.dispose()
    return answers, snapshots


def test_restore_refuses_a_data_folder_that_is_not_empty(
    run: Run,
    world: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    empty_target: tuple[Path, str],
) -> None:
    archive = tmp_path_factory.mktemp("backups") / "b.tar.gz"
    assert run("backup", str(archive))[0] == 0
    code, _out, err = run("restore", str(archive))
    assert code == 2
    assert err == (
        f"error: {tmp_path} is not an empty folder: restore only into an empty data folder "
        "(move this one aside, or set AUTODIAG_DATA_DIR to a new one)\n"
    )
    empty_target[0].mkdir()
    (empty_target[0] / "notes.txt").write_text("à garder")
    assert restore_into(run, monkeypatch, archive, empty_target)[0] == 2
    assert [path.name for path in empty_target[0].iterdir()] == ["notes.txt"]


@pytest.mark.sqlite_only
def test_restore_refuses_a_database_that_already_exists(
    run: Run,
    world: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
) -> None:
    archive = tmp_path_factory.mktemp("backups") / "b.tar.gz"
    assert run("backup", str(archive))[0] == 0
    empty = tmp_path_factory.mktemp("empty") / "data"
    code, _, err = restore_into(run, monkeypatch, archive, (empty, database_url))
    assert code == 2
    assert "already exists: restore only into a new database file" in err
    assert not empty.exists()


def test_verify_names_each_altered_evidence_file_and_snapshot(
    app: FastAPI, run: Run, world: dict[str, Any], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stored = tmp_path / "evidence" / world["evidence_sha"][:2] / world["evidence_sha"]
    stored.write_bytes(b"%PDF-1.4 replaced")
    with Session(app.state.engine) as session:
        session.exec(update(Snapshot).values(canonical_json='{"falsifié": true}'))  # type: ignore[call-overload]
        session.commit()
    archive = tmp_path_factory.mktemp("backups") / "b.tar.gz"
    assert run("backup", str(archive))[0] == 0
    code, _, err = run("backup", "--verify", str(archive))
    assert code == 2
    lines = err.splitlines()
    assert lines[0].startswith("problem: evidence ")
    assert f"expected {world['evidence_sha']}" in lines[0]
    assert lines[1].startswith("problem: snapshot ")
    assert "SHA-256" in lines[1]
    assert lines[2] == f"error: {archive}: 2 problems"


@pytest.mark.sqlite_only
def test_verify_refuses_an_archive_altered_after_it_was_written(
    run: Run, world: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("backups")
    assert run("backup", str(folder / "b.tar.gz"))[0] == 0
    altered = folder / "altered.tar.gz"
    with tarfile.open(folder / "b.tar.gz") as original, tarfile.open(altered, "w:gz") as copy:
        for member in original:
            content = original.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("evidence/"):
                content = content.replace(b"PDF", b"FDP", 1)
            member.size = len(content)
            copy.addfile(member, io.BytesIO(content))
    code, _, err = run("backup", "--verify", str(altered))
    assert code == 2
    assert err.startswith("error: evidence/")
    assert "differs from the manifest's" in err
    assert err.count("\n") == 1
    (folder / "junk.tar.gz").write_bytes(b"not an archive")
    code, _, err = run("backup", "--verify", str(folder / "junk.tar.gz"))
    assert (code, err.count("\n")) == (2, 1)
    assert err.startswith(f"error: cannot read {folder / 'junk.tar.gz'}")
    assert run("backup")[2] == "error: give either DEST (where to write the backup) or --verify ARCHIVE\n"


def test_a_backup_taken_while_autosaves_run_restores_every_acknowledged_one(
    app: FastAPI,
    run: Run,
    world: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    empty_target: tuple[Path, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Four writers autosave without pause; the backup starts in the middle of them.

    Every autosave acknowledged (its commit returned) before the backup started must be in the
    restored database: its answer at that revision or a later one.
    """
    acknowledged: dict[str, int] = {}
    started, stop = threading.Event(), threading.Event()
    at_start: dict[str, int] = {}

    def writer(criterion: str) -> None:
        with Session(app.state.engine) as session:
            draft = session.get(Assessment, world["draft"])
            owner_id = world["owner"]
            from app.accounts.models import User

            owner = session.get(User, owner_id)
            base = 0
            while not stop.is_set():
                base = save(session, app, draft, owner, criterion, base).revision  # type: ignore[arg-type]
                acknowledged[criterion] = base
                if base >= 20:
                    started.set()

    threads = [threading.Thread(target=writer, args=(criterion,)) for criterion in CRITERIA]
    for thread in threads:
        thread.start()
    try:
        assert started.wait(60)
        at_start.update(acknowledged)
        archive, _ = create_backup(settings=cli_settings, destination=tmp_path_factory.mktemp("backups"))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert sum(acknowledged.values()) > sum(at_start.values())  # writes went on during the backup
    assert restore_into(run, monkeypatch, archive, empty_target)[0] == 0
    restored = {
        criterion: revision for _, criterion, revision, _ in rows(empty_target[1])[0] if criterion in CRITERIA
    }
    assert all(restored[criterion] >= revision for criterion, revision in at_start.items()), (
        at_start,
        restored,
    )
    if empty_target[1].startswith("sqlite"):
        with sqlite3.connect(empty_target[0] / "autodiag.sqlite3") as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
