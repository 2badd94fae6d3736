"""Results summed per contest and region, kept up to date as tallies are confirmed or changed.

At national size (~84k villages, ~823k TPS) no page may sum every TPS. Each confirmed tally
adds itself to the four regions above its TPS (province, regency, district, village) with
atomic upserts (`INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n`), in the same
transaction that confirms it; the country is the sum of its ~38 provinces. Rows are touched
in a fixed order (table: totals, votes, candidate votes, sections; then region code and
number or key) so concurrent confirmations cannot deadlock.

What is summed: SAH and TS; per ballot number what it counts towards SAH (`ResultVote`: a
candidate's votes, or a party's total = its own votes + its candidates'); for party
contests each candidate's votes per (party, candidate number) (`ResultCandidateVote`); and
each C.Hasil section an officer gave (`ResultSection`: DPT, PHP, SSD, …, with how many
TPS reported it, as sections are optional). A party's own votes in a region are its total
minus its candidates' sum. Candidate numbers mean a person only within one dapil, so the
readers name candidates only for a region that lies within one dapil (`dapil_of_region`).
Likewise a regional candidate contest (DPD per province, pilkada per region) has one list per
area: ballot numbers are summed only within one area, a region spanning several areas shows
each area's results (`Area.area_results`), never one sum of different people's votes.

TPS counts and registered voters per region (the progress denominators) live in
`region_stats`, rebuilt after a regions load (`results rebuild`, or on first use).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from relay.ballots import PARTIES, SECTION_KEYS
from relay.locks import read_snapshot
from relay.models import (
    AreaCandidate,
    Contest,
    Dapil,
    Region,
    RegionStat,
    ResultCandidateVote,
    ResultSection,
    ResultTimeline,
    ResultTotal,
    ResultVote,
    Submission,
    Tps,
    as_utc,
)

LEVEL_LENGTHS = (2, 4, 6, 10)  # province, regency, district, village
LEVELS = {2: "province", 4: "regency", 6: "district", 10: "village", 13: "tps"}
NATIONAL = ""


def level_of(code: str) -> str:
    return "national" if code == NATIONAL else LEVELS.get(len(code), "unknown")


def regions_of(tps_code: str) -> list[str]:
    """The province, regency, district and village codes a TPS code lies in."""
    return [tps_code[:n] for n in LEVEL_LENGTHS]


def _insert(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


@dataclass(frozen=True)
class Numbers:
    """What one confirmed tally adds to the totals (see the module's docstring)."""

    votes: Mapping[int, int]  # by ballot number: a candidate's votes or a party's total
    sah: int
    ts: int
    candidates: Mapping[tuple[int, int], int] = field(default_factory=dict)
    sections: Mapping[str, int] = field(default_factory=dict)


def numbers_of(submission: Submission) -> Numbers:
    """A tally's numbers as they count; take it before changing the row."""
    return Numbers(
        submission.votes_by_ballot(),
        submission.sah,
        submission.ts,
        submission.candidate_votes_by_number(),
        sections_of(submission),
    )


def sections_of(submission: Submission) -> dict[str, int]:
    """The tally's C.Hasil sections given as numbers ({"DPT": 280, …})."""
    given = {}
    for key, value in (submission.sections or {}).items():
        if isinstance(value, int | str) and str(value).lstrip("-").isdigit():
            given[str(key)] = int(value)
    return given


def _as_numbers(value: Numbers | tuple[Mapping[int, int], int, int]) -> Numbers:
    """Callers may still pass today's (votes, sah, ts): no candidates, no sections."""
    if isinstance(value, Numbers):
        return value
    votes, sah, ts = value
    return Numbers(votes, sah, ts)


@dataclass
class _Delta:
    """What to add to every region above one TPS; sections carry (value, tps_reported)."""

    tps: int
    sah: int
    ts: int
    votes: dict[int, int]
    candidates: dict[tuple[int, int], int]
    sections: dict[str, tuple[int, int]]


def _delta(before: Numbers | None, after: Numbers | None) -> _Delta:
    old = before or Numbers({}, 0, 0)
    new = after or Numbers({}, 0, 0)

    def diff(a: Mapping[Any, int], b: Mapping[Any, int]) -> dict[Any, int]:
        moved = {key: b.get(key, 0) - a.get(key, 0) for key in set(a) | set(b)}
        return {key: d for key, d in moved.items() if d}

    sections = {}
    for key in set(old.sections) | set(new.sections):
        value = new.sections.get(key, 0) - old.sections.get(key, 0)
        reported = (key in new.sections) - (key in old.sections)
        if value or reported:
            sections[key] = (value, reported)
    return _Delta(
        tps=(after is not None) - (before is not None),
        sah=new.sah - old.sah,
        ts=new.ts - old.ts,
        votes=diff(old.votes, new.votes),
        candidates=diff(old.candidates, new.candidates),
        sections=sections,
    )


def _upsert(
    session: Session,
    model: Any,
    keys: tuple[str, ...],
    adds: tuple[str, ...],
    rows: list[dict],
    sets: tuple[str, ...] = (),
) -> None:
    """Add `adds` of each row to the stored row with the same `keys` (created at 0), and
    replace `sets`, in the rows' order: one statement run for every row (compiled once,
    whatever the form's size)."""
    if not rows:
        return
    table = model.__table__
    statement = _insert(session)(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={
            **{name: table.c[name] + statement.excluded[name] for name in adds},
            **{name: statement.excluded[name] for name in sets},
        },
    )
    session.execute(statement, rows)


def _add(session: Session, contest_code: str, tps_code: str, delta: _Delta) -> None:
    """Move every total above one TPS by `delta`: tables in a fixed order, rows by region
    then number or key, so concurrent confirmations take their row locks in the same order."""
    regions = regions_of(tps_code)
    now = datetime.now(UTC)
    _upsert(
        session,
        ResultTotal,
        ("contest_code", "region_code"),
        ("tps_confirmed", "sah", "ts"),
        [
            {
                "contest_code": contest_code,
                "region_code": code,
                "tps_confirmed": delta.tps,
                "sah": delta.sah,
                "ts": delta.ts,
                "updated_at": now,
            }
            for code in regions
        ],
        sets=("updated_at",),
    )
    _upsert(
        session,
        ResultVote,
        ("contest_code", "region_code", "ballot_number"),
        ("votes",),
        [
            {"contest_code": contest_code, "region_code": code, "ballot_number": n, "votes": v}
            for code in regions
            for n, v in sorted(delta.votes.items())
        ],
    )
    _upsert(
        session,
        ResultCandidateVote,
        ("contest_code", "region_code", "party_number", "candidate_number"),
        ("votes",),
        [
            {
                "contest_code": contest_code,
                "region_code": code,
                "party_number": party,
                "candidate_number": candidate,
                "votes": v,
            }
            for code in regions
            for (party, candidate), v in sorted(delta.candidates.items())
        ],
    )
    _upsert(
        session,
        ResultSection,
        ("contest_code", "region_code", "key"),
        ("value", "tps_reported"),
        [
            {
                "contest_code": contest_code,
                "region_code": code,
                "key": key,
                "value": value,
                "tps_reported": reported,
            }
            for code in regions
            for key, (value, reported) in sorted(delta.sections.items())
        ],
    )


def _hour(moment: datetime | None) -> datetime:
    moment = as_utc(moment or datetime.now(UTC))
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def tally_confirmed(session: Session, submission: Submission) -> None:
    """Add a tally that has just become the confirmed one for its TPS and contest.

    A training tally (the simulator's) is never counted: it returns at once.
    """
    if submission.training:
        return
    _add(
        session,
        submission.contest_code,
        submission.tps_code,
        _delta(None, numbers_of(submission)),
    )
    _timeline_add(session, submission.contest_code, submission.tps_code, submission.decided_at, 1)


def _timeline_add(
    session: Session, contest_code: str, tps_code: str, moment: datetime | None, n: int
) -> None:
    """The hour's point of the country and of each region the TPS lies in, in one statement."""
    insert = _insert(session)
    hour = _hour(moment)
    points = insert(ResultTimeline).values(
        [
            {"contest_code": contest_code, "region_code": region, "hour": hour, "confirmed": n}
            for region in (NATIONAL, *regions_of(tps_code))
        ]
    )
    session.execute(
        points.on_conflict_do_update(
            index_elements=["contest_code", "region_code", "hour"],
            set_={"confirmed": ResultTimeline.confirmed + points.excluded.confirmed},
        )
    )


def tally_replaced(
    session: Session,
    old: Submission,
    new: Submission,
    old_decided_at: datetime | None,
) -> None:
    """`new` became the confirmed tally in place of `old` (an operator accepted a conflict):
    the totals take the difference, the timeline point moves to `new`'s hour. Call with
    both rows locked (see bots.review.accept)."""
    if new.training:
        return
    tally_changed(session, new.contest_code, new.tps_code, numbers_of(old), numbers_of(new))
    if _hour(old_decided_at) != _hour(new.decided_at):
        _timeline_add(session, new.contest_code, new.tps_code, old_decided_at, -1)
        _timeline_add(session, new.contest_code, new.tps_code, new.decided_at, 1)


def tally_changed(
    session: Session,
    contest_code: str,
    tps_code: str,
    before: Numbers | tuple[Mapping[int, int], int, int],
    after: Numbers | tuple[Mapping[int, int], int, int],
) -> None:
    """Swap a confirmed tally's numbers (an operator's change): the TPS still counts once.

    `before`/`after` are `numbers_of(submission)` taken before and after the change, so
    candidate votes and sections move with the votes (a section given on one side only
    moves its `tps_reported` too). A (votes, sah, ts) tuple is still accepted.
    """
    change = _delta(_as_numbers(before), _as_numbers(after))
    _add(session, contest_code, tps_code, change)


# --- rebuilding -------------------------------------------------------------------------------


def rebuild_region_stats(session: Session) -> int:
    """Recount TPS and registered voters per region from the TPS table; returns TPS seen."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    seen = 0
    for code, voters in session.execute(select(Tps.code, Tps.registered_voters)).yield_per(10_000):
        seen += 1
        for region in [NATIONAL, *regions_of(code)]:
            counts[region][0] += 1
            counts[region][1] += voters or 0
    session.execute(delete(RegionStat))
    rows = [
        {"region_code": code, "tps_count": n, "registered_voters": voters}
        for code, (n, voters) in sorted(counts.items())
    ]
    for start in range(0, len(rows), 5000):
        session.execute(RegionStat.__table__.insert(), rows[start : start + 5000])
    if not rows:
        session.add(RegionStat(region_code=NATIONAL, tps_count=0, registered_voters=0))
    return seen


def ensure_region_stats(session: Session) -> None:
    """Build the region stats once when a fresh database has none."""
    if session.get(RegionStat, NATIONAL) is not None:
        return
    try:
        with session.begin_nested():
            rebuild_region_stats(session)
    except IntegrityError:  # another process built them at the same moment
        pass


@dataclass
class Expected:
    """Every total as the confirmed tallies say it should be."""

    tallies: int = 0
    totals: dict[tuple[str, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, 0])
    )  # (contest, region) → [tps_confirmed, sah, ts]
    votes: dict[tuple[str, str, int], int] = field(default_factory=lambda: defaultdict(int))
    # (contest, region, party, candidate) → votes
    candidates: dict[tuple[str, str, int, int], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    # (contest, region, key) → [value, tps_reported]
    sections: dict[tuple[str, str, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0])
    )
    # (contest, region, hour): region '' is the country
    timeline: dict[tuple[str, str, datetime], int] = field(
        default_factory=lambda: defaultdict(int)
    )


def public_tallies() -> Any:
    """The confirmed tallies that count: not the simulator's training tallies."""
    return select(Submission).where(
        Submission.status == "confirmed", Submission.training.is_(False)
    )


def expected(session: Session) -> Expected:
    """Sum the confirmed tallies the slow way (streamed, constant memory per region)."""
    sums = Expected()
    for submission in session.scalars(public_tallies().execution_options(yield_per=5000)):
        sums.tallies += 1
        contest = submission.contest_code
        numbers = numbers_of(submission)
        for region in regions_of(submission.tps_code):
            row = sums.totals[(contest, region)]
            row[0] += 1
            row[1] += numbers.sah
            row[2] += numbers.ts
            for number, n in numbers.votes.items():
                sums.votes[(contest, region, number)] += n
            for (party, candidate), n in numbers.candidates.items():
                sums.candidates[(contest, region, party, candidate)] += n
            for key, value in numbers.sections.items():
                section = sums.sections[(contest, region, key)]
                section[0] += value
                section[1] += 1
        hour = _hour(submission.decided_at)
        for region in (NATIONAL, *regions_of(submission.tps_code)):
            sums.timeline[(contest, region, hour)] += 1
    return sums


def rebuild(session: Session) -> int:
    """Recompute every total from the confirmed tallies (repair; normal updates are live)."""
    sums = expected(session)
    rebuilt_at = datetime.now(UTC)
    for model in (ResultTotal, ResultVote, ResultCandidateVote, ResultSection, ResultTimeline):
        session.execute(delete(model))
    _bulk(
        session,
        ResultTotal,
        [
            {
                "contest_code": c,
                "region_code": r,
                "tps_confirmed": n,
                "sah": s,
                "ts": t,
                "updated_at": rebuilt_at,
            }
            for (c, r), (n, s, t) in sums.totals.items()
        ],
    )
    _bulk(
        session,
        ResultVote,
        [
            {"contest_code": c, "region_code": r, "ballot_number": b, "votes": n}
            for (c, r, b), n in sums.votes.items()
        ],
    )
    _bulk(
        session,
        ResultCandidateVote,
        [
            {
                "contest_code": c,
                "region_code": r,
                "party_number": p,
                "candidate_number": k,
                "votes": n,
            }
            for (c, r, p, k), n in sums.candidates.items()
        ],
    )
    _bulk(
        session,
        ResultSection,
        [
            {"contest_code": c, "region_code": r, "key": k, "value": v, "tps_reported": n}
            for (c, r, k), (v, n) in sums.sections.items()
        ],
    )
    _bulk(
        session,
        ResultTimeline,
        [
            {"contest_code": c, "region_code": r, "hour": h, "confirmed": n}
            for (c, r, h), n in sums.timeline.items()
        ],
    )
    rebuild_region_stats(session)
    return sums.tallies


@dataclass(frozen=True)
class Drift:
    """A stored total that differs from the sum of its confirmed tallies."""

    contest_code: str
    region_code: str  # "" for the country
    # tps_confirmed | sah | ts | votes NN | candidate NN.K | section KEY |
    # section KEY tps_reported | timeline <hour>
    field: str
    expected: int
    stored: int

    def __str__(self) -> str:
        where = self.region_code or "-"
        return (
            f"{self.contest_code} {where} {self.field}: "
            f"expected {self.expected}, stored {self.stored}"
        )


def verify(session: Session) -> list[Drift]:
    """Compare every stored total with its tallies; [] when none has drifted.

    In a fresh session everything is read from one snapshot, so a tally confirmed while
    this runs is never reported as drift.
    """
    read_snapshot(session)
    sums = expected(session)
    drifts: list[Drift] = []
    stored_totals = {
        (t.contest_code, t.region_code): (t.tps_confirmed, t.sah, t.ts)
        for t in session.scalars(select(ResultTotal))
    }
    for key in sorted(set(sums.totals) | set(stored_totals)):
        want = tuple(sums.totals.get(key, (0, 0, 0)))
        have = stored_totals.get(key, (0, 0, 0))
        for name, e, s in zip(("tps_confirmed", "sah", "ts"), want, have, strict=True):
            if e != s:
                drifts.append(Drift(key[0], key[1], name, e, s))
    stored_votes = {
        (v.contest_code, v.region_code, v.ballot_number): v.votes
        for v in session.scalars(select(ResultVote))
    }
    for key in sorted(set(sums.votes) | set(stored_votes)):
        e, s = sums.votes.get(key, 0), stored_votes.get(key, 0)
        if e != s:
            drifts.append(Drift(key[0], key[1], f"votes {key[2]:02d}", e, s))
    stored_candidates = {
        (v.contest_code, v.region_code, v.party_number, v.candidate_number): v.votes
        for v in session.scalars(select(ResultCandidateVote))
    }
    for ckey in sorted(set(sums.candidates) | set(stored_candidates)):
        e, s = sums.candidates.get(ckey, 0), stored_candidates.get(ckey, 0)
        if e != s:
            label = f"candidate {ckey[2]:02d}.{ckey[3]}"
            drifts.append(Drift(ckey[0], ckey[1], label, e, s))
    stored_sections = {
        (v.contest_code, v.region_code, v.key): (v.value, v.tps_reported)
        for v in session.scalars(select(ResultSection))
    }
    for skey in sorted(set(sums.sections) | set(stored_sections)):
        want = tuple(sums.sections.get(skey, (0, 0)))
        have = stored_sections.get(skey, (0, 0))
        for suffix, e, s in zip(("", " tps_reported"), want, have, strict=True):
            if e != s:
                drifts.append(Drift(skey[0], skey[1], f"section {skey[2]}{suffix}", e, s))
    stored_timeline = {
        (p.contest_code, p.region_code, _hour(p.hour)): p.confirmed
        for p in session.scalars(select(ResultTimeline))
    }
    for tkey in sorted(set(sums.timeline) | set(stored_timeline)):
        e, s = sums.timeline.get(tkey, 0), stored_timeline.get(tkey, 0)
        if e != s:
            drifts.append(Drift(tkey[0], tkey[1], f"timeline {tkey[2].isoformat()}", e, s))
    return drifts


def _bulk(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        session.execute(model.__table__.insert(), rows[start : start + 5000])


# --- reading ----------------------------------------------------------------------------------


@dataclass
class Area:
    """One region's (or the country's) progress and totals for one contest.

    Party contests: `votes` are party totals, `candidate_sums` each party's candidates' votes
    together (own votes = total - that), and `candidate_votes` per (party, candidate number)
    only when the region lies within one dapil (`dapil`), where a number names one person,
    and was read with its candidates (`with_candidates`: `area()`, not a page's children).
    """

    code: str
    name: str
    level: str
    tps_total: int = 0
    tps_confirmed: int = 0
    sah: int = 0
    ts: int = 0
    votes: dict[int, int] = field(default_factory=dict)
    party_contest: bool = False
    dapil: str | None = None
    with_candidates: bool = False  # candidate_votes read (a region within one dapil)
    candidate_sums: dict[int, int] = field(default_factory=dict)
    candidate_votes: dict[tuple[int, int], int] = field(default_factory=dict)
    sections: dict[str, int] = field(default_factory=dict)
    sections_reported: dict[str, int] = field(default_factory=dict)
    # Regional candidate contests (areas with their own lists): the area the region lies in
    # wholly (votes and `names` are that area's), else None and no votes; `area_results`
    # (read by `area()`) each area's own results within the region.
    regional: bool = False
    area: str | None = None
    area_name: str | None = None
    names: dict[int, str] = field(default_factory=dict)
    area_results: list[Area] | None = None

    @property
    def percent(self) -> float:
        return 100.0 * self.tps_confirmed / self.tps_total if self.tps_total else 0.0

    def own_votes(self) -> dict[int, int]:
        """Party contests: each party's own (party-only) votes."""
        return {n: v - self.candidate_sums.get(n, 0) for n, v in self.votes.items()}

    def section_keys(self) -> list[str]:
        """The sections reported here, in the form's order (unknown keys last)."""
        known = [k for k in SECTION_KEYS if k in self.sections]
        return known + sorted(k for k in self.sections if k not in SECTION_KEYS)

    def as_dict(self) -> dict[str, Any]:
        data = {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "tps_total": self.tps_total,
            "tps_confirmed": self.tps_confirmed,
            "progress_percent": round(self.percent, 2),
            "sah": self.sah,
            "ts": self.ts,
            "votes": {f"{n:02d}": v for n, v in sorted(self.votes.items())},
            "sections": {
                key: {"value": self.sections[key], "tps_reported": self.sections_reported[key]}
                for key in self.section_keys()
            },
        }
        if self.party_contest:
            own = self.own_votes()
            data["parties"] = {
                f"{n:02d}": {
                    "own": own[n],
                    "candidates": self.candidate_sums.get(n, 0),
                    "total": v,
                }
                for n, v in sorted(self.votes.items())
            }
            data["dapil"] = self.dapil
            data["candidate_votes"] = (
                {f"{p:02d}.{k}": v for (p, k), v in sorted(self.candidate_votes.items())}
                if self.with_candidates
                else None
            )
        if self.regional:
            data["area"] = self.area
            data["area_name"] = self.area_name
            data["candidates"] = [
                {"number": f"{n:02d}", "name": name} for n, name in sorted(self.names.items())
            ]
            if self.area_results is not None:
                data["areas"] = [sub.as_dict() for sub in self.area_results]
        return data


def dapil_of_region(dapils: Iterable[Dapil], code: str) -> Dapil | None:
    """The dapil a whole region lies in, or None when it spans several (or none)."""
    dapils = list(dapils)
    found = _dapil_codes([(d.code, list(d.regions or [])) for d in dapils], [code])[code]
    return next((d for d in dapils if d.code == found), None)


def _dapil_codes(
    dapils: list[tuple[str, list[str]]], codes: Iterable[str]
) -> dict[str, str | None]:
    """For each region code, the code of the one dapil it lies in wholly (None: several or
    none). A dapil covers the regions under its prefixes; the longest matching prefix wins,
    and a region with a part under another dapil's prefix lies in several."""
    prefixes = [(prefix, dapil) for dapil, regions in dapils for prefix in regions]
    found: dict[str, str | None] = {}
    for code in codes:
        best = max(
            ((len(p), d) for p, d in prefixes if code.startswith(p)),
            default=None,
            key=lambda match: match[0],
        )
        split = best is not None and any(p.startswith(code) and d != best[1] for p, d in prefixes)
        found[code] = None if best is None or split else best[1]
    return found


def applies(contest: Contest, region_code: str) -> bool:
    """Whether any TPS of the region holds the contest."""
    scope = contest.region_scope or []
    return not scope or any(region_code.startswith(p) or p.startswith(region_code) for p in scope)


def _tps_total(contest: Contest, code: str, stats: Mapping[str, int]) -> int:
    scope = contest.region_scope or []
    if not scope or any(code.startswith(p) for p in scope):
        return stats.get(code, 0)
    return sum(stats.get(p, 0) for p in scope if p.startswith(code))


def children_of(session: Session, code: str) -> list[Region]:
    if code == NATIONAL:
        query = select(Region).where(Region.parent_code.is_(None))
    else:
        query = select(Region).where(Region.parent_code == code)
    return list(session.scalars(query.order_by(Region.code)))


def areas(
    session: Session,
    contest: Contest,
    codes: Iterable[tuple[str, str, str]],
    candidates: bool = False,
) -> list[Area]:
    """Areas for (code, name, level) triples, from the pre-aggregated tables only.

    Party contests: each party's candidates' votes together always (for its own votes);
    with `candidates`, each candidate's votes too for the areas within one dapil.
    """
    ensure_region_stats(session)
    wanted = [c for c in codes if applies(contest, c[0])]
    region_codes = [code for code, _, _ in wanted if code != NATIONAL]
    national = any(code == NATIONAL for code, _, _ in wanted)
    provinces = [r.code for r in children_of(session, NATIONAL)] if national else []
    lookup = sorted(set(region_codes) | set(provinces) | set(contest.region_scope or []))
    stats = {
        s.region_code: s.tps_count
        for s in session.scalars(
            select(RegionStat).where(RegionStat.region_code.in_([*lookup, NATIONAL]))
        )
    }
    totals = {
        region: (tps, sah, ts)
        for region, tps, sah, ts in session.execute(
            select(
                ResultTotal.region_code,
                ResultTotal.tps_confirmed,
                ResultTotal.sah,
                ResultTotal.ts,
            ).where(ResultTotal.contest_code == contest.code, ResultTotal.region_code.in_(lookup))
        )
    }
    votes: dict[str, dict[int, int]] = defaultdict(dict)
    for region, number, n in session.execute(
        select(ResultVote.region_code, ResultVote.ballot_number, ResultVote.votes).where(
            ResultVote.contest_code == contest.code, ResultVote.region_code.in_(lookup)
        )
    ):
        votes[region][number] = n
    sections: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for region, key, value, reported in session.execute(
        select(
            ResultSection.region_code,
            ResultSection.key,
            ResultSection.value,
            ResultSection.tps_reported,
        ).where(ResultSection.contest_code == contest.code, ResultSection.region_code.in_(lookup))
    ):
        sections[region][key] = (value, reported)
    party_contest = contest.kind == PARTIES
    regional_areas = [] if party_contest else _areas_of(session, contest.code)
    area_of = _dapil_codes(
        [(code, list(regions)) for code, _, regions in regional_areas],
        [code for code, _, _ in wanted],
    )
    area_lists = _area_lists(session, contest.code, {a for a in area_of.values() if a})
    dapil_of: dict[str, str | None] = {}
    per_candidate: dict[str, dict[tuple[int, int], int]] = defaultdict(dict)
    per_party: dict[str, dict[int, int]] = defaultdict(dict)
    if party_contest:
        dapils = [
            (code, list(regions or []))
            for code, regions in session.execute(
                select(Dapil.code, Dapil.regions).where(Dapil.contest_code == contest.code)
            )
        ]
        dapil_of = _dapil_codes(dapils, [code for code, _, _ in wanted])
        detailed = {
            member
            for code, _, _ in wanted
            if candidates and dapil_of[code]
            for member in (provinces if code == NATIONAL else [code])
        }
        summed = sorted(set(lookup) - detailed)
        votes_of = ResultCandidateVote.votes
        for region, party, number, n in session.execute(
            select(
                ResultCandidateVote.region_code,
                ResultCandidateVote.party_number,
                ResultCandidateVote.candidate_number,
                votes_of,
            ).where(
                ResultCandidateVote.contest_code == contest.code,
                ResultCandidateVote.region_code.in_(sorted(detailed)),
            )
        ):
            per_candidate[region][(party, number)] = n
            per_party[region][party] = per_party[region].get(party, 0) + n
        for region, party, n in session.execute(
            select(
                ResultCandidateVote.region_code,
                ResultCandidateVote.party_number,
                func.sum(votes_of),
            )
            .where(
                ResultCandidateVote.contest_code == contest.code,
                ResultCandidateVote.region_code.in_(summed),
            )
            .group_by(ResultCandidateVote.region_code, ResultCandidateVote.party_number)
        ):
            per_party[region][party] = int(n or 0)
    result = []
    for code, name, level in wanted:
        area = Area(code, name, level)
        members = [p for p in provinces] if code == NATIONAL else [code]
        for member in members:
            tps, sah, ts = totals.get(member, (0, 0, 0))
            area.tps_confirmed += tps
            area.sah += sah
            area.ts += ts
            for number, n in votes.get(member, {}).items():
                area.votes[number] = area.votes.get(number, 0) + n
            for key, (value, reported) in sections.get(member, {}).items():
                if not reported:  # every tally that gave it was changed since
                    continue
                area.sections[key] = area.sections.get(key, 0) + value
                area.sections_reported[key] = area.sections_reported.get(key, 0) + reported
            for party, n in per_party.get(member, {}).items():
                area.candidate_sums[party] = area.candidate_sums.get(party, 0) + n
            for pair, n in per_candidate.get(member, {}).items():
                area.candidate_votes[pair] = area.candidate_votes.get(pair, 0) + n
        if party_contest:
            area.party_contest = True
            area.dapil = dapil_of[code]
            area.with_candidates = candidates and area.dapil is not None
            if not area.with_candidates:
                area.candidate_votes = {}  # numbers of different dapils are different people
        area.tps_total = _tps_total(contest, code, stats)
        if regional_areas:
            _regional(session, contest, area, area_of[code], regional_areas, area_lists,
                      candidates)
        for candidate in contest.candidates:
            area.votes.setdefault(candidate.ballot_number, 0)
        result.append(area)
    return result


def _areas_of(session: Session, contest_code: str) -> list[tuple[str, str, list[str]]]:
    """(code, name, region prefixes) of a candidate contest's areas (none: one list)."""
    return [
        (code, name, list(regions or []))
        for code, name, regions in session.execute(
            select(Dapil.code, Dapil.name, Dapil.regions)
            .where(Dapil.contest_code == contest_code)
            .order_by(Dapil.code)
        )
    ]


def _area_lists(
    session: Session, contest_code: str, codes: set[str]
) -> dict[str, dict[int, str]]:
    """Area code → its candidates' names by ballot number."""
    lists: dict[str, dict[int, str]] = defaultdict(dict)
    if codes:
        for area_code, number, name in session.execute(
            select(AreaCandidate.area_code, AreaCandidate.ballot_number, AreaCandidate.name)
            .where(
                AreaCandidate.contest_code == contest_code,
                AreaCandidate.area_code.in_(sorted(codes)),
            )
            .order_by(AreaCandidate.ballot_number)
        ):
            lists[area_code][number] = name
    return lists


def _regional(
    session: Session,
    contest: Contest,
    area: Area,
    area_code: str | None,
    regional_areas: list[tuple[str, str, list[str]]],
    area_lists: Mapping[str, dict[int, str]],
    breakdown: bool,
) -> None:
    """Make `area` a regional contest's: its area's numbers and names when it lies in one
    area, else no votes (numbers of different areas are different people) and, with
    `breakdown`, each area's own results within it."""
    area.regional = True
    area.area = area_code
    if area_code is not None:
        area.area_name = next(name for code, name, _ in regional_areas if code == area_code)
        area.names = dict(area_lists.get(area_code, {}))
        for number in area.names:
            area.votes.setdefault(number, 0)
        return
    area.votes = {}
    if breakdown:
        area.area_results = area_breakdown(session, contest, area.code, regional_areas)


def area_breakdown(
    session: Session,
    contest: Contest,
    code: str,
    regional_areas: list[tuple[str, str, list[str]]],
) -> list[Area]:
    """Each area of a regional contest lying (in part) under region `code`, with its results
    there: the sum of its region prefixes under `code` (areas never overlap)."""
    members = [
        (prefix, area_code)
        for area_code, _, regions in regional_areas
        for prefix in regions
        if prefix.startswith(code)
    ]
    parts = areas(session, contest, [(p, "", level_of(p)) for p, _ in members])
    by_code = {part.code: part for part in parts}
    out: list[Area] = []
    for area_code, name, _ in regional_areas:
        prefixes = [p for p, a in members if a == area_code and p in by_code]
        if not prefixes:
            continue
        total = Area(area_code, name, "area", regional=True, area=area_code, area_name=name)
        for prefix in prefixes:
            part = by_code[prefix]
            total.tps_total += part.tps_total
            total.tps_confirmed += part.tps_confirmed
            total.sah += part.sah
            total.ts += part.ts
            total.names = part.names
            for number, n in part.votes.items():
                total.votes[number] = total.votes.get(number, 0) + n
            for key, value in part.sections.items():
                total.sections[key] = total.sections.get(key, 0) + value
                total.sections_reported[key] = (
                    total.sections_reported.get(key, 0) + part.sections_reported[key]
                )
        out.append(total)
    return out


def area(session: Session, contest: Contest, code: str, name: str) -> Area:
    """One area with every total, candidates' votes included (within one dapil)."""
    return areas(session, contest, [(code, name, level_of(code))], candidates=True)[0]


def last_updated(
    session: Session, contest_code: str | None = None, region_code: str = NATIONAL
) -> datetime | None:
    """When the totals of a region (the country: any province; every contest: None) last
    changed: a few rows read, whatever the size of the country."""
    query = select(func.max(ResultTotal.updated_at))
    if contest_code is not None:
        query = query.where(ResultTotal.contest_code == contest_code)
    if region_code:
        query = query.where(ResultTotal.region_code == region_code)
    else:
        query = query.where(func.length(ResultTotal.region_code) == 2)
    moment = session.scalar(query)
    return None if moment is None else as_utc(moment)


def timeline(
    session: Session, contest_code: str, region_code: str = NATIONAL
) -> list[tuple[datetime, int]]:
    """Tallies confirmed per hour in the country ('') or one region."""
    rows = session.execute(
        select(ResultTimeline.hour, ResultTimeline.confirmed)
        .where(
            ResultTimeline.contest_code == contest_code,
            ResultTimeline.region_code == region_code,
            ResultTimeline.confirmed != 0,
        )
        .order_by(ResultTimeline.hour)
    )
    return [(_hour(hour), n) for hour, n in rows]


def contests_overview(session: Session) -> list[tuple[Contest, Area]]:
    ensure_region_stats(session)
    contests = session.scalars(select(Contest).order_by(Contest.position, Contest.code)).all()
    return [(c, area(session, c, NATIONAL, "Indonesia")) for c in contests]


def count_confirmed(session: Session, contest_code: str) -> int:
    """For tests and checks: confirmed tallies counted the slow way."""
    return int(
        session.scalar(
            select(func.count()).where(
                Submission.contest_code == contest_code,
                Submission.status == "confirmed",
                Submission.training.is_(False),
            )
        )
        or 0
    )
