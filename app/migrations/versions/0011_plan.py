"""Give each assessment a name, so a structure's drafts can be told apart.

Existing assessments get an empty name: the pages then show their questionnaire's title, as before.

Revision ID: 0011_plan
Revises: 0010_cycle
Create Date: 2026-12-02 02:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011_plan"
down_revision: str | Sequence[str] | None = "0010_cycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False, server_default="")
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_column("name")
