"""Officers' requests to change a confirmed tally, as structured review items.

`BANTUAN 6MFHDW 01=51` (or "BANTUAN 6MFHDW salah ketik, 01 harusnya 51") names a confirmed
tally by its receipt and says which numbers should change. That is no question for the FAQ
and no free text for an operator to retype: it becomes a tally with the changed numbers
(a `locked_conflict` submission, like a resend of different numbers) and a `change_request`
item in the review queue, whose detail lists the requested changes. An operator proposes
accepting it and a supervisor approves (bots.review, bots.approvals), as for any conflict.
"""

from __future__ import annotations

import dataclasses
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.messages import text
from bots.replies import format_values
from bots.tallies import _new_submission, tally_of
from relay.models import InboundMessage, Officer, Submission
from relay.receipts import looks_like_receipt
from relay.training import is_training, record_for

# "01=51", "01: 51", "01 harusnya 51", "SAH jadi 256", "SAH 256", "02 should be 96", "TS -> 4".
_CHANGE = re.compile(
    r"(?<![\w.])(?:(\d{1,2}|SAH|TS)\s*"
    r"(?:=|:|->|HARUSNYA|SEHARUSNYA|MESTINYA|SEMESTINYA|MENJADI|JADI|SHOULD\s+BE|TO)"
    r"|(SAH|TS)\s)\s*(\d{1,7})(?![\w.])",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[0-9A-Za-z]+")


def changes_in(message: str) -> dict[str, int]:
    """The numbers the message asks for, by key ("01", "SAH", "TS"); {} when none."""
    found: dict[str, int] = {}
    for key, bare, value in _CHANGE.findall(message):
        key = (key or bare).upper()
        found[f"{int(key):02d}" if key.isdigit() else key] = int(value)
    return found


def _receipts(message: str) -> list[str]:
    return [t.upper() for t in _TOKEN.findall(message) if looks_like_receipt(t)]


def _show(changes: dict[str, int]) -> str:
    return " ".join(f"{key}={value}" for key, value in changes.items())


def handle(
    session: Session, inbound: InboundMessage, officer: Officer, message: str, language: str
) -> str | None:
    """The reply to a change request, or None when the message asks for no change."""
    changes = changes_in(message)
    if not changes:
        return None
    training = is_training(inbound.channel)
    mine = select(Submission).where(
        Submission.officer_id == officer.id, Submission.training.is_(training)
    )
    named = _receipts(message)
    target = session.scalars(mine.where(Submission.receipt_code.in_(named))).first()
    shown = _show(changes)
    if target is None:
        # A code with a digit is surely meant as one (a word like DATANG is not).
        meant = next((code for code in named if any(ch.isdigit() for ch in code)), None)
        if meant is not None:
            return text("change_request_unknown", language, receipt=meant, changes=shown)
        confirmed = session.scalars(mine.where(Submission.status == "confirmed")).all()
        if not confirmed:
            return None  # no tally to change: a question for the help desk
        if len(confirmed) > 1:
            return text("change_request_which", language, changes=shown)
        target = confirmed[0]
    if target.status == "pending":
        return text("change_request_pending", language, receipt=target.receipt_code, changes=shown)
    if target.status != "confirmed":
        return text("change_request_unknown", language, receipt=target.receipt_code, changes=shown)
    return _request(session, inbound, officer, target, changes, message, language)


def _request(
    session: Session,
    inbound: InboundMessage,
    officer: Officer,
    confirmed: Submission,
    changes: dict[str, int],
    message: str,
    language: str,
) -> str:
    params = {
        "contest": confirmed.contest_code,
        "tps": confirmed.tps_code,
        "receipt": confirmed.receipt_code,
        "changes": _show(changes),
    }
    tally = tally_of(confirmed)
    votes, sah, ts = dict(tally.votes), tally.sah, tally.ts
    for key, value in changes.items():
        if key == "SAH":
            sah = value
        elif key == "TS":
            ts = value
        elif int(key) in votes:
            votes[int(key)] = value
        else:
            return text("change_request_bad_key", language, key=key, **params)
    changed = dataclasses.replace(tally, votes=votes, sah=sah, ts=ts)
    if changed.form() == tally.form():
        return text("change_request_same", language, **params)
    from bots import review  # here: bots.review imports bots.helpdesk, which imports us

    asked = _new_submission(session, officer, inbound, changed, "rejected", "locked_conflict")
    failures = review.check_values(session, asked, *_totals(asked))
    item = review.open_item(
        session,
        "change_request",
        submission_id=asked.id,
        other_submission_id=confirmed.id,
        detail={
            "source": "helpdesk",
            "receipt": confirmed.receipt_code,
            "changes": changes,
            "before": {key: _value(confirmed, key) for key in changes},
            "message": message.strip()[:500],
            "checks": [failure.code for failure in failures],
        },
    )
    record_for(
        session,
        inbound,
        officer,
        "change_requested",
        "review_item",
        item.id,
        {
            "confirmed": confirmed.receipt_code,
            "receipt": asked.receipt_code,
            "changes": changes,
            "values": format_values(votes, sah, ts),
        },
    )
    return text("change_request_opened", language, item=item.id, **params)


def _totals(submission: Submission) -> tuple[dict[int, int], int, int]:
    return submission.votes_by_ballot(), submission.sah or 0, submission.ts or 0


def _value(submission: Submission, key: str) -> int | None:
    if key == "SAH":
        return submission.sah
    if key == "TS":
        return submission.ts
    return submission.own_votes_by_ballot().get(int(key))
