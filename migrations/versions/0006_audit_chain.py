"""Audit log: hash chain, TRUNCATE refused, wider actor

Each entry gets `prev_hash` and `hash` (relay.audit.entry_hash) and ids become the chain's
positions 1, 2, 3, … (given out by relay.audit under a lock, no longer by a sequence). Existing
entries are numbered in their id order and chained. PostgreSQL also refuses TRUNCATE with a
statement-level trigger (row triggers do not fire for it). `actor` widens to 255 characters
(a gateway sender of ~100 characters plus a prefix did not fit).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = {
    verb: f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
    for verb in ("UPDATE", "DELETE")
}


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _row_triggers(enabled: bool) -> None:
    """The migration (the tables' owner) rewrites existing rows once: lift the append-only
    triggers of 0001 meanwhile."""
    if _postgres():
        op.execute(
            f"ALTER TABLE audit_log {'ENABLE' if enabled else 'DISABLE'} "
            "TRIGGER audit_log_append_only"
        )
        return
    for verb, create in SQLITE_TRIGGERS.items():
        # Batch mode rebuilds the table on SQLite, which drops its triggers: always recreate.
        op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{verb.lower()}")
        if enabled:
            op.execute(create)


def _number_and_chain() -> None:
    from relay.audit import GENESIS, entry_hash

    conn = op.get_bind()
    # Ids 1..n in the old order (a PostgreSQL sequence leaves gaps after rollbacks): through
    # negative ids, so no two rows ever share one.
    conn.execute(sa.text("UPDATE audit_log SET id = -id"))
    # -1 > -2: descending is the old order, oldest first.
    old_ids = list(conn.execute(sa.text("SELECT id FROM audit_log ORDER BY id DESC")).scalars())
    if old_ids:
        conn.execute(
            sa.text("UPDATE audit_log SET id = :new WHERE id = :old"),
            [{"new": n, "old": old} for n, old in enumerate(old_ids, start=1)],
        )
    table = sa.table(
        "audit_log",
        sa.column("id", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("entity", sa.String),
        sa.column("entity_id", sa.String),
        sa.column("detail", sa.JSON),
    )
    previous = GENESIS
    after = 0
    while True:
        rows = conn.execute(
            sa.select(table).where(table.c.id > after).order_by(table.c.id).limit(2000)
        ).all()
        if not rows:
            break
        updates = []
        for row in rows:
            digest = entry_hash(
                row.id, row.at, row.actor, row.action, row.entity, row.entity_id,
                row.detail, previous,
            )
            updates.append({"entry": row.id, "prev": previous, "digest": digest})
            previous = digest
        conn.execute(
            sa.text("UPDATE audit_log SET prev_hash = :prev, hash = :digest WHERE id = :entry"),
            updates,
        )
        after = rows[-1].id


def upgrade() -> None:
    _row_triggers(enabled=False)
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.alter_column(
            "actor", existing_type=sa.String(length=100), type_=sa.String(length=255)
        )
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    _number_and_chain()
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index("ix_audit_log_prev_hash", ["prev_hash"], unique=True)
        batch_op.create_index("ix_audit_log_hash", ["hash"], unique=True)
    if _postgres():
        # relay.audit numbers the entries; an INSERT without an id fails instead of taking
        # a number from a sequence that knows nothing of the chain.
        op.execute("ALTER TABLE audit_log ALTER COLUMN id DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS audit_log_id_seq")
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()"
        )
    _row_triggers(enabled=True)


def downgrade() -> None:
    _row_triggers(enabled=False)
    if _postgres():
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id")
        op.execute(
            "SELECT setval('audit_log_id_seq', COALESCE((SELECT max(id) FROM audit_log), 0) + 1,"
            " false)"
        )
        op.execute(
            "ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq')"
        )
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_index("ix_audit_log_hash")
        batch_op.drop_index("ix_audit_log_prev_hash")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.alter_column(
            "actor", existing_type=sa.String(length=255), type_=sa.String(length=100)
        )
    _row_triggers(enabled=True)
