"""Photographed pages of a multi-page C.Hasil, kept until the form is complete: each page's
reading, so the pages of one TPS and contest may come in several messages

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "photo_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tps_code", sa.String(length=13), nullable=False),
        sa.Column("contest_code", sa.String(length=10), nullable=False),
        sa.Column("form_version", sa.String(length=8), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("training", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=False),
        sa.Column("reading", sa.JSON(), nullable=False),
        sa.Column("annotated_key", sa.String(length=200), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tps_code"], ["tps.code"]),
        sa.ForeignKeyConstraint(["contest_code"], ["contests.code"]),
        sa.ForeignKeyConstraint(["officer_id"], ["officers.id"]),
        sa.ForeignKeyConstraint(["inbound_id"], ["inbound_messages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "tps_code", "contest_code", "form_version", "page", "training",
            name="uq_photo_pages_page",
        ),
    )


def downgrade() -> None:
    op.drop_table("photo_pages")
