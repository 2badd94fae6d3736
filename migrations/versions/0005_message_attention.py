"""Failure bookkeeping for stored messages: how many times a message's job failed and when
the sweeper may drive it again, so a message is processed or surfaced ("needs attention"),
never left in RQ's failed registry while its row says `received`; the job a processed
message's photos still wait for (download, reading), for the same reason. And the reviewer column
wide enough for "operator:" and the longest operator name.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("inbound_messages", "outbound_messages")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column("job_failures", sa.Integer(), nullable=False, server_default="0")
            )
            batch_op.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("inbound_messages") as batch_op:
        batch_op.add_column(sa.Column("follow_up", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_inbound_messages_follow_up", ["follow_up"])
    with op.batch_alter_table("review_items") as batch_op:
        batch_op.alter_column(
            "resolved_by", type_=sa.String(length=200), existing_type=sa.String(length=100)
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch_op:
        batch_op.drop_index("ix_inbound_messages_follow_up")
        batch_op.drop_column("follow_up")
    with op.batch_alter_table("review_items") as batch_op:
        batch_op.alter_column(
            "resolved_by", type_=sa.String(length=100), existing_type=sa.String(length=200)
        )
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("retry_at")
            batch_op.drop_column("job_failures")
