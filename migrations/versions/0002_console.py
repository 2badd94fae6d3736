"""Console, help desk and public results: operators and their sessions, login failures,
pre-aggregated results per region, the review queue, and ticket delivery linkage

Revision ID: 0002c
Revises: 0002m
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002c"
down_revision: str | None = "0002m"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["operators.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_operator_sessions_operator_id", "operator_sessions", ["operator_id"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failures_at", "login_failures", ["at"])
    op.create_index("ix_login_failures_ip", "login_failures", ["ip"])
    op.create_index("ix_login_failures_name", "login_failures", ["name"])
    op.create_table(
        "region_stats",
        sa.Column("region_code", sa.String(length=10), nullable=False),
        sa.Column("tps_count", sa.Integer(), nullable=False),
        sa.Column("registered_voters", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("region_code"),
    )
    op.create_table(
        "result_totals",
        sa.Column("contest_code", sa.String(length=10), nullable=False),
        sa.Column("region_code", sa.String(length=10), nullable=False),
        sa.Column("tps_confirmed", sa.Integer(), nullable=False),
        sa.Column("sah", sa.BigInteger(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["contest_code"], ["contests.code"]),
        sa.PrimaryKeyConstraint("contest_code", "region_code"),
    )
    op.create_table(
        "result_votes",
        sa.Column("contest_code", sa.String(length=10), nullable=False),
        sa.Column("region_code", sa.String(length=10), nullable=False),
        sa.Column("ballot_number", sa.Integer(), nullable=False),
        sa.Column("votes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["contest_code"], ["contests.code"]),
        sa.PrimaryKeyConstraint("contest_code", "region_code", "ballot_number"),
    )
    op.create_table(
        "result_timeline",
        sa.Column("contest_code", sa.String(length=10), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["contest_code"], ["contests.code"]),
        sa.PrimaryKeyConstraint("contest_code", "hour"),
    )
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("other_submission_id", sa.Integer(), nullable=True),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("tps_code", sa.String(length=13), nullable=True),
        sa.Column("contest_code", sa.String(length=10), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("resolution", sa.String(length=40), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.ForeignKeyConstraint(["other_submission_id"], ["submissions.id"]),
        sa.ForeignKeyConstraint(["inbound_id"], ["inbound_messages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "submission_id"),
    )
    op.create_index("ix_review_items_status", "review_items", ["status"])
    op.create_index("ix_review_items_submission_id", "review_items", ["submission_id"])
    # The review queue finds new conflicts by their reason.
    op.create_index("ix_submissions_reason", "submissions", ["reason"])
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.add_column(sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("ticket_messages") as batch_op:
        batch_op.add_column(sa.Column("outbound_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_ticket_messages_outbound_id", "outbound_messages", ["outbound_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket_messages") as batch_op:
        batch_op.drop_constraint("fk_ticket_messages_outbound_id", type_="foreignkey")
        batch_op.drop_column("outbound_id")
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_column("waiting_since")
    op.drop_index("ix_submissions_reason", table_name="submissions")
    for table in (
        "review_items",
        "result_timeline",
        "result_votes",
        "result_totals",
        "region_stats",
        "login_failures",
        "operator_sessions",
        "operators",
    ):
        op.drop_table(table)
