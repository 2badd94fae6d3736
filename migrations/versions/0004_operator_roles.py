"""Operators' roles and failed-login counters, and changes to confirmed tallies waiting for a
second operator's approval

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=20), nullable=False, server_default="operator")
        )
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("last_failed_login_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("last_failed_login_ip", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_login_failures_ip_name", "login_failures", ["ip", "name", "at"], unique=False
    )
    op.create_table(
        "tally_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("review_item_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("proposed_by", sa.String(length=100), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.ForeignKeyConstraint(["review_item_id"], ["review_items.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tally_changes_status", "tally_changes", ["status"])
    op.create_index("ix_tally_changes_submission_id", "tally_changes", ["submission_id"])
    op.create_index(
        "uq_tally_changes_pending",
        "tally_changes",
        ["submission_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("uq_tally_changes_pending", table_name="tally_changes")
    op.drop_index("ix_tally_changes_submission_id", table_name="tally_changes")
    op.drop_index("ix_tally_changes_status", table_name="tally_changes")
    op.drop_table("tally_changes")
    op.drop_index("ix_login_failures_ip_name", table_name="login_failures")
    with op.batch_alter_table("operators") as batch_op:
        batch_op.drop_column("last_failed_login_ip")
        batch_op.drop_column("last_failed_login_at")
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("role")
