"""The election catalogue a conversation turn reads (contest codes, each contest's list,
dapils and areas, a dapil's or area's ballot), kept in memory by each process.

It changes only when election files are loaded, yet every turn read it again: 4–5 of a
turn's ~17 SQL statements. Kept here, it is checked instead with one small read per
transaction: the token of `catalogue_stamp`, which triggers change in every transaction that
writes the catalogue's tables, whoever writes them (migration 0017). A token other than the
one the kept catalogue was read under (another load, emptied tables, a forked process that
inherited an old copy) means: read it again. No stamp row (tables just emptied, nothing
loaded since): read from the database every time, keep nothing. Never timed: a reload is
seen by the next transaction that starts after it commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.ballots import (
    CANDIDATES,
    PARTIES,
    Ballot,
    area_ballot,
    dapil_ballot,
    dapil_for,
)
from relay.models import Candidate, CatalogueStamp, Contest, Dapil

# Ballots kept per catalogue (one per contest and dapil or area): every dapil and area of a
# national election (~2,700 dapils, ~550 regional areas) fits; beyond it they are read again.
MAX_BALLOTS = 8192
_TOKEN = select(CatalogueStamp.__table__.c.token).where(CatalogueStamp.__table__.c.id == 1)
# The stamp as a column of another statement: a turn reads it with its message (token_read).
TOKEN = _TOKEN.scalar_subquery()
_SESSION_KEY = "relay.catalogue"
_TOKEN_KEY = "relay.catalogue.token"


@dataclass(frozen=True)
class Area:
    """A dapil of a party contest or an area of a regional candidate contest."""

    code: str
    regions: tuple[str, ...]


@dataclass(frozen=True)
class ContestEntry:
    """A contest as a turn needs it: what `Contest` says, and its dapils or areas."""

    code: str
    name: str
    kind: str
    region_scope: tuple[str, ...]
    numbers: tuple[int, ...]  # its list (parties, or candidates) by ballot number
    names: dict[int, str] = field(hash=False)
    required: frozenset[str] = frozenset()
    areas: tuple[Area, ...] = ()

    def applies_to(self, tps_code: str) -> bool:
        return not self.region_scope or any(tps_code.startswith(p) for p in self.region_scope)


@dataclass
class Catalogue:
    """One reading of the catalogue, under the stamp `token` (None: not kept)."""

    token: str | None
    codes: tuple[str, ...]  # by position, as the grammar and the hints list them
    contests: dict[str, ContestEntry]
    ballots: dict[tuple[str, str | None], Ballot] = field(default_factory=dict)

    def ballot(self, session: Session, contest_code: str, tps_code: str) -> Ballot | None:
        """The contest's ballot at the TPS (relay.ballots.ballot_for), None when the
        contest is not held there; a dapil's or area's lists read once."""
        entry = self.contests.get(contest_code)
        if entry is None or not entry.applies_to(tps_code):
            return None
        area = dapil_for(entry.areas, tps_code) if entry.areas else None
        if entry.areas and area is None:
            return None
        key = (entry.code, area.code if area else None)
        kept = self.ballots.get(key)
        if kept is not None:
            return kept
        if area is None:
            kind = PARTIES if entry.kind == PARTIES else CANDIDATES
            made = Ballot(entry.code, kind, entry.numbers, entry.names, required=entry.required)
        elif entry.kind == PARTIES:
            parties = (entry.numbers, entry.names)
            made = dapil_ballot(session, entry.code, area.code, parties, entry.required)
        else:
            made = area_ballot(session, entry.code, area.code, entry.required)
        if self.token is not None and len(self.ballots) < MAX_BALLOTS:
            self.ballots[key] = made
        return made


_kept: Catalogue | None = None


def current(session: Session) -> Catalogue:
    """The catalogue as this session's transaction sees it (read once per transaction)."""
    global _kept
    transaction = session.get_transaction()
    seen = session.info.get(_SESSION_KEY)
    if seen is not None and transaction is not None and seen[0] is transaction:
        return seen[1]
    read = session.info.get(_TOKEN_KEY)
    if read is not None and transaction is not None and read[0] is transaction:
        token = read[1]
    else:
        token = session.execute(_TOKEN).scalar()
    kept = _kept
    if token is None or kept is None or kept.token != token:
        kept = _read(session, token)
        _kept = kept if token is not None else None
    session.info[_SESSION_KEY] = (session.get_transaction(), kept)
    return kept


def token_read(session: Session, token: str | None) -> None:
    """The stamp as a statement of this session's transaction just read it (TOKEN): current()
    takes it instead of reading it again."""
    session.info[_TOKEN_KEY] = (session.get_transaction(), token)


def _read(session: Session, token: str | None) -> Catalogue:
    contests = session.execute(
        select(
            Contest.code,
            Contest.name,
            Contest.kind,
            Contest.region_scope,
            Contest.required_sections,
        ).order_by(Contest.position)
    ).all()
    lists: dict[str, list[tuple[int, str]]] = {c.code: [] for c in contests}
    for row in session.execute(
        select(Candidate.contest_code, Candidate.ballot_number, Candidate.name).order_by(
            Candidate.contest_code, Candidate.ballot_number
        )
    ):
        lists.setdefault(row.contest_code, []).append((row.ballot_number, row.name))
    areas: dict[str, list[Area]] = {}
    for row in session.execute(
        select(Dapil.contest_code, Dapil.code, Dapil.regions).order_by(
            Dapil.contest_code, Dapil.code
        )
    ):
        areas.setdefault(row.contest_code, []).append(Area(row.code, tuple(row.regions or ())))
    entries = {
        c.code: ContestEntry(
            c.code,
            c.name,
            c.kind,
            tuple(c.region_scope or ()),
            tuple(n for n, _ in lists[c.code]),
            dict(lists[c.code]),
            frozenset(c.required_sections or ()),
            tuple(areas.get(c.code, ())),
        )
        for c in contests
    }
    return Catalogue(token, tuple(c.code for c in contests), entries)
