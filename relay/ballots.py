"""What is on one TPS's ballot for one contest: the candidates or parties by ballot number,
each party's candidates in the TPS's electoral district (dapil), for a regional candidate
contest (DPD, governor, regent, mayor) the candidates of the TPS's area, and the C.Hasil sections
the election file requires. One query API for the grammar's rules, the conversation, the
forms and the results, so they all agree on what a complete tally of that TPS is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.models import AreaCandidate, Contest, Dapil, PartyCandidate

CANDIDATES, PARTIES = "candidates", "parties"
KINDS = (CANDIDATES, PARTIES)

# The C.Hasil's sections beyond the votes, by the SMS keys officers are trained on
# (DESIGN.md §6). Each section is optional unless the contest requires it.
VOTER_KEYS = ("DPT", "DPTB", "DPK", "PHP", "PDPT", "PDPTB", "PDPK")  # I. voters
BALLOT_KEYS = ("SSD", "SSR", "SSTD", "SS")  # II. ballots
DISABLED_KEYS = ("DIS", "PDIS")  # I. disabled voters registered / voting
SECTION_KEYS = (*VOTER_KEYS, *BALLOT_KEYS, *DISABLED_KEYS)
# `required_sections` names: what each requires to be present.
SECTIONS: dict[str, tuple[str, ...]] = {
    "voters": ("DPT", "DPTB", "DPK", "PHP"),  # PHP, or all of PDPT PDPTB PDPK
    "ballots": BALLOT_KEYS,
    "disabled": DISABLED_KEYS,
    "candidates": (),  # party contests: every candidate of every party, once
}
RESERVE = 0.02  # ballots delivered beyond the DPT (KPU: 2% of the DPT, rounded up)


def reserve_ballots(dpt: int) -> int:
    """Ballots available when the received count is not given: DPT plus the 2% reserve."""
    return dpt + math.ceil(dpt * RESERVE)


@dataclass(frozen=True)
class Ballot:
    """One contest as it is printed for one TPS."""

    contest: str
    kind: str  # CANDIDATES | PARTIES
    numbers: tuple[int, ...]  # candidates (or parties) by ballot number
    names: dict[int, str] = field(hash=False)
    dapil: str | None = None  # party contests with districts: the TPS's dapil
    # Party contests: each party's candidate numbers in this dapil (empty: parties only).
    party_candidates: dict[int, tuple[int, ...]] = field(default_factory=dict, hash=False)
    candidate_names: dict[tuple[int, int], str] = field(default_factory=dict, hash=False)
    required: frozenset[str] = frozenset()
    # Regional candidate contests: the TPS's area (a dapil row of the contest) whose list
    # `numbers` and `names` are; None for a contest with one nationwide list.
    area: str | None = None

    @property
    def is_party_contest(self) -> bool:
        return self.kind == PARTIES

    def requires(self, section: str) -> bool:
        return section in self.required


@dataclass(frozen=True)
class Listed:
    """A candidate (or party) as a page lists it: like `Candidate`, for an area's list too."""

    ballot_number: int
    name: str


def listed(ballot: Ballot | None, contest: Contest) -> list[Listed]:
    """What is on the ballot by number: the TPS's area list (regional contests), else the
    contest's own list (also when the contest is no longer held at the TPS)."""
    if ballot is not None and ballot.area is not None:
        return [Listed(n, ballot.names.get(n, "")) for n in ballot.numbers]
    return [Listed(c.ballot_number, c.name) for c in contest.candidates]


class Covering(Protocol):
    """A dapil or area: its code and the region prefixes it covers."""

    code: str
    regions: Any


D = TypeVar("D", bound=Covering)


def dapil_for(dapils: Iterable[D], tps_code: str) -> D | None:
    """The dapil whose region prefix matches the TPS code most closely."""
    best: tuple[int, D] | None = None
    for dapil in dapils:
        for prefix in dapil.regions or []:
            if tps_code.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), dapil)
    return best[1] if best else None


def contest_dapils(session: Session, contest_code: str) -> list[Dapil]:
    """The contest's dapils (party contests) or areas (regional candidate contests)."""
    return list(
        session.scalars(
            select(Dapil).where(Dapil.contest_code == contest_code).order_by(Dapil.code)
        )
    )


def area_candidates(session: Session, contest_code: str, area_code: str) -> dict[int, str]:
    """Ballot number → name of one area's list."""
    return {
        row.ballot_number: row.name
        for row in session.scalars(
            select(AreaCandidate)
            .where(AreaCandidate.contest_code == contest_code, AreaCandidate.area_code == area_code)
            .order_by(AreaCandidate.ballot_number)
        )
    }


def area_ballot(
    session: Session, contest_code: str, area_code: str, required: frozenset[str]
) -> Ballot:
    """A regional candidate contest's ballot in one of its areas: that area's list."""
    names = area_candidates(session, contest_code, area_code)
    return Ballot(contest_code, CANDIDATES, tuple(names), names, required=required, area=area_code)


def dapil_ballot(
    session: Session,
    contest_code: str,
    dapil_code: str,
    parties: tuple[tuple[int, ...], dict[int, str]],
    required: frozenset[str],
) -> Ballot:
    """A party contest's ballot in one dapil: the parties (`parties`: their numbers and
    names) and each party's candidates there."""
    numbers, names = parties
    lists: dict[int, list[int]] = {n: [] for n in numbers}
    candidate_names: dict[tuple[int, int], str] = {}
    for row in session.execute(
        select(PartyCandidate.party_number, PartyCandidate.candidate_number, PartyCandidate.name)
        .where(PartyCandidate.contest_code == contest_code, PartyCandidate.dapil_code == dapil_code)
        .order_by(PartyCandidate.party_number, PartyCandidate.candidate_number)
    ):
        lists.setdefault(row.party_number, []).append(row.candidate_number)
        candidate_names[(row.party_number, row.candidate_number)] = row.name
    return Ballot(
        contest_code,
        PARTIES,
        numbers,
        names,
        dapil=dapil_code,
        party_candidates={party: tuple(ks) for party, ks in lists.items()},
        candidate_names=candidate_names,
        required=required,
    )


def _candidate_ballot(
    session: Session,
    contest: Contest,
    tps_code: str,
    numbers: tuple[int, ...],
    names: dict[int, str],
    required: frozenset[str],
) -> Ballot | None:
    """A candidate contest's ballot: the nationwide list, or (a regional contest with areas)
    the list of the TPS's area; None when no area covers the TPS."""
    areas = contest_dapils(session, contest.code)
    if not areas:
        return Ballot(contest.code, CANDIDATES, numbers, names, required=required)
    area = dapil_for(areas, tps_code)
    if area is None:
        return None
    return area_ballot(session, contest.code, area.code, required)


def ballot_for(session: Session, contest: Contest, tps_code: str) -> Ballot | None:
    """The ballot of `contest` at TPS `tps_code`; None when the contest is not held there
    (outside its regions, or a party contest with dapils none of which covers the TPS)."""
    if not contest.applies_to(tps_code):
        return None
    numbers = tuple(c.ballot_number for c in contest.candidates)
    names = {c.ballot_number: c.name for c in contest.candidates}
    required = frozenset(contest.required_sections or ())
    if contest.kind != PARTIES:
        return _candidate_ballot(session, contest, tps_code, numbers, names, required)
    dapils = contest_dapils(session, contest.code)
    if not dapils:  # one nationwide party list, parties only
        return Ballot(contest.code, PARTIES, numbers, names, required=required)
    dapil = dapil_for(dapils, tps_code)
    if dapil is None:
        return None
    return dapil_ballot(session, contest.code, dapil.code, (numbers, names), required)
