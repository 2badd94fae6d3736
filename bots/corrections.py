"""`02=96` after a tally: change only the named numbers of the officer's pending tally."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.grammar import ParseError, Tally, parse
from relay.models import Officer, Submission

# A message that starts with a key=value pair is a correction, not a new tally.
_STARTS_WITH_PAIR = re.compile(
    r"^\s*(\d{1,3}|SAH|TS|T\.?S\.?|TIDAK\s*SAH|TDK\s*SAH)\s*[=:#]", re.IGNORECASE
)


def latest_pending(session: Session, officer: Officer, training: bool) -> Submission | None:
    """The officer's latest pending tally: a real one, or with `training` a simulated one."""
    return session.scalars(
        select(Submission)
        .where(
            Submission.officer_id == officer.id,
            Submission.status == "pending",
            Submission.training.is_(training),
        )
        .order_by(Submission.id.desc())
    ).first()


def as_correction(
    session: Session, officer: Officer, message: str, training: bool
) -> Tally | ParseError | None:
    """The pending tally with the message's numbers applied; None when it is no correction."""
    if not _STARTS_WITH_PAIR.match(message):
        return None
    pending = latest_pending(session, officer, training)
    if pending is None:
        return None
    prefix = f"{pending.contest_code} {pending.tps_code}"
    parsed = parse(f"{prefix} {message}", [pending.contest_code])
    if isinstance(parsed, ParseError) and parsed.code == "no_votes":
        # Only SAH/TS changed: the grammar wants one vote pair, so restate an unchanged one.
        ballot, votes = min(pending.votes_by_ballot().items())
        parsed = parse(f"{prefix} {message} {ballot:02d}={votes}", [pending.contest_code])
    if not isinstance(parsed, Tally):
        return parsed if isinstance(parsed, ParseError) else None
    return Tally(
        contest=pending.contest_code,
        tps_code=pending.tps_code,
        votes=pending.votes_by_ballot() | parsed.votes,
        sah=pending.sah if parsed.sah is None else parsed.sah,
        ts=pending.ts if parsed.ts is None else parsed.ts,
        readings=parsed.readings,
    )
