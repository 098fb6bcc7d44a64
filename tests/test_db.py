"""The schema is built by migrating, matches the models, and keeps the audit log append-only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, SQLModel

import app.models  # noqa: F401
from app.db import AuditEntry, alembic_config, make_engine, upgrade


def test_autogenerate_finds_no_difference_between_models_and_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_every_table_exists_after_migrating(engine: Engine) -> None:
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())


def test_migrating_again_changes_nothing(engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head


def test_existing_submissions_and_action_items_become_revision_one_with_their_snapshot_profile(
    tmp_path: Path,
) -> None:
    """A database filled under the first schema keeps its rows through the later migrations."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO user (id, email, name, role, password_hash, is_active, created_at) "
                "VALUES (1, 'a@example.org', 'A', 'director', 'x', 1, '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO structure (id, name, city, profile, created_at) "
                "VALUES (1, 'S', '', '{}', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO assessment (id, structure_id, questionnaire_ref, questionnaire_sha256, "
                "criteria_ref, criteria_sha256, status, created_by, created_at) "
                "VALUES (1, 1, 'full@1.0.0', '', 'x60-600@1.0.0', '', 'submitted', 1, '2026-01-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO snapshot (id, assessment_id, canonical_json, sha256, signature, key_id, "
                "created_at) VALUES (1, 1, :canonical, 'h', 's', 'k', '2026-01-01 00:00:00')"
            ),
            {"canonical": json.dumps({"structure": {"profile": {"presence_nocturne": True}}})},
        )
        connection.execute(
            text(
                "INSERT INTO action_item (id, assessment_id, criterion_id, title, owner, status, updated_at) "
                "VALUES (1, 1, 'DEO-01', 'Faire signer la charte', '', 'a_faire', '2026-01-01 00:00:00')"
            )
        )
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT revision FROM assessment")).scalar() == 1
        assert connection.execute(text("SELECT revision FROM snapshot")).scalar() == 1
        assert connection.execute(text("SELECT revision FROM action_item")).scalar() == 1
        profile = connection.execute(text("SELECT submitted_profile FROM assessment")).scalar()
        assert json.loads(profile) == {"presence_nocturne": True}  # taken from the snapshot
    engine.dispose()


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
