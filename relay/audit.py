"""Append an entry to the audit log: never updated, never deleted, chained by hash.

Each entry stores `prev_hash` (the `hash` of the entry before it; GENESIS for the first) and
`hash`, the SHA-256 of a canonical serialization of its own fields and `prev_hash`
(`entry_hash`). Editing, deleting, inserting or reordering entries breaks the chain, which
`bin/relay audit verify` (relay.audit_verify) walks.

`record()` only queues the entry on the session; it joins the chain when the session commits
(`_chain_pending`), after the transaction's other changes are flushed. Only then is the chain's
lock taken — `pg_advisory_xact_lock` on PostgreSQL, the write lock (`BEGIN IMMEDIATE`) on
SQLite — and the head read, so two writers never chain onto the same predecessor, and the lock
is held only for the INSERT and the COMMIT, not for the whole transaction. A unique index on
`prev_hash` makes any fork that slipped past the lock fail loudly instead.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, event, insert, select, text
from sqlalchemy.orm import Session, SessionTransaction

from relay.direct import DirectStatement
from relay.models import AUDIT_ACTOR_LENGTH, AuditEntry, utcnow

GENESIS = "0" * 64
HASH_VERSION = "relay-audit-v1"
SHORT_FIELD_LENGTH = 40  # action, entity, entity_id
# Any constant works: every writer of the audit log takes the same transaction-level lock.
POSTGRES_LOCK_KEY = 0x7265_6C61_7961_7564  # "relayaud"
_PENDING = "relay.audit.pending"
_COLUMNS = tuple(column.key for column in AuditEntry.__table__.columns)


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Queue an audit entry; it is chained and written when `session` commits (and dropped
    with the rest of the transaction if it rolls back)."""
    entry = AuditEntry(
        at=utcnow(),
        actor=fit(actor, AUDIT_ACTOR_LENGTH),
        action=fit(action, SHORT_FIELD_LENGTH),
        entity=fit(entity, SHORT_FIELD_LENGTH),
        entity_id=fit(str(entity_id), SHORT_FIELD_LENGTH),
        detail=normalise_detail(detail),
    )
    session.info.setdefault(_PENDING, []).append(entry)
    return entry


def fit(value: str, limit: int) -> str:
    """`value` made storable in a column of `limit` characters: NUL (which PostgreSQL refuses
    in text) replaced, and an over-long value cut with a digest of the whole, so two long
    values that share their beginning stay apart in the log."""
    value = str(value).replace("\x00", "\ufffd")
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{value[: limit - len(digest) - 1]}…{digest}"


def normalise_detail(detail: dict[str, Any] | None) -> dict[str, Any]:
    """The detail exactly as the database will give it back (JSON types only, string keys),
    so the hash computed now is the hash of what is stored."""
    return json.loads(json.dumps(detail or {}, default=str, allow_nan=False))


def canonical_at(at: datetime) -> str:
    """UTC with microseconds; SQLite gives the stored UTC time back without a zone."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    entry_id: int,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    detail: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the entry's canonical serialization: a JSON array of a version tag,
    the position, UTC time, actor, action, entity, entity id, the detail with sorted keys and
    the previous entry's hash — compact and ASCII-only, so it is the same on every platform."""
    payload = json.dumps(
        [
            HASH_VERSION,
            entry_id,
            canonical_at(at),
            actor,
            action,
            entity,
            entity_id,
            detail,
            prev_hash,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    )
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def hash_of(entry: Any, entry_id: int | None = None) -> str:
    """The hash `entry` (an AuditEntry or an audit_log row) should carry, at position
    `entry_id` (default its own)."""
    return entry_hash(
        entry.id if entry_id is None else entry_id,
        entry.at,
        entry.actor,
        entry.action,
        entry.entity,
        entry.entity_id,
        entry.detail,
        entry.prev_hash,
    )


_LOCK = DirectStatement(text("SELECT pg_advisory_xact_lock(:key)"))


def lock_chain(connection: Connection) -> None:
    """Serialize appends to the chain until this transaction ends."""
    if connection.dialect.name == "postgresql":
        _LOCK.run(connection, {"key": POSTGRES_LOCK_KEY})
        return
    dbapi = connection.connection.dbapi_connection
    # pysqlite opens a transaction only before the first write; a head read outside one could
    # be stale by the time the INSERT gets the write lock. Take the write lock first.
    if dbapi is not None and not dbapi.in_transaction:
        dbapi.execute("BEGIN IMMEDIATE")


_HEAD = DirectStatement(
    select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
)
_INSERT = insert(AuditEntry.__table__)
_INSERT_ONE = DirectStatement(_INSERT)


def head(connection: Connection) -> tuple[int, str]:
    """(id, hash) of the newest entry; (0, GENESIS) for an empty log."""
    row = _HEAD.run(connection).row
    return (row[0], row[1]) if row else (0, GENESIS)


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    if session.in_nested_transaction():
        # A SAVEPOINT released (the hook fires for those too): the entries wait for the real
        # COMMIT, so a later rollback to an outer savepoint cannot lose them.
        return
    pending: list[AuditEntry] = session.info.pop(_PENDING, [])
    if not pending:
        return
    # The transaction's own changes first: their row locks are taken before the chain's lock,
    # never while holding it (no lock-order deadlock), and the lock is held only to the COMMIT.
    session.flush()
    connection = session.connection()
    lock_chain(connection)
    last_id, last_hash = head(connection)
    for entry in pending:
        last_id += 1
        entry.id, entry.prev_hash = last_id, last_hash
        entry.hash = last_hash = hash_of(entry)
    # One Core INSERT, not the ORM's unit of work (a second flush inside the commit): the
    # entries are never changed again, so the session need not keep them.
    if len(pending) == 1:
        _INSERT_ONE.run(connection, _row(pending[0]))
    else:
        connection.execute(_INSERT, [_row(entry) for entry in pending])


def _row(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in _COLUMNS}


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    """Entries of a transaction that did not commit go with it."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
