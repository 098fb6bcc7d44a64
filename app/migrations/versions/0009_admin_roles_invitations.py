"""Members' roles, structures' legal details and archiving, invitations.

Existing members keep everything they could do: they become `direction`.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "role",
                sa.Enum(
                    "direction", "contribution", "lecture", name="memberrole", native_enum=False, length=12
                ),
                nullable=False,
                server_default="direction",
            )
        )
    with op.batch_alter_table("structure", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "legal_form", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False, server_default=""
            )
        )
        batch_op.add_column(
            sa.Column("siret", sqlmodel.sql.sqltypes.AutoString(length=14), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("archived_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column(
            "role",
            sa.Enum("direction", "contribution", "lecture", name="memberrole", native_enum=False, length=12),
            nullable=False,
        ),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("accepted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("accepted_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["accepted_by"], ["user.id"], name=op.f("fk_invitation_accepted_by_user")),
        sa.ForeignKeyConstraint(["invited_by"], ["user.id"], name=op.f("fk_invitation_invited_by_user")),
        sa.ForeignKeyConstraint(
            ["structure_id"], ["structure.id"], name=op.f("fk_invitation_structure_id_structure")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation")),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitation_structure_id"), ["structure_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitation_token_hash"), ["token_hash"], unique=True)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_token_hash"))
        batch_op.drop_index(batch_op.f("ix_invitation_structure_id"))
        batch_op.drop_index(batch_op.f("ix_invitation_email"))
    op.drop_table("invitation")
    with op.batch_alter_table("structure", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
        batch_op.drop_column("siret")
        batch_op.drop_column("legal_form")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_column("role")
