"""`02=96` after a tally: change only the named numbers of the officer's pending tally."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.grammar import SECTION_KEYS, ParseError, Tally, parse
from bots.tallies import tally_of
from relay.models import Officer, Submission

# A message that starts with a key=value pair is a correction, not a new tally.
_STARTS_WITH_PAIR = re.compile(
    r"^\s*(\d{1,3}(\.\d{1,3})?|SAH|TS|T\.?S\.?|TIDAK\s*SAH|TDK\s*SAH|"
    + "|".join(SECTION_KEYS)
    + r")\s*[=:#]",
    re.IGNORECASE,
)


def looks_like_correction(message: str) -> bool:
    """Starts with a key=value pair: `02=96`, `SAH: 256`."""
    return bool(_STARTS_WITH_PAIR.match(message))


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
    if not isinstance(parsed, Tally):
        return parsed if isinstance(parsed, ParseError) else None
    return tally_of(pending).updated(parsed)
