"""The simulator is a training channel: submissions carry a `training` flag

A tally that came through the simulator is a training tally: it is confirmed in its own
world and never counted in the public results. The one-confirmed-tally-per-TPS-and-contest
index becomes per (TPS, contest, training), so a training tally never takes the slot of the
real one (nor blocks it).

Revision ID: 0003
Revises: 0002c
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONFIRMED = sa.text("status = 'confirmed'")


def upgrade() -> None:
    op.drop_index("uq_submissions_confirmed", table_name="submissions")
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.add_column(
            sa.Column("training", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE submissions SET training = true WHERE inbound_id IN "
        "(SELECT id FROM inbound_messages WHERE channel = 'simulator')"
    )
    op.create_index(
        "uq_submissions_confirmed",
        "submissions",
        ["tps_code", "contest_code", "training"],
        unique=True,
        sqlite_where=CONFIRMED,
        postgresql_where=CONFIRMED,
    )


def downgrade() -> None:
    op.drop_index("uq_submissions_confirmed", table_name="submissions")
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.drop_column("training")
    op.create_index(
        "uq_submissions_confirmed",
        "submissions",
        ["tps_code", "contest_code"],
        unique=True,
        sqlite_where=CONFIRMED,
        postgresql_where=CONFIRMED,
    )
