"""What the roster knows about where an officer reports: their own TPS code(s), and the
contests on a TPS's ballot. A reply that refuses a TPS code or a contest names these, so the
officer can resend at once instead of calling the help desk."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.grammar import ParseError
from bots.messages import text
from bots.replies import parse_error
from relay.ballots import ballot_for
from relay.models import Contest, Officer, Tps

LISTED = 3  # codes named one by one before a range is given instead
_TPS_IN_TEXT = re.compile(r"(?<![0-9])[0-9](?:[./-]*[0-9]){12}(?![0-9])")


def own_codes(session: Session, officer: Officer) -> list[str]:
    """A KPPS officer's TPS; a PPS officer's village's TPSs, in order."""
    if officer.role == "kpps" and officer.tps_code:
        return [officer.tps_code]
    query = select(Tps.code).where(Tps.village_code == officer.village_code).order_by(Tps.code)
    return list(session.scalars(query))


def own_tps_text(session: Session, officer: Officer) -> str:
    """`3576011001001`, or for a village `3576011001001 s.d. 003 (12 TPS)`."""
    codes = own_codes(session, officer)
    if len(codes) <= LISTED:
        return " ".join(codes) or officer.village_code
    return text(
        "own_tps_range", officer.language, first=codes[0], last=codes[-1][-3:], count=len(codes)
    )


def contests_at(session: Session, tps_code: str) -> list[str]:
    """The contests on the ballot at a TPS (regions and dapils decide)."""
    return [
        contest.code
        for contest in session.scalars(select(Contest).order_by(Contest.position))
        if ballot_for(session, contest, tps_code) is not None
    ]


def tps_of_message(session: Session, officer: Officer, message: str) -> str | None:
    """The TPS a message is about: the code it names when known, else the officer's own."""
    named = _TPS_IN_TEXT.search(message)
    if named:
        code = re.sub(r"[./-]", "", named.group(0))
        if session.get(Tps, code) is not None:
            return code
    codes = own_codes(session, officer)
    return codes[0] if codes else None


def error_reply(
    session: Session, officer: Officer, error: ParseError, message: str, hint: str
) -> str:
    """The grammar's error, naming the officer's own TPS code(s) when the code is wrong or
    missing, and only the contests on that TPS's ballot when the contest is unknown."""
    own = own_tps_text(session, officer) if error.code in ("bad_tps", "missing_tps") else ""
    known: list[str] = []
    if error.code == "unknown_contest":
        tps = tps_of_message(session, officer, message)
        known = contests_at(session, tps) if tps else []
    return parse_error(error, officer.language, hint, own, known)
