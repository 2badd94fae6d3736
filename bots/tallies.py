"""Tally lifecycle: received (pending) → confirmed, rejected or superseded.

A resend before confirmation replaces the pending tally; a confirmed tally is locked and
only the help desk can change it. A tally sent through a training channel (the simulator)
lives in its own world (relay.training): it only meets other training tallies, is never
counted, and every reply about it says so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bots.grammar import Tally
from bots.messages import text
from bots.replies import failure_list, format_values, rule_failures
from bots.reply import Reply
from bots.tally_rules import RuleFailure, check_tally
from relay import results
from relay.locks import lock_row, locked
from relay.models import Contest, InboundMessage, Officer, Submission, Tps
from relay.receipts import new_receipt_code
from relay.training import is_training, record_for


def _now() -> datetime:
    return datetime.now(UTC)


def confirmed_for(
    session: Session, tps_code: str, contest_code: str, training: bool = False, lock: bool = False
) -> Submission | None:
    """The confirmed tally of a TPS and contest: the real one, or with `training` the
    simulator's. `lock`: locked until the transaction ends, and read again (relay.locks)."""
    query = select(Submission).where(
        Submission.tps_code == tps_code,
        Submission.contest_code == contest_code,
        Submission.status == "confirmed",
        Submission.training.is_(training),
    )
    return session.scalar(locked(session, query) if lock else query)


def _unique_receipt(session: Session) -> str:
    while True:
        code = new_receipt_code()
        if session.scalar(select(Submission.id).where(Submission.receipt_code == code)) is None:
            return code


def confirm_buttons(language: str, receipt: str) -> tuple[tuple[str, str], ...]:
    return (
        (text("button_confirm", language), f"YA {receipt}"),
        (text("button_correct", language), f"KOREKSI {receipt}"),
    )


@dataclass(frozen=True)
class PhotoReading:
    """What the photo reader adds to a tally: which numbers were hard to read, and the
    page with the values drawn on it."""

    uncertain: frozenset[str] = frozenset()  # "01", "SAH", "TS", …
    annotated_key: str | None = None


def _where_allowed(session: Session, officer: Officer, tally: Tally) -> tuple[Tps, Contest] | str:
    """The TPS and contest when this officer may report this tally, else the reason why not."""
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
    return tps, contest


def submit(
    session: Session,
    officer: Officer,
    inbound: InboundMessage,
    tally: Tally,
    photo: PhotoReading | None = None,
) -> Reply | str:
    """Check a tally against the roster and the form's rules; store it if it may be stored.

    A typed tally that breaks a rule is refused outright. A photo reading is kept pending
    even then, so the officer can fix the misread numbers; it cannot be confirmed until the
    rules hold.
    """
    return marked(_submit(session, officer, inbound, tally, photo), inbound, officer.language)


def marked(reply: Reply | str, inbound: InboundMessage, language: str) -> Reply | str:
    """A reply about a training tally starts with the training mark."""
    if not is_training(inbound.channel):
        return reply
    mark = text("training_mark", language)
    if isinstance(reply, Reply):
        return dataclasses.replace(reply, text=mark + reply.text)
    return mark + reply


def _submit(
    session: Session,
    officer: Officer,
    inbound: InboundMessage,
    tally: Tally,
    photo: PhotoReading | None,
) -> Reply | str:
    lang = officer.language
    training = is_training(inbound.channel)
    allowed = _where_allowed(session, officer, tally)
    if isinstance(allowed, str):
        return allowed
    tps, contest = allowed
    numbers = [c.ballot_number for c in contest.candidates]
    failures = check_tally(tally, numbers, tps.registered_voters)
    if failures and (photo is None or tally.sah is None or tally.ts is None):
        record_for(
            session,
            inbound,
            officer,
            "tally_refused",
            "inbound",
            inbound.id,
            {"rules": [f.code for f in failures]},
        )
        return rule_failures(failures, lang, contest.code, tps.code, numbers)
    assert tally.sah is not None and tally.ts is not None

    confirmed = confirmed_for(session, tps.code, contest.code, training)
    if confirmed is not None:
        return _against_locked(session, officer, inbound, tally, confirmed)

    pending = session.scalars(
        select(Submission).where(
            Submission.tps_code == tps.code,
            Submission.contest_code == contest.code,
            Submission.status == "pending",
            Submission.training.is_(training),
        )
    ).all()
    submission = _new_submission(
        session,
        officer,
        inbound,
        tally,
        status="pending",
        reason="checks_failed" if failures else None,
    )
    if photo is not None:
        submission.source = "photo"
    for old in pending:
        old.status, old.decided_at = "superseded", _now()
        record_for(
            session,
            inbound,
            officer,
            "tally_superseded",
            "submission",
            old.id,
            {"by": submission.receipt_code},
        )
    values = format_values(tally.votes, tally.sah, tally.ts)
    record_for(
        session,
        inbound,
        officer,
        "tally_received",
        "submission",
        submission.id,
        {"receipt": submission.receipt_code, "values": values, "source": submission.source},
    )
    buttons = confirm_buttons(lang, submission.receipt_code)
    params = {"contest": contest.code, "tps": tps.code, "receipt": submission.receipt_code}
    if photo is not None:
        marked = format_values(tally.votes, tally.sah, tally.ts, photo.uncertain)
        message = text(
            "photo_read",
            lang,
            values=marked,
            uncertain=text("photo_uncertain", lang) if photo.uncertain else "",
            **params,
        )
        if failures:
            message += text(
                "photo_checks_failed",
                lang,
                failures=failure_list(failures, lang, contest.code, numbers),
            )
        return Reply(message, buttons=buttons, photo=photo.annotated_key)
    readings = text("readings", lang, readings=" ".join(tally.readings)) if tally.readings else ""
    if pending:
        message = text(
            "tally_replaced", lang, old=pending[-1].receipt_code, values=values, **params
        )
    else:
        message = text("tally_received", lang, values=values, **params)
    return Reply(message + readings, buttons=buttons)


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
        candidate_votes={f"{p}.{k}": v for (p, k), v in sorted(tally.candidate_votes.items())},
        sections=dict(tally.sections),
        sah=tally.sah,
        ts=tally.ts,
        status=status,
        reason=reason,
        decided_at=None if status == "pending" else _now(),
        training=is_training(inbound.channel),
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
    record_for(
        session,
        inbound,
        officer,
        "tally_conflict",
        "submission",
        conflict.id,
        {"confirmed": confirmed.receipt_code, "receipt": conflict.receipt_code},
    )
    return text("locked_different", officer.language, **params)


def _pick_pending(
    session: Session, officer: Officer, receipt: str | None, training: bool
) -> Submission | None:
    query = select(Submission).where(
        Submission.officer_id == officer.id,
        Submission.status == "pending",
        Submission.training.is_(training),
    )
    if receipt:
        query = query.where(Submission.receipt_code == receipt.upper())
    return session.scalars(query.order_by(Submission.id.desc())).first()


def confirm(
    session: Session, officer: Officer, inbound: InboundMessage, receipt: str | None
) -> str:
    """`YA`: confirm the officer's pending tally (of the same world as the message)."""
    return str(marked(_confirm(session, officer, inbound, receipt), inbound, officer.language))


def _confirm(
    session: Session, officer: Officer, inbound: InboundMessage, receipt: str | None
) -> str:
    lang = officer.language
    training = is_training(inbound.channel)
    submission = _pick_pending(session, officer, receipt, training)
    if submission is not None:
        # Locked and read again: the numbers counted are the ones committed last, even if an
        # operator changed this pending tally a moment ago (relay.locks).
        submission = lock_row(session, Submission, submission.id)
    if submission is None or submission.status != "pending":
        key = "receipt_not_pending" if receipt else "nothing_pending"
        return text(key, lang, receipt=receipt)
    params = {
        "contest": submission.contest_code,
        "tps": submission.tps_code,
        "receipt": submission.receipt_code,
    }
    failures = _failures_of(session, submission)
    if failures:  # a photo reading that does not add up: never confirmed as it is
        contest = session.get_one(Contest, submission.contest_code)
        numbers = [c.ballot_number for c in contest.candidates]
        return text(
            "confirm_blocked",
            lang,
            failures=failure_list(failures, lang, contest.code, numbers),
            **params,
        )
    confirmed = confirmed_for(session, submission.tps_code, submission.contest_code, training)
    if confirmed is None:
        try:
            with session.begin_nested():
                submission.status, submission.decided_at = "confirmed", _now()
        except IntegrityError:  # another officer confirmed this TPS and contest just now
            session.refresh(submission)
            confirmed = confirmed_for(
                session, submission.tps_code, submission.contest_code, training
            )
    if confirmed is not None:
        same = _numbers(confirmed) == _numbers(submission)
        submission.status, submission.decided_at = "rejected", _now()
        submission.reason = "locked_same" if same else "locked_conflict"
        record_for(
            session,
            inbound,
            officer,
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
    results.tally_confirmed(session, submission)  # the dashboard's totals, same transaction
    record_for(
        session,
        inbound,
        officer,
        "tally_confirmed",
        "submission",
        submission.id,
        {"receipt": submission.receipt_code},
    )
    reply = text("confirmed", lang, **params)
    others = session.scalars(
        select(Submission.receipt_code)
        .where(
            Submission.officer_id == officer.id,
            Submission.status == "pending",
            Submission.training.is_(training),
        )
        .order_by(Submission.id)
    ).all()
    if others:
        reply += text("still_pending", lang, receipts=" ".join(others))
    return reply


def _failures_of(session: Session, submission: Submission) -> list[RuleFailure]:
    contest = session.get_one(Contest, submission.contest_code)
    tps = session.get_one(Tps, submission.tps_code)
    tally = Tally(
        submission.contest_code,
        submission.tps_code,
        submission.votes_by_ballot(),
        submission.sah,
        submission.ts,
    )
    return check_tally(tally, [c.ballot_number for c in contest.candidates], tps.registered_voters)


def cancel(session: Session, officer: Officer, inbound: InboundMessage, receipt: str | None) -> str:
    """`BATAL`: discard the officer's pending tally (of the same world as the message)."""
    return str(marked(_cancel(session, officer, inbound, receipt), inbound, officer.language))


def _cancel(
    session: Session, officer: Officer, inbound: InboundMessage, receipt: str | None
) -> str:
    lang = officer.language
    submission = _pick_pending(session, officer, receipt, is_training(inbound.channel))
    if submission is None:
        key = "receipt_not_pending" if receipt else "nothing_pending"
        return text(key, lang, receipt=receipt)
    submission.status, submission.decided_at, submission.reason = "rejected", _now(), "cancelled"
    record_for(
        session,
        inbound,
        officer,
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
