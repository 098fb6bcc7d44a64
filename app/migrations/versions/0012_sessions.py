"""Sessions kept on the server (`user_session`), replacing the account-wide `session_version`;
erasing a structure (`structure.erased_at`, `audit_entry.erased_at` and the one update the audit log allows).

Revision ID: 0012_sessions
Revises: 0011_plan
Create Date: 2026-12-02 01:50:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012_sessions"
down_revision: str | Sequence[str] | None = "0011_plan"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema; the cookies issued before carry no session secret, so everyone signs in again."""
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_agent", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_user_session_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_session_expires_at"), ["expires_at"], unique=False)
    # A plain ALTER: a batch would copy `user`, which every other table references.
    op.execute('ALTER TABLE "user" DROP COLUMN session_version')
    op.add_column("structure", sa.Column("erased_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column("audit_entry", sa.Column("erased_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    _audit_log_allows(ERASING)


ERASING = (
    "OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL AND NEW.before IS NULL AND NEW.after IS NULL "
    "AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.action = OLD.action "
    "AND NEW.object_type = OLD.object_type AND NEW.object_id = OLD.object_id "
    "AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id AND NEW.structure_id IS NOT DISTINCT FROM OLD.structure_id"
)
"""The one UPDATE of an audit entry allowed: erasing its values, once, keeping who, what and when."""


def _audit_log_allows(update: str | None) -> None:
    """Replace the audit log's UPDATE guard: refuse every UPDATE but `update` (None: refuse all)."""
    if op.get_bind().dialect.name == "postgresql":
        allowed = f"IF TG_OP = 'UPDATE' AND {update} THEN RETURN NEW; END IF; " if update else ""
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {allowed}RAISE EXCEPTION 'audit_entry is append-only'; END $$"
        )
        return
    op.execute("DROP TRIGGER audit_entry_no_update")
    condition = f" WHEN NOT ({update.replace('IS NOT DISTINCT FROM', 'IS')})" if update else ""
    op.execute(
        f"CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry{condition} "
        "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
    )


def downgrade() -> None:
    """Downgrade schema."""
    _audit_log_allows(None)
    op.execute("ALTER TABLE audit_entry DROP COLUMN erased_at")
    op.execute("ALTER TABLE structure DROP COLUMN erased_at")
    op.execute('ALTER TABLE "user" ADD COLUMN session_version INTEGER DEFAULT 1 NOT NULL')
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_expires_at"))
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))
    op.drop_table("user_session")
