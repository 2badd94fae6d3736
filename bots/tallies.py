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

from sqlalchemy import Insert, Select, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from bots.grammar import SECTION_KEYS, Tally
from bots.messages import text
from bots.own_tps import contests_at, own_tps_text
from bots.replies import (
    failure_list,
    missing_keys,
    missing_list,
    rule_failures,
    tally_values,
    warning_list,
)
from bots.reply import Reply
from bots.review_closing import close_items_of
from bots.tally_rules import (
    RuleFailure,
    check_tally,
    incomplete,
    inconsistent,
    tally_warnings,
)
from relay import catalogue, published, results
from relay.ballots import Ballot
from relay.direct import DirectStatement
from relay.locks import lock_row, locked, locking, take_write_lock
from relay.metrics import count_event
from relay.models import InboundMessage, Officer, Submission, Tps, as_utc, utcnow
from relay.receipts import new_receipt_code
from relay.training import is_training, record_for


def _now() -> datetime:
    return datetime.now(UTC)


# The turn's reads of a TPS's tallies, built once (a statement made per call cost more to
# build and key than to run); the `training` world is a literal in each, as it was.
def _of_tps(statuses: tuple[str, ...], training: bool) -> Select[tuple[Submission]]:
    return select(Submission).where(
        Submission.tps_code == bindparam("tps_code"),
        Submission.contest_code == bindparam("contest_code"),
        Submission.status.in_(statuses) if len(statuses) > 1 else Submission.status == statuses[0],
        Submission.training.is_(training),
    )


_CONFIRMED = {training: _of_tps(("confirmed",), training) for training in (False, True)}
_CONFIRMED_AND_PENDING = {
    training: _of_tps(("confirmed", "pending"), training).order_by(Submission.id)
    for training in (False, True)
}
_CONFIRMED_AND_PENDING_LOCKED = {
    training: locking(query) for training, query in _CONFIRMED_AND_PENDING.items()
}


def _insert_unless_receipt_taken(dialect: type[postgresql.Insert] | type[sqlite.Insert]) -> Insert:
    """INSERT … ON CONFLICT (receipt_code) DO NOTHING RETURNING id: no row back when the
    new receipt code is taken. One statement where a look-up of the code preceded it."""
    table = Submission.__table__
    return (
        dialect(table)
        .on_conflict_do_nothing(index_elements=[table.c.receipt_code])
        .returning(table.c.id)
    )


_INSERT_SUBMISSION = {
    "postgresql": DirectStatement(_insert_unless_receipt_taken(postgresql.Insert)),
    "sqlite": DirectStatement(_insert_unless_receipt_taken(sqlite.Insert)),
}


def confirmed_for(
    session: Session, tps_code: str, contest_code: str, training: bool = False, lock: bool = False
) -> Submission | None:
    """The confirmed tally of a TPS and contest: the real one, or with `training` the
    simulator's. `lock`: locked until the transaction ends, and read again (relay.locks)."""
    query = _CONFIRMED[bool(training)]
    params = {"tps_code": tps_code, "contest_code": contest_code}
    return session.scalar(locked(session, query) if lock else query, params)


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


def _where_allowed(session: Session, officer: Officer, tally: Tally) -> tuple[Tps, Ballot] | str:
    """The TPS and the contest's ballot there when this officer may report this tally, else
    the reason why not. The contests and their lists come from relay.catalogue."""
    lang = officer.language
    # Locked (relay.locks), even when the turn or the photo job read it already: two tallies
    # of one TPS at once (two first sends, a resend racing a resend) queue here, so the
    # second reads the first's pending tally and replaces it instead of both staying pending.
    tps = lock_row(session, Tps, tally.tps_code)
    if tps is None:
        return text("unknown_tps", lang, tps=tally.tps_code, own=own_tps_text(session, officer))
    if not officer.may_report(tps):
        return text("not_your_tps", lang, tps=tps.code, own=own_tps_text(session, officer))
    ballot = catalogue.current(session).ballot(session, tally.contest, tps.code)
    if ballot is None:
        held = " ".join(contests_at(session, tps.code))
        return text("contest_not_here", lang, contest=tally.contest, tps=tps.code, contests=held)
    return tps, ballot


def tally_of(submission: Submission) -> Tally:
    """A stored tally as the grammar's Tally (votes as sent: a party's own votes)."""
    return Tally(
        submission.contest_code,
        submission.tps_code,
        submission.own_votes_by_ballot(),
        submission.sah,
        submission.ts,
        (),
        submission.candidate_votes_by_number(),
        {str(k): int(v) for k, v in (submission.sections or {}).items()},
    )


def same_form(a: Submission, b: Submission) -> bool:
    """Whether two tallies carry the same numbers on every row of the form."""
    return tally_of(a).form() == tally_of(b).form()


def same_form_as(stored: Submission, tally: Tally) -> bool:
    """Whether a tally resends exactly the numbers of a stored one (not a correction)."""
    return tally_of(stored).form() == tally.form()


def submit(
    session: Session,
    officer: Officer,
    inbound: InboundMessage,
    tally: Tally,
    photo: PhotoReading | None = None,
) -> Reply | str:
    """Check a tally against the roster and the form's rules; store it if it may be stored.

    A typed tally whose numbers contradict each other is refused outright. A typed tally that
    lacks a part of the form completes the TPS's pending tally of the contest (or, when that
    is confirmed, is compared with it); kept alone it waits for the rest and cannot be
    confirmed. A photo reading is kept pending even when it breaks a rule, so the officer
    can fix the misread numbers; it cannot be confirmed until the rules hold.
    """
    return marked(_submit(session, officer, inbound, tally, photo).reply, inbound, officer.language)


@dataclass(frozen=True)
class Submitted:
    """What submitting a tally did: the reply, and the row it stored (pending, or rejected
    as a conflict with the confirmed tally), if any."""

    reply: Reply | str
    stored: Submission | None = None


@dataclass(frozen=True)
class Known:
    """The confirmed and pending tallies of a TPS and contest (confirmed_and_pending), as
    the caller read them in the same transaction: submit need not read them again."""

    tps_code: str
    contest: str
    confirmed: Submission | None
    pending: list[Submission]


def submit_reading(
    session: Session,
    officer: Officer,
    inbound: InboundMessage,
    tally: Tally,
    photo: PhotoReading,
    known: Known | None = None,
) -> Submitted:
    """submit() for a photo's reading, with the row it stored."""
    done = _submit(session, officer, inbound, tally, photo, known)
    return dataclasses.replace(done, reply=marked(done.reply, inbound, officer.language))


def confirmed_and_pending(session: Session, tps_code: str, contest: str, training: bool) -> Known:
    """The confirmed tally and the pending ones (oldest first) of a TPS and contest, in one
    statement."""
    confirmed, pending = _confirmed_and_pending(session, tps_code, contest, training)
    return Known(tps_code, contest, confirmed, pending)


def marked(reply: Reply | str, inbound: InboundMessage, language: str) -> Reply | str:
    """A reply about a training tally starts with the training mark."""
    if not is_training(inbound.channel):
        return reply
    mark = text("training_mark", language)
    if isinstance(reply, Reply):
        return dataclasses.replace(reply, text=mark + reply.text)
    return mark + reply


def _confirmed_and_pending(
    session: Session, tps_code: str, contest: str, training: bool, lock: bool = False
) -> tuple[Submission | None, list[Submission]]:
    """confirmed_for and the pending tallies (oldest first) of a TPS and contest, read in
    one statement. `lock`: locked until the transaction ends, and read again (relay.locks)."""
    params = {"tps_code": tps_code, "contest_code": contest}
    if lock:
        take_write_lock(session)
        query = _CONFIRMED_AND_PENDING_LOCKED[bool(training)]
    else:
        query = _CONFIRMED_AND_PENDING[bool(training)]
    confirmed, pending = None, []
    for submission in session.scalars(query, params):
        if submission.status == "confirmed":
            confirmed = confirmed or submission
        else:
            pending.append(submission)
    return confirmed, pending


def _submit(
    session: Session,
    officer: Officer,
    inbound: InboundMessage,
    tally: Tally,
    photo: PhotoReading | None,
    known: Known | None = None,
) -> Submitted:
    lang = officer.language
    training = is_training(inbound.channel)
    allowed = _where_allowed(session, officer, tally)
    if isinstance(allowed, str):
        return Submitted(allowed)
    tps, ballot = allowed
    contest = ballot.contest
    numbers = list(ballot.numbers)
    if known is not None and (known.tps_code, known.contest) == (tps.code, contest):
        confirmed, pending = known.confirmed, list(known.pending)
    else:
        confirmed, pending = _confirmed_and_pending(session, tps.code, contest, training)
    if pending:
        # This tally would supersede them: locked and read again first, so a `YA` confirming
        # one at this moment is seen (then this is a conflict), never overwritten.
        confirmed, pending = _confirmed_and_pending(session, tps.code, contest, training, lock=True)
    failures = check_tally(tally, ballot, tps.registered_voters)
    base: Submission | None = None
    if incomplete(failures) and photo is None:  # a part: it completes what is there
        base = confirmed if confirmed is not None else (pending[-1] if pending else None)
    if base is not None:
        tally = tally_of(base).updated(tally)
        failures = check_tally(tally, ballot, tps.registered_voters)
    wrong = inconsistent(failures)
    if wrong and not training:
        count_event("rule_failures", [failure.code for failure in wrong])
    if wrong and photo is None:
        record_for(
            session,
            inbound,
            officer,
            "tally_refused",
            "inbound",
            inbound.id,
            {"rules": [f.code for f in wrong]},
        )
        stands = pending[-1].receipt_code if pending else None
        tail = text("pending_stands", lang, receipt=stands) if stands else ""
        tail += text("rule_next", lang)
        return Submitted(rule_failures(wrong, lang, contest, tps.code, numbers, tail))
    source = "text" if photo is None else "photo"
    if confirmed is not None:
        return _against_locked(session, officer, inbound, tally, confirmed, source)
    if pending and photo is None and not failures and same_form_as(pending[-1], tally):
        receipt = pending[-1].receipt_code
        message = text("same_as_pending", lang, contest=contest, tps=tps.code, receipt=receipt)
        return Submitted(Reply(message, buttons=confirm_buttons(lang, receipt)))

    missing = incomplete(failures)
    reason = "checks_failed" if wrong else "incomplete" if missing else None
    submission = _new_submission(session, officer, inbound, tally, "pending", reason, source)
    close_items_of(session, pending, "superseded", submission.receipt_code)
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
    values = tally_values(tally)
    record_for(
        session,
        inbound,
        officer,
        "tally_received",
        "submission",
        submission.id,
        {
            "receipt": submission.receipt_code,
            "values": values,
            "source": submission.source,
            "missing": missing_keys(missing),
        },
    )
    warnings = [] if missing else tally_warnings(tally, tps.registered_voters)
    if warnings:
        _open_warning(session, submission, warnings)
    buttons = () if missing else confirm_buttons(lang, submission.receipt_code)
    params = {"contest": contest, "tps": tps.code, "receipt": submission.receipt_code}
    if photo is not None:
        message = text(
            "photo_read",
            lang,
            values=tally_values(tally, photo.uncertain),
            uncertain=text("photo_uncertain", lang) if photo.uncertain else "",
            **params,
        )
        if failures:
            message += text(
                "photo_checks_failed",
                lang,
                failures=failure_list(failures, lang, contest, numbers),
            )
        buttons = confirm_buttons(lang, submission.receipt_code)
        return Submitted(Reply(message, buttons=buttons, photo=photo.annotated_key), submission)
    readings = text("readings", lang, readings=" ".join(tally.readings)) if tally.readings else ""
    old = pending[-1].receipt_code if pending else None
    if missing:
        key = "tally_part_added" if base is not None else "tally_partial"
        still = missing_list(missing, lang)
        message = text(key, lang, values=values, old=old, missing=still, **params)
    elif base is not None:
        message = text("tally_completed", lang, values=values, old=old, **params)
    elif pending:
        message = text("tally_replaced", lang, old=old, values=values, **params)
    else:
        message = text("tally_received", lang, values=values, **params)
    reply = Reply(message + readings + warning_list(warnings, lang), buttons=buttons)
    return Submitted(reply, submission)


def _open_warning(session: Session, submission: Submission, warnings: list[RuleFailure]) -> None:
    """A warning (e.g. ballots received other than DPT + 2%) is a review item, not a refusal."""
    from bots.review import open_item  # review imports this module's helpers

    open_item(
        session,
        "failed_checks",
        submission_id=submission.id,
        detail={
            "rules": [w.code for w in warnings],
            "warnings": {w.code: dict(w.params) for w in warnings},
        },
    )


def _new_submission(
    session: Session,
    officer: Officer,
    inbound: InboundMessage,
    tally: Tally,
    status: str,
    reason: str | None = None,
    source: str = "text",
) -> Submission:
    """The new row, written with one Core INSERT and handed to the session as loaded: the
    ORM's flush of one new object (a unit of work, ~0.3 ms) cost more than the INSERT. Every
    column is given, so the object needs no reading back. A receipt code already taken (one
    in ~10^8 at a national count) is drawn again."""
    values = {
        "receipt_code": "",
        "tps_code": tally.tps_code,
        "contest_code": tally.contest,
        "officer_id": officer.id,
        "inbound_id": inbound.id,
        "source": source,
        "votes": {str(k): v for k, v in sorted(tally.votes.items())},
        "candidate_votes": {f"{p}.{k}": v for (p, k), v in sorted(tally.candidate_votes.items())},
        "sections": {k: tally.sections[k] for k in SECTION_KEYS if k in tally.sections},
        "sah": tally.sah,
        "ts": tally.ts,
        "status": status,
        "reason": reason,
        "decided_at": None if status == "pending" else _now(),
        "changed_at": None,
        "training": is_training(inbound.channel),
        "created_at": utcnow(),
    }
    connection = session.connection()
    insert = _INSERT_SUBMISSION[connection.dialect.name]
    new_id = None
    while new_id is None:
        values["receipt_code"] = new_receipt_code()
        row = insert.run(connection, values).row
        new_id = row[0] if row is not None else None
    submission = Submission(id=new_id, **values)
    make_transient_to_detached(submission)  # as if just read: nothing left to write
    session.add(submission)
    return submission


def _against_locked(
    session: Session,
    officer: Officer,
    inbound: InboundMessage,
    tally: Tally,
    confirmed: Submission,
    source: str,
) -> Submitted:
    params = {
        "contest": confirmed.contest_code,
        "tps": confirmed.tps_code,
        "receipt": confirmed.receipt_code,
    }
    if tally_of(confirmed).form() == tally.form():
        return Submitted(text("locked_same", officer.language, **params))
    conflict = _new_submission(
        session, officer, inbound, tally, "rejected", "locked_conflict", source
    )
    record_for(
        session,
        inbound,
        officer,
        "tally_conflict",
        "submission",
        conflict.id,
        {"confirmed": confirmed.receipt_code, "receipt": conflict.receipt_code},
    )
    return Submitted(text("locked_different", officer.language, **params), conflict)


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
    unseen = _unseen_by(submission, inbound)
    if unseen is not None:
        return text(unseen, lang, values=tally_values(tally_of(submission)), **params)
    failures, numbers = _failures_of(session, submission)
    if inconsistent(failures):  # a photo reading that does not add up: never confirmed so
        return text(
            "confirm_blocked",
            lang,
            failures=failure_list(failures, lang, submission.contest_code, numbers),
            **params,
        )
    if failures:  # a part of the form is still missing
        return text("incomplete_blocked", lang, missing=missing_list(failures, lang), **params)
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
        same = same_form(confirmed, submission)
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
        {"receipt": submission.receipt_code, **published.entry(submission)},
    )
    reply = text("confirmed", lang, values=tally_values(tally_of(submission)), **params)
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


def _unseen_by(submission: Submission, inbound: InboundMessage) -> str | None:
    """Why this `YA` cannot be for the tally's numbers (the answer's key), or None: an
    operator changed them after the officer sent it (it was for the numbers before), or the
    reader read them from a photo after it (the officer had not seen them). A typed tally's
    numbers are the officer's own: a `YA` sent before its echo still confirms them."""
    sent = as_utc(inbound.received_at)
    if submission.changed_at is not None and sent < as_utc(submission.changed_at):
        return "changed_before_confirm"
    if submission.source == "photo" and sent < as_utc(submission.created_at):
        return "read_after_confirm"
    return None


def _failures_of(session: Session, submission: Submission) -> tuple[list[RuleFailure], list[int]]:
    """The form's rules for a stored tally, and the ballot numbers of its contest there."""
    kept = catalogue.current(session)
    tps = session.get_one(Tps, submission.tps_code)
    ballot = kept.ballot(session, submission.contest_code, tps.code)
    if ballot is None:  # the contest's regions or dapils changed since: check the numbers
        entry = kept.contests.get(submission.contest_code)
        numbers = list(entry.numbers) if entry is not None else []
        return check_tally(tally_of(submission), numbers, tps.registered_voters), numbers
    failures = check_tally(tally_of(submission), ballot, tps.registered_voters)
    return failures, list(ballot.numbers)


def cancel(session: Session, officer: Officer, inbound: InboundMessage, receipt: str | None) -> str:
    """`BATAL`: discard the officer's pending tally (of the same world as the message)."""
    return str(marked(_cancel(session, officer, inbound, receipt), inbound, officer.language))


def _cancel(
    session: Session, officer: Officer, inbound: InboundMessage, receipt: str | None
) -> str:
    lang = officer.language
    submission = _pick_pending(session, officer, receipt, is_training(inbound.channel))
    if submission is not None:  # locked and read again: a `YA` may confirm it at this moment
        submission = lock_row(session, Submission, submission.id)
    if submission is None or submission.status != "pending":
        key = "receipt_not_pending" if receipt else "nothing_pending"
        return text(key, lang, receipt=receipt)
    submission.status, submission.decided_at, submission.reason = "rejected", _now(), "cancelled"
    close_items_of(session, [submission], "cancelled")
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
