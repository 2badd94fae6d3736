"""Walk the audit log's hash chain and name the first entry where it breaks, and how.

Entry ids are the chain's positions (1, 2, 3, … without gaps) and are part of each hash, so an
entry that moved still proves where it came from. At the first break the walk tells apart:

- edited: the entry's fields no longer give its hash (or it was re-hashed: its successor
  points at a hash no entry has any more);
- deleted: ids are missing, or the entry an entry points back to is gone;
- inserted: an entry the chain steps over (its successor points at the entry before it);
- reordered: an entry that points back at an entry other than the one before it.

What a chain cannot show alone: entries cut off the end, or a log rewritten and re-hashed
from some entry to the end. An anchor (`id:hash` noted or published earlier, e.g. the head
`verify` prints or the public API publishes, web.api.audit) catches both: the anchored entry
must still be there with that hash. Outside observers check theirs over HTTP
(relay.audit_watch); their anchors file (relay.audit_anchors) is checked here too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from relay.audit import GENESIS, hash_of
from relay.models import AuditEntry

BATCH = 2000
Entry = Any  # an audit_log row as read (id, at, actor, …, prev_hash, hash)


@dataclass(frozen=True)
class Break:
    entry_id: int
    kind: str  # edited | deleted | inserted | reordered
    reason: str

    def line(self) -> str:
        return f"audit log broken at entry #{self.entry_id}: {self.kind} — {self.reason}"


@dataclass(frozen=True)
class Anchor:
    entry_id: int
    hash: str  # the full hash or a prefix of at least 12 hex digits

    @classmethod
    def parse(cls, raw: str) -> Anchor:
        entry_id, _, digest = raw.strip().partition(":")
        digest = digest.strip().lower()
        if not entry_id.isdigit() or len(digest) < 12 or len(digest) > 64:
            raise ValueError(f"{raw!r} is not ID:HASH (HASH: at least 12 hex digits)")
        int(digest, 16)
        return cls(int(entry_id), digest)


@dataclass(frozen=True)
class Verdict:
    entries: int
    head_id: int
    head_hash: str
    broken: Break | None

    @property
    def intact(self) -> bool:
        return self.broken is None


@dataclass(frozen=True)
class _Genesis:
    """Stands before the first entry."""

    id: int = 0
    hash: str = GENESIS
    prev_hash: str = ""


_GENESIS_ROW: Entry = _Genesis()


def verify(connection: Connection, anchors: Sequence[Anchor] = ()) -> Verdict:
    """Walk the whole chain (streamed, in id order); stop at the first break."""
    count, head = 0, _GENESIS_ROW
    before_previous, previous = _GENESIS_ROW, _GENESIS_ROW
    rows = _entries(connection)
    current = next(rows, None)
    while current is not None:
        following = next(rows, None)
        broken = _check(connection, before_previous, previous, current, following)
        if broken:
            return Verdict(count, head.id, head.hash, broken)
        count += 1
        head = current
        before_previous, previous, current = previous, current, following
    for anchor in anchors:
        broken = _check_anchor(connection, anchor, head.id)
        if broken:
            return Verdict(count, head.id, head.hash, broken)
    return Verdict(count, head.id, head.hash, None)


def _entries(connection: Connection) -> Iterator[Entry]:
    """Every entry in id order, a batch at a time (keyset pagination: no server cursor)."""
    after = -1
    while True:
        batch = connection.execute(
            select(AuditEntry.__table__)
            .where(AuditEntry.id > after)
            .order_by(AuditEntry.id)
            .limit(BATCH)
        ).all()
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1].id


def _check(
    connection: Connection,
    before_previous: Entry,
    previous: Entry,
    entry: Entry,
    following: Entry | None,
) -> Break | None:
    skipped_over = following is not None and following.prev_hash == previous.hash
    if hash_of(entry) != entry.hash:
        origin = _original_position(connection, entry)
        if origin is None:
            if skipped_over:
                return Break(entry.id, "inserted", "its successor follows the entry before it")
            return Break(entry.id, "edited", "its fields no longer match its hash")
        return _moved(connection, before_previous, previous, entry, origin)
    if entry.id > previous.id + 1:
        missing = _span(previous.id + 1, entry.id - 1)
        return Break(previous.id + 1, "deleted", f"entry {missing} is missing")
    if entry.prev_hash == previous.hash:
        return None
    if entry.prev_hash == before_previous.hash:
        return Break(
            previous.id, "inserted", f"#{entry.id} follows #{before_previous.id}, not this entry"
        )
    pointed = _id_with_hash(connection, entry.prev_hash)
    if pointed is not None:
        return Break(entry.id, "reordered", f"it follows #{pointed}, not #{previous.id}")
    if skipped_over:
        return Break(entry.id, "inserted", "its successor follows the entry before it")
    return Break(
        previous.id,
        "edited",
        f"#{entry.id} follows an entry with another hash: #{previous.id} was changed and "
        "re-hashed, or replaced",
    )


def _moved(
    connection: Connection,
    before_previous: Entry,
    previous: Entry,
    entry: Entry,
    origin: int,
) -> Break:
    """`entry` is intact but was written at position `origin`: it was moved."""
    if origin == entry.id - 1 and entry.prev_hash == before_previous.hash:
        return Break(
            previous.id,
            "inserted",
            f"the entries after it were renumbered: #{entry.id} was #{origin} and follows "
            f"#{before_previous.id}",
        )
    if _id_with_hash(connection, entry.prev_hash) is None and entry.prev_hash != GENESIS:
        return Break(
            entry.id,
            "deleted",
            f"it was #{origin}; the entry before it is missing and the rest renumbered",
        )
    return Break(entry.id, "reordered", f"it was written as #{origin}")


def _original_position(connection: Connection, entry: Entry) -> int | None:
    """The id under which `entry`'s fields give its hash, if another than its own (one
    pass over the ids, only at a break)."""
    top = connection.scalar(select(func.max(AuditEntry.id))) or 0
    for candidate in range(1, top + 2):
        if candidate != entry.id and hash_of(entry, candidate) == entry.hash:
            return candidate
    return None


def _id_with_hash(connection: Connection, digest: str) -> int | None:
    return connection.scalar(select(AuditEntry.id).where(AuditEntry.hash == digest).limit(1))


def _check_anchor(connection: Connection, anchor: Anchor, head_id: int) -> Break | None:
    stored = connection.scalar(select(AuditEntry.hash).where(AuditEntry.id == anchor.entry_id))
    if stored is None:
        return Break(
            anchor.entry_id,
            "deleted",
            f"the anchored entry is gone (the log ends at #{head_id}): entries were cut off",
        )
    if not stored.startswith(anchor.hash):
        return Break(
            anchor.entry_id,
            "edited",
            "its hash differs from the anchor: the log was rewritten up to here",
        )
    return None


def _span(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first}…#{last}"
