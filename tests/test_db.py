"""The schema is built by migrating, matches the models, and keeps the audit log append-only."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, SQLModel

import app.models  # noqa: F401
from app.db import AuditEntry, make_engine, upgrade


def test_autogenerate_finds_no_difference_between_models_and_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_every_table_exists_after_migrating(engine: Engine) -> None:
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())


def test_migrating_again_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"


@pytest.mark.parametrize("statement", ["UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"])
def test_the_audit_log_refuses_updates_and_deletes(session: Session, statement: str) -> None:
    session.add(AuditEntry(action="test", object_type="user", object_id="1"))
    session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    assert session.get(AuditEntry, 1) is not None


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
