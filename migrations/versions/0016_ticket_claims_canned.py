"""Tickets an operator claims (or a supervisor assigns), and canned replies in both languages,
seeded with a few answers the help desk gives all night

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEED = [  # (title, Indonesian, English): edited later in the console by a supervisor
    (
        "Format SMS",
        "Kirim dengan format: PPWP <kode TPS> 01=<suara> 02=<suara> 03=<suara> SAH=<jumlah> "
        "TS=<jumlah>. Lalu balas YA untuk konfirmasi.",
        "Send it as: PPWP <TPS code> 01=<votes> 02=<votes> 03=<votes> SAH=<total> "
        "TS=<total>. Then reply YA to confirm.",
    ),
    (
        "Foto formulir",
        "Foto formulir C.Hasil tegak lurus, seluruh halaman masuk bingkai, cahaya cukup, "
        "tanpa bayangan. Kirim satu foto per halaman.",
        "Photograph the C.Hasil form straight on, the whole page in the frame, in good light, "
        "without shadows. Send one photo per page.",
    ),
    (
        "Koreksi angka",
        "Jika angka salah sebelum YA, kirim ulang SMS lengkap dengan angka yang benar. "
        "Jika sudah YA, balas di sini angka mana yang salah; petugas kami memeriksanya.",
        "If a number is wrong before YA, send the whole SMS again with the right numbers. "
        "If you already replied YA, tell us here which number is wrong; our staff will check.",
    ),
    (
        "Sedang diperiksa",
        "Terima kasih, laporan Anda sedang kami periksa. Kami kabari lagi di sini.",
        "Thank you, we are checking your report and will answer you here.",
    ),
]


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("assigned_to", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_tickets_assigned_to", "tickets", ["assigned_to"])
    canned = op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=60), nullable=False),
        sa.Column("body_id", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        canned,
        [
            {"title": title, "body_id": body_id, "body_en": body_en, "position": i,
             "active": True, "updated_by": "migration", "updated_at": now}
            for i, (title, body_id, body_en) in enumerate(SEED, start=1)
        ],
    )


def downgrade() -> None:
    op.drop_table("canned_replies")
    op.drop_index("ix_tickets_assigned_to", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("assigned_at")
        batch.drop_column("assigned_to")
