"""The roles migration on both databases: existing members keep everything they could do."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from app.db import alembic_config, upgrade


def test_existing_members_become_direction_and_structures_get_empty_details(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "-1")  # to just before the roles
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO "user" (id, email, name, role, password_hash, is_active, created_at) '
                "VALUES (1, 'a@example.org', 'A', 'director', 'x', true, '2026-01-01 00:00:00')"
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
                "INSERT INTO membership (id, user_id, structure_id, created_at) "
                "VALUES (1, 1, 1, '2026-01-01 00:00:00')"
            )
        )
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT role FROM membership")).scalar() == "direction"
        row = connection.execute(text("SELECT legal_form, siret, archived_at FROM structure")).one()
        assert tuple(row) == ("", "", None)
        assert connection.execute(text("SELECT count(*) FROM invitation")).scalar() == 0
