"""The whole C.Hasil: contest kinds and required sections, electoral districts (dapil) with
their party candidate lists, every section and candidate vote of a tally, and their totals

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contests") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="candidates")
        )
        batch_op.add_column(
            sa.Column("required_sections", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.add_column(
            sa.Column("candidate_votes", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(sa.Column("sections", sa.JSON(), nullable=False, server_default="{}"))
    op.create_table(
        "dapils",
        sa.Column("contest_code", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["contest_code"], ["contests.code"]),
        sa.PrimaryKeyConstraint("contest_code", "code"),
    )
    op.create_table(
        "party_candidates",
        sa.Column("contest_code", sa.String(length=10), nullable=False),
        sa.Column("dapil_code", sa.String(length=20), nullable=False),
        sa.Column("party_number", sa.Integer(), nullable=False),
        sa.Column("candidate_number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("contest_code", "dapil_code", "party_number", "candidate_number"),
    )
    op.create_table(
        "result_candidate_votes",
        sa.Column("contest_code", sa.String(length=10), nullable=False),
        sa.Column("region_code", sa.String(length=10), nullable=False),
        sa.Column("party_number", sa.Integer(), nullable=False),
        sa.Column("candidate_number", sa.Integer(), nullable=False),
        sa.Column("votes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["contest_code"], ["contests.code"]),
        sa.PrimaryKeyConstraint("contest_code", "region_code", "party_number", "candidate_number"),
    )
    op.create_table(
        "result_sections",
        sa.Column("contest_code", sa.String(length=10), nullable=False),
        sa.Column("region_code", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=10), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("tps_reported", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["contest_code"], ["contests.code"]),
        sa.PrimaryKeyConstraint("contest_code", "region_code", "key"),
    )


def downgrade() -> None:
    op.drop_table("result_sections")
    op.drop_table("result_candidate_votes")
    op.drop_table("party_candidates")
    op.drop_table("dapils")
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.drop_column("sections")
        batch_op.drop_column("candidate_votes")
    with op.batch_alter_table("contests") as batch_op:
        batch_op.drop_column("required_sections")
        batch_op.drop_column("kind")
