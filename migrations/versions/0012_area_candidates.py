"""Regional candidate contests: each area's own candidate list (DPD per province, governor
per province, regent per regency, mayor per city); the areas are the contest's dapils

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "area_candidates",
        sa.Column("contest_code", sa.String(length=10), nullable=False),
        sa.Column("area_code", sa.String(length=20), nullable=False),
        sa.Column("ballot_number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("contest_code", "area_code", "ballot_number"),
    )


def downgrade() -> None:
    op.drop_table("area_candidates")
