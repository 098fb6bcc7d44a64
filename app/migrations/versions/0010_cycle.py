"""The certification cycle: each structure's record and audit outcomes, calendar feeds, assessment
kinds (every existing assessment is an initial one), and the reminders notice (on for everyone).

Revision ID: 0010_cycle
Revises: 0009
Create Date: 2026-12-02 01:42:59.175982

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010_cycle"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "audit_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "initial", "surveillance", "renouvellement", name="auditkind", native_enum=False, length=14
            ),
            nullable=False,
        ),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column(
            "result",
            sa.Enum("accordee", "sous_reserve", "refusee", name="auditresult", native_enum=False, length=12),
            nullable=False,
        ),
        sa.Column("major_nonconformities", sa.Integer(), nullable=False),
        sa.Column("minor_nonconformities", sa.Integer(), nullable=False),
        sa.Column("sensitive_points", sa.Integer(), nullable=False),
        sa.Column("improvement_leads", sa.Integer(), nullable=False),
        sa.Column("corrective_due_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["recorded_by"], ["user.id"], name=op.f("fk_audit_outcome_recorded_by_user")),
        sa.ForeignKeyConstraint(
            ["structure_id"], ["structure.id"], name=op.f("fk_audit_outcome_structure_id_structure")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_outcome")),
    )
    with op.batch_alter_table("audit_outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_outcome_structure_id"), ["structure_id"], unique=False)

    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_calendar_feed_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_token_hash")),
    )
    with op.batch_alter_table("calendar_feed", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_feed_user_id"), ["user_id"], unique=False)

    op.create_table(
        "certification_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "preparation",
                "audit_initial_planifie",
                "certifiee",
                "audit_surveillance",
                "renouvellement",
                name="stage",
                native_enum=False,
                length=22,
            ),
            nullable=False,
        ),
        sa.Column("audit_on", sa.Date(), nullable=True),
        sa.Column("audit_booked", sa.Boolean(), nullable=False),
        sa.Column("certificate_number", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("certified_on", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["structure_id"], ["structure.id"], name=op.f("fk_certification_record_structure_id_structure")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["user.id"], name=op.f("fk_certification_record_updated_by_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_record")),
        sa.UniqueConstraint("structure_id", name=op.f("uq_certification_record_structure_id")),
    )
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "initial",
                    "surveillance",
                    "renouvellement",
                    name="assessmentkind",
                    native_enum=False,
                    length=14,
                ),
                server_default="initial",
                nullable=False,
            )
        )

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notify_reminders", sa.Boolean(), server_default="1", nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("notify_reminders")

    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_column("kind")

    op.drop_table("certification_record")
    with op.batch_alter_table("calendar_feed", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_feed_user_id"))

    op.drop_table("calendar_feed")
    with op.batch_alter_table("audit_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_outcome_structure_id"))

    op.drop_table("audit_outcome")
