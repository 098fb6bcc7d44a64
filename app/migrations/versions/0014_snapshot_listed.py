"""A covering index for snapshot listings: SQLite reads a page of them from the index alone.

In a snapshot row, the columns a listing shows after `canonical_json` lie beyond tens of KB of
JSON, in overflow pages; a listing of 50 read about a megabyte of them.

Revision ID: 0014_snapshot_listed
Revises: 0013_api_rate
Create Date: 2026-12-02 15:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014_snapshot_listed"
down_revision: str | Sequence[str] | None = "0013_api_rate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["assessment_id", "id", "revision", "sha256", "signature", "key_id", "created_at"]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index("ix_snapshot_listed", "snapshot", COLUMNS)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_snapshot_listed", table_name="snapshot")
