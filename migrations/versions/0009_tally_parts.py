"""A tally may arrive in parts over several SMS: a pending part may lack SAH and TS

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.alter_column("sah", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("ts", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE submissions SET sah = 0 WHERE sah IS NULL")
    op.execute("UPDATE submissions SET ts = 0 WHERE ts IS NULL")
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.alter_column("sah", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("ts", existing_type=sa.Integer(), nullable=False)
