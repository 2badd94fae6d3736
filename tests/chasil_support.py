"""Contests of the whole C.Hasil for tests, made with the models directly (so a test does not
depend on what the demo election holds): a contest's kind, numbers, required sections, and
for party contests its dapils and each party's candidate list per dapil."""

from __future__ import annotations

from sqlalchemy import delete, select

from relay.db import session_scope
from relay.models import Candidate, Contest, Dapil, PartyCandidate


def set_contest(
    code: str,
    numbers: list[int],
    *,
    kind: str = "candidates",
    required: list[str] | None = None,
    regions: list[str] | None = None,
    dapils: dict[str, list[str]] | None = None,
    lists: dict[str, dict[int, list[int]]] | None = None,
) -> None:
    """Create or replace contest `code`: its ballot `numbers`, and for a party contest the
    `dapils` {code: [region prefixes]} with `lists` {dapil: {party: [candidate numbers]}}."""
    with session_scope() as session:
        contest = session.get(Contest, code)
        if contest is None:
            position = len(session.scalars(select(Contest.code)).all())
            contest = Contest(code=code, name=f"Contest {code}", position=position)
            session.add(contest)
        contest.kind = kind
        contest.required_sections = list(required or [])
        contest.region_scope = list(regions or [])
        session.execute(delete(PartyCandidate).where(PartyCandidate.contest_code == code))
        session.execute(delete(Dapil).where(Dapil.contest_code == code))
        session.execute(delete(Candidate).where(Candidate.contest_code == code))
        session.flush()
        for number in numbers:
            session.add(Candidate(contest_code=code, ballot_number=number, name=f"{code} {number}"))
        for dapil, prefixes in (dapils or {}).items():
            session.add(Dapil(contest_code=code, code=dapil, name=dapil, regions=prefixes))
            for party, candidates in (lists or {}).get(dapil, {}).items():
                for k in candidates:
                    session.add(
                        PartyCandidate(
                            contest_code=code,
                            dapil_code=dapil,
                            party_number=party,
                            candidate_number=k,
                            name=f"Calon {party}.{k} {dapil}",
                        )
                    )
