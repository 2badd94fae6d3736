"""Channel events on inbound messages and channel extras on outbound ones

Telegram sends more than text: a shared contact, a button press (callback query), a sticker.
The adapter stores that as a neutral `event`; replies can carry buttons, a contact request,
an edit of an earlier message or a photo, kept in `extras`.

Revision ID: 0002m
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002m"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch_op:
        batch_op.add_column(sa.Column("event", sa.JSON(), nullable=True))
    with op.batch_alter_table("outbound_messages") as batch_op:
        batch_op.add_column(sa.Column("extras", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbound_messages") as batch_op:
        batch_op.drop_column("extras")
    with op.batch_alter_table("inbound_messages") as batch_op:
        batch_op.drop_column("event")
