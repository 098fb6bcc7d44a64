"""The API rate limit counted in the database, so that every worker counts the same requests.

Revision ID: 0013_api_rate
Revises: 0012_sessions
Create Date: 2026-12-02 02:05:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013_api_rate"
down_revision: str | Sequence[str] | None = "0012_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "api_rate_window",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_token.id"], name=op.f("fk_api_rate_window_token_id_api_token")
        ),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_api_rate_window")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("api_rate_window")
