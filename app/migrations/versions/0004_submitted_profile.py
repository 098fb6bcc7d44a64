"""Freeze the structure's profile in each assessment when it is submitted.

Assessments submitted before this migration take the profile recorded in their latest snapshot.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 03:05:44.747056

"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_profile", sa.JSON(), nullable=True))
    assessment = sa.table("assessment", sa.column("id"), sa.column("submitted_profile", sa.JSON()))
    connection = op.get_bind()
    latest = connection.execute(
        sa.text(
            "SELECT assessment_id, canonical_json FROM snapshot s WHERE revision = "
            "(SELECT MAX(revision) FROM snapshot t WHERE t.assessment_id = s.assessment_id)"
        )
    )
    for assessment_id, canonical in latest:
        profile = json.loads(canonical).get("structure", {}).get("profile", {})
        connection.execute(
            assessment.update().where(assessment.c.id == assessment_id).values(submitted_profile=profile)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_column("submitted_profile")
