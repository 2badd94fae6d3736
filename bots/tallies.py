"""Tally lifecycle: received (pending) → confirmed, rejected or superseded.

A resend before confirmation replaces the pending tally; a confirmed tally is locked and
only the help desk can change it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bots.grammar import Tally
from bots.messages import text
from bots.replies import format_values, rule_failures
from bots.tally_rules import check_tally
from relay.audit import record
from relay.models import Contest, InboundMessage, Officer, Submission, Tps
from relay.receipts import new_receipt_code


def _now() -> datetime:
    return datetime.now(UTC)


def confirmed_for(session: Session, tps_code: str, contest_code: str) -> Submission | None:
    return session.scalar(
        select(Submission).where(
            Submission.tps_code == tps_code,
            Submission.contest_code == contest_code,
            Submission.status == "confirmed",
        )
    )


def _unique_receipt(session: Session) -> str:
    while True:
        code = new_receipt_code()
        if session.scalar(select(Submission.id).where(Submission.receipt_code == code)) is None:
            return code


def submit(session: Session, officer: Officer, inbound: InboundMessage, tally: Tally) -> str:
    """Check a parsed tally against the roster and the form's rules; store it if valid."""
    lang = officer.language
    tps = session.get(Tps, tally.tps_code)
    if tps is None:
        return text("unknown_tps", lang, tps=tally.tps_code)
    if not officer.may_report(tps):
        return text("not_your_tps", lang, tps=tps.code, scope=scope_text(officer))
    contest = session.get(Contest, tally.contest)
    if contest is None or not contest.applies_to(tps.code):
        held = [
            c.code
            for c in session.scalars(select(Contest).order_by(Contest.position))
            if c.applies_to(tps.code)
        ]
        return text(
            "contest_not_here", lang, contest=tally.contest, tps=tps.code, contests=" ".join(held)
        )
    numbers = [c.ballot_number for c in contest.candidates]
    failures = check_tally(tally, numbers, tps.registered_voters)
    if failures:
        record(
            session,
            officer_actor(officer),
            "tally_refused",
            "inbound",
            inbound.id,
            {"rules": [f.code for f in failures]},
        )
        return rule_failures(failures, lang, contest.code, tps.code, numbers)
    assert tally.sah is not None and tally.ts is not None
    values = format_values(tally.votes, tally.sah, tally.ts)
    readings = text("readings", lang, readings=" ".join(tally.readings)) if tally.readings else ""

    confirmed = confirmed_for(session, tps.code, contest.code)
    if confirmed is not None:
        return _against_locked(session, officer, inbound, tally, confirmed)

    pending = session.scalars(
        select(Submission).where(
            Submission.tps_code == tps.code,
            Submission.contest_code == contest.code,
            Submission.status == "pending",
        )
    ).all()
    submission = _new_submission(session, officer, inbound, tally, status="pending")
    for old in pending:
        old.status, old.decided_at = "superseded", _now()
        record(
            session,
            officer_actor(officer),
            "tally_superseded",
            "submission",
            old.id,
            {"by": submission.receipt_code},
        )
    record(
        session,
        officer_actor(officer),
        "tally_received",
        "submission",
        submission.id,
        {"receipt": submission.receipt_code, "values": values},
    )
    params = {
        "contest": contest.code,
        "tps": tps.code,
        "values": values,
        "receipt": submission.receipt_code,
    }
    if pending:
        return text("tally_replaced", lang, old=pending[-1].receipt_code, **params) + readings
    return text("tally_received", lang, **params) + readings


def _new_submission(
    session: Session,
    officer: Officer,
    inbound: InboundMessage,
    tally: Tally,
    status: str,
    reason: str | None = None,
) -> Submission:
    submission = Submission(
        receipt_code=_unique_receipt(session),
        tps_code=tally.tps_code,
        contest_code=tally.contest,
        officer_id=officer.id,
        inbound_id=inbound.id,
        source="text",
        votes={str(k): v for k, v in sorted(tally.votes.items())},
        sah=tally.sah,
        ts=tally.ts,
        status=status,
        reason=reason,
        decided_at=None if status == "pending" else _now(),
    )
    session.add(submission)
    session.flush()
    return submission


def _numbers(submission: Submission) -> tuple[dict[int, int], int, int]:
    return submission.votes_by_ballot(), submission.sah, submission.ts


def _against_locked(
    session: Session,
    officer: Officer,
    inbound: InboundMessage,
    tally: Tally,
    confirmed: Submission,
) -> str:
    params = {
        "contest": confirmed.contest_code,
        "tps": confirmed.tps_code,
        "receipt": confirmed.receipt_code,
    }
    if _numbers(confirmed) == (tally.votes, tally.sah, tally.ts):
        return text("locked_same", officer.language, **params)
    conflict = _new_submission(session, officer, inbound, tally, "rejected", "locked_conflict")
    record(
        session,
        officer_actor(officer),
        "tally_conflict",
        "submission",
        conflict.id,
        {"confirmed": confirmed.receipt_code, "receipt": conflict.receipt_code},
    )
    return text("locked_different", officer.language, **params)


def _pick_pending(session: Session, officer: Officer, receipt: str | None) -> Submission | None:
    query = select(Submission).where(
        Submission.officer_id == officer.id, Submission.status == "pending"
    )
    if receipt:
        query = query.where(Submission.receipt_code == receipt.upper())
    return session.scalars(query.order_by(Submission.id.desc())).first()


def confirm(session: Session, officer: Officer, receipt: str | None) -> str:
    lang = officer.language
    submission = _pick_pending(session, officer, receipt)
    if submission is None:
        key = "receipt_not_pending" if receipt else "nothing_pending"
        return text(key, lang, receipt=receipt)
    params = {
        "contest": submission.contest_code,
        "tps": submission.tps_code,
        "receipt": submission.receipt_code,
    }
    confirmed = confirmed_for(session, submission.tps_code, submission.contest_code)
    if confirmed is None:
        try:
            with session.begin_nested():
                submission.status, submission.decided_at = "confirmed", _now()
        except IntegrityError:  # another officer confirmed this TPS and contest just now
            session.refresh(submission)
            confirmed = confirmed_for(session, submission.tps_code, submission.contest_code)
    if confirmed is not None:
        same = _numbers(confirmed) == _numbers(submission)
        submission.status, submission.decided_at = "rejected", _now()
        submission.reason = "locked_same" if same else "locked_conflict"
        record(
            session,
            officer_actor(officer),
            "tally_conflict" if not same else "tally_duplicate",
            "submission",
            submission.id,
            {"confirmed": confirmed.receipt_code},
        )
        key = "locked_same" if same else "locked_different"
        return text(
            key,
            lang,
            contest=confirmed.contest_code,
            tps=confirmed.tps_code,
            receipt=confirmed.receipt_code,
        )
    record(
        session,
        officer_actor(officer),
        "tally_confirmed",
        "submission",
        submission.id,
        {"receipt": submission.receipt_code},
    )
    reply = text("confirmed", lang, **params)
    others = session.scalars(
        select(Submission.receipt_code)
        .where(Submission.officer_id == officer.id, Submission.status == "pending")
        .order_by(Submission.id)
    ).all()
    if others:
        reply += text("still_pending", lang, receipts=" ".join(others))
    return reply


def cancel(session: Session, officer: Officer, receipt: str | None) -> str:
    lang = officer.language
    submission = _pick_pending(session, officer, receipt)
    if submission is None:
        key = "receipt_not_pending" if receipt else "nothing_pending"
        return text(key, lang, receipt=receipt)
    submission.status, submission.decided_at, submission.reason = "rejected", _now(), "cancelled"
    record(
        session,
        officer_actor(officer),
        "tally_cancelled",
        "submission",
        submission.id,
        {"receipt": submission.receipt_code},
    )
    return text(
        "cancelled",
        lang,
        contest=submission.contest_code,
        tps=submission.tps_code,
        receipt=submission.receipt_code,
    )


def scope_text(officer: Officer) -> str:
    if officer.role == "kpps":
        return text("scope_tps", officer.language, code=officer.tps_code)
    return text("scope_village", officer.language, code=officer.village_code)


def officer_actor(officer: Officer) -> str:
    return f"officer:{officer.id}"
