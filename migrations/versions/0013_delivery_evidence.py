"""Delivery evidence: an operator's reply re-sent by SMS points at the message it replaces
(`fallback_of_id`), the provider's own delivery status (Twilio's status callbacks), and
photos kept as the evidence of a confirmed tally they agree with (`tally_evidence`)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.add_column(sa.Column("fallback_of_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("provider_status", sa.String(length=20), nullable=True))
        batch.create_foreign_key(
            "fk_outbound_messages_fallback_of_id", "outbound_messages", ["fallback_of_id"], ["id"]
        )
        batch.create_unique_constraint("uq_outbound_messages_fallback_of_id", ["fallback_of_id"])
    op.create_index("ix_outbound_messages_provider_id", "outbound_messages", ["provider_id"])
    op.create_table(
        "tally_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("media_key", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("annotated_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.ForeignKeyConstraint(["inbound_id"], ["inbound_messages.id"]),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id", "media_key", name="uq_tally_evidence_media"),
    )
    op.create_index("ix_tally_evidence_submission_id", "tally_evidence", ["submission_id"])


def downgrade() -> None:
    op.drop_index("ix_tally_evidence_submission_id", table_name="tally_evidence")
    op.drop_table("tally_evidence")
    op.drop_index("ix_outbound_messages_provider_id", table_name="outbound_messages")
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_constraint("uq_outbound_messages_fallback_of_id", type_="unique")
        batch.drop_constraint("fk_outbound_messages_fallback_of_id", type_="foreignkey")
        batch.drop_column("provider_status")
        batch.drop_column("fallback_of_id")
