"""The review queue: tallies a human must look at, and what operators may do about them.

Kinds of review item:
- `conflict`: a second, different tally for a TPS and contest that is already confirmed,
  sent by another officer (Submission.reason == "locked_conflict");
- `change_request`: the same, sent by the officer who confirmed the first one (an officer
  asking to change a locked tally; their HELP message is in their ticket);
- `failed_checks` and `low_confidence`: for the photo reader (OCR), which calls
  `open_item` when a read fails the form's arithmetic or is unsure of a digit.

Conflicts are found from the submissions table (`sync_conflicts`), so the conversation needs
no hook for them. Every operator change records who, when, before and after in the audit log,
updates the pre-aggregated results, and queues a notice to the officers concerned; callers
enqueue the returned outbound ids after commit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Insert, Select, and_, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, make_transient_to_detached

from bots.helpdesk import message_officer, say
from bots.messages import text
from bots.replies import format_values
from bots.tallies import confirmed_for, tally_of
from bots.tally_rules import RuleFailure, check_tally
from relay import published, results
from relay.audit import record
from relay.ballots import ballot_for
from relay.locks import lock_row, locked
from relay.models import Contest, Officer, OutboundMessage, ReviewItem, Submission, Tps, utcnow

KINDS = ("conflict", "change_request", "failed_checks", "low_confidence")
SYNC_BATCH = 500
NEEDS_APPROVAL = "this tally is confirmed: changing it needs a second person's approval"


class ReviewError(ValueError):
    """An operator's action that cannot be applied (wrong state, numbers that do not add up)."""

    def __init__(self, message: str, failures: list[RuleFailure] | None = None) -> None:
        super().__init__(message)
        self.failures = failures or []


def _now() -> datetime:
    return datetime.now(UTC)


# A submission's item of a kind, built once (a statement made per call cost more to build
# and key than to run).
_ITEM_OF = select(ReviewItem).where(
    ReviewItem.kind == bindparam("kind"), ReviewItem.submission_id == bindparam("submission_id")
)


def _insert_unless_opened(dialect: type[postgresql.Insert] | type[sqlite.Insert]) -> Insert:
    """INSERT … ON CONFLICT (kind, submission_id) DO NOTHING RETURNING id: no row back when
    the submission has an item of that kind already (the unique constraint decides, also
    between two transactions at once). An item of no submission never conflicts."""
    table = ReviewItem.__table__
    return (
        dialect(table)
        .on_conflict_do_nothing(index_elements=[table.c.kind, table.c.submission_id])
        .returning(table.c.id)
    )


_INSERT_ITEM = {
    "postgresql": _insert_unless_opened(postgresql.Insert),
    "sqlite": _insert_unless_opened(sqlite.Insert),
}


def open_item(
    session: Session,
    kind: str,
    *,
    submission_id: int | None = None,
    inbound_id: int | None = None,
    tps_code: str | None = None,
    contest_code: str | None = None,
    other_submission_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> ReviewItem:
    """Put something in the review queue (idempotent per kind and submission).

    The OCR integration calls this with kind `low_confidence` or `failed_checks`, the
    submission (or inbound message) and, in `detail`, e.g. {"fields": {"02": 0.41}} or
    {"rules": ["sah_mismatch"]}; the console shows the detail beside the photo.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown review kind {kind!r}")
    if submission_id is not None:
        submission = session.get_one(Submission, submission_id)  # in the session, mostly
        tps_code = tps_code or submission.tps_code
        contest_code = contest_code or submission.contest_code
        inbound_id = inbound_id or submission.inbound_id
    values = {
        "kind": kind,
        "submission_id": submission_id,
        "other_submission_id": other_submission_id,
        "inbound_id": inbound_id,
        "tps_code": tps_code,
        "contest_code": contest_code,
        "detail": dict(detail or {}),
        "status": "open",
        "resolution": None,
        "resolved_by": None,
        "created_at": utcnow(),
        "resolved_at": None,
    }
    # One Core INSERT where the ORM's flush of one new object (a unit of work) and a look-up
    # before it cost more; what the session holds unwritten goes first, as the flush did.
    session.flush()
    connection = session.connection()
    new_id = connection.execute(_INSERT_ITEM[connection.dialect.name], values).scalar()
    if new_id is None:  # the submission has one: that is the item
        return session.scalars(_ITEM_OF, {"kind": kind, "submission_id": submission_id}).one()
    item = ReviewItem(id=new_id, **values)
    make_transient_to_detached(item)  # as if just read: nothing left to write
    session.add(item)
    return item


def _unreviewed_conflicts() -> Select[tuple[Submission]]:
    reviewed = aliased(ReviewItem)
    return (
        select(Submission)
        .outerjoin(
            reviewed,
            and_(
                reviewed.submission_id == Submission.id,
                reviewed.kind.in_(("conflict", "change_request")),
            ),
        )
        .where(Submission.reason == "locked_conflict", reviewed.id.is_(None))
        .order_by(Submission.id)
        .limit(SYNC_BATCH)
    )


def sync_conflicts(session: Session) -> int:
    """Create review items for conflicting tallies that have none yet; returns how many.

    Two page loads at once find the same tallies: each locks them (in id order) and looks
    again, so the second sees the first's items and adds none, instead of failing on the
    unique (kind, submission) with an error page. Nothing is locked when nothing is new."""
    new = session.scalars(_unreviewed_conflicts()).all()
    if new:
        ids = [submission.id for submission in new]
        lock = select(Submission.id).where(Submission.id.in_(ids)).order_by(Submission.id)
        session.scalars(locked(session, lock)).all()
        new = session.scalars(_unreviewed_conflicts().where(Submission.id.in_(ids))).all()
    for submission in new:
        confirmed = confirmed_for(
            session, submission.tps_code, submission.contest_code, submission.training
        )
        same_officer = confirmed is not None and confirmed.officer_id == submission.officer_id
        open_item(
            session,
            "change_request" if same_officer else "conflict",
            submission_id=submission.id,
            other_submission_id=confirmed.id if confirmed else None,
        )
    return len(new)


def open_items(session: Session, limit: int = 200) -> list[ReviewItem]:
    sync_conflicts(session)
    return list(
        session.scalars(
            select(ReviewItem)
            .where(ReviewItem.status == "open")
            .order_by(ReviewItem.created_at, ReviewItem.id)
            .limit(limit)
        )
    )


def _values(submission: Submission) -> dict[str, Any]:
    return {
        "votes": {f"{n:02d}": v for n, v in sorted(submission.votes_by_ballot().items())},
        "sah": submission.sah,
        "ts": submission.ts,
    }


def _numbers(submission: Submission) -> tuple[dict[int, int], int, int]:
    return submission.votes_by_ballot(), submission.sah, submission.ts


def _open_locked(session: Session, item: ReviewItem, refusal: str) -> ReviewItem:
    """The item locked and read again, if still open: of two operators deciding it at once,
    the second waits and is refused, never writes over the first's decision."""
    current = lock_row(session, ReviewItem, item.id)
    if current is None or current.status != "open":
        raise ReviewError(refusal)
    return current


def _resolve(session: Session, item: ReviewItem | None, actor: str, resolution: str) -> None:
    """Resolve the item unless someone resolved it first (locked and read again)."""
    current = lock_row(session, ReviewItem, item.id) if item is not None else None
    if current is not None and current.status == "open":
        current.status, current.resolution = "resolved", resolution
        current.resolved_by, current.resolved_at = actor, _now()


def _notify(
    session: Session, officer_id: int, training: bool, key: str, **params: object
) -> list[int]:
    officer = session.get_one(Officer, officer_id)
    body = say(key, officer.language, **params)
    if training:
        body = text("training_mark", officer.language) + body
    message = message_officer(session, officer, body, training)
    return [message.id] if message is not None else []


def check_values(
    session: Session, submission: Submission, votes: Mapping[int, int], sah: int, ts: int
) -> list[RuleFailure]:
    """The form's rules for new numbers of this submission's contest and TPS.

    `votes` are what each ballot number counts (a party's total, as the console shows it);
    the submission's candidate votes and other rows stay as they are.
    """
    contest = session.get_one(Contest, submission.contest_code)
    tps = session.get_one(Tps, submission.tps_code)
    tally = dataclasses.replace(tally_of(submission), votes=own_votes(submission, votes))
    tally = dataclasses.replace(tally, sah=sah, ts=ts)
    ballot = ballot_for(session, contest, tps.code)
    rules: object = ballot or [c.ballot_number for c in contest.candidates]
    return check_tally(tally, rules, tps.registered_voters)


def own_votes(submission: Submission, totals: Mapping[int, int]) -> dict[int, int]:
    """A party's own votes from its total: the total less its candidates' stored votes."""
    own = {int(n): int(v) for n, v in totals.items()}
    for (party, _), count in submission.candidate_votes_by_number().items():
        if party in own:
            own[party] -= count
    return own


def change_tally(
    session: Session,
    operator_name: str,
    submission: Submission,
    votes: Mapping[int, int],
    sah: int,
    ts: int,
    note: str,
    item: ReviewItem | None = None,
    *,
    approved: bool = False,
) -> list[int]:
    """Set a pending or confirmed tally's numbers; returns outbound ids to enqueue.

    The tally row is locked and read again first: the totals take the difference from the
    numbers committed last, never from numbers another operator is changing at this moment.
    A confirmed tally is public: only a change a second person `approved` (bots.approvals)
    is applied to it, also when it was confirmed since the caller read it pending.
    """
    current = lock_row(session, Submission, submission.id)
    if current is None:
        raise ReviewError("this tally does not exist")
    submission = current
    if submission.status not in ("pending", "confirmed"):
        raise ReviewError(f"a {submission.status} tally cannot be changed")
    if submission.status == "confirmed" and not approved:
        raise ReviewError(NEEDS_APPROVAL)
    if not note.strip():
        raise ReviewError("a reason is required")
    failures = check_values(session, submission, votes, sah, ts)
    if failures:
        raise ReviewError("the numbers do not pass the form's checks", failures)
    before = _numbers(submission)
    after = ({int(k): int(v) for k, v in votes.items()}, sah, ts)
    if before == after:
        raise ReviewError("the numbers are unchanged")
    actor = f"operator:{operator_name}"
    old_values = _values(submission)
    counted = results.numbers_of(submission)  # what the totals hold for it now
    submission.votes = {str(k): v for k, v in sorted(own_votes(submission, after[0]).items())}
    submission.sah, submission.ts = sah, ts
    submission.changed_at = _now()  # a `YA` sent before now was for the old numbers
    if submission.status == "confirmed":
        submission.reason = "changed_by_operator"
        if not submission.training:
            results.tally_changed(
                session,
                submission.contest_code,
                submission.tps_code,
                counted,
                results.numbers_of(submission),
            )
    record(
        session,
        actor,
        "tally_changed",
        "submission",
        submission.id,
        {
            "receipt": submission.receipt_code,
            "status": submission.status,
            "before": old_values,
            "after": _values(submission),
            "note": note.strip(),
            "review_item": item.id if item else None,
            **(published.entry(submission) if submission.status == "confirmed" else {}),
        },
    )
    _resolve(session, item, actor, "changed")
    return _notify(
        session,
        submission.officer_id,
        submission.training,
        "tally_changed",
        contest=submission.contest_code,
        tps=submission.tps_code,
        receipt=submission.receipt_code,
        values=format_values(after[0], sah, ts),
    )


def accept(
    session: Session, operator_name: str, item: ReviewItem, note: str, *, approved: bool = False
) -> list[int]:
    """Make a conflicting tally the confirmed one, in place of the tally confirmed before
    (which only a change a second person `approved` may replace: bots.approvals)."""
    if item.submission_id is None:
        raise ReviewError("this item has no open tally to accept")
    item = _open_locked(session, item, "this item is already resolved")
    # Both tallies are locked and read again before anything is decided (see change_tally).
    candidate = lock_row(session, Submission, item.submission_id)
    if candidate is None or candidate.reason != "locked_conflict":
        raise ReviewError("only a conflicting tally can be accepted")
    failures = check_values(session, candidate, *_numbers(candidate))
    if failures:
        raise ReviewError("the numbers do not pass the form's checks", failures)
    confirmed = confirmed_for(
        session, candidate.tps_code, candidate.contest_code, candidate.training, lock=True
    )
    if confirmed is not None and not approved:
        raise ReviewError(NEEDS_APPROVAL)
    actor = f"operator:{operator_name}"
    now = _now()
    replaced_decided_at = confirmed.decided_at if confirmed is not None else None
    if confirmed is not None:
        confirmed.status, confirmed.reason, confirmed.decided_at = (
            "superseded",
            "replaced_by_operator",
            now,
        )
        session.flush()  # one confirmed tally per TPS and contest, even mid-transaction
    candidate.status, candidate.reason, candidate.decided_at = (
        "confirmed",
        "accepted_by_operator",
        now,
    )
    session.flush()
    if confirmed is not None:
        results.tally_replaced(session, confirmed, candidate, replaced_decided_at)
    else:
        results.tally_confirmed(session, candidate)
    record(
        session,
        actor,
        "conflict_accepted",
        "submission",
        candidate.id,
        {
            "receipt": candidate.receipt_code,
            "replaced": confirmed.receipt_code if confirmed else None,
            "before": _values(confirmed) if confirmed else None,
            "after": _values(candidate),
            "note": note.strip(),
            "review_item": item.id,
            **published.entry(candidate),
        },
    )
    _resolve(session, item, actor, "accepted")
    params = {
        "contest": candidate.contest_code,
        "tps": candidate.tps_code,
        "receipt": candidate.receipt_code,
        "values": format_values(*_numbers(candidate)),
    }
    training = candidate.training
    outbound = _notify(session, candidate.officer_id, training, "conflict_accepted", **params)
    if confirmed is not None and confirmed.officer_id != candidate.officer_id:
        outbound += _notify(session, confirmed.officer_id, training, "tally_changed", **params)
    return outbound


def dismiss(session: Session, operator_name: str, item: ReviewItem, note: str) -> list[int]:
    """Keep what is confirmed; a conflicting tally is marked as dismissed."""
    item = _open_locked(session, item, "this item is already resolved")
    actor = f"operator:{operator_name}"
    outbound: list[int] = []
    candidate = session.get(Submission, item.submission_id) if item.submission_id else None
    if candidate is not None and candidate.reason == "locked_conflict":
        # Locked after the item, as accept does (an operator's change locks a pending or
        # confirmed tally before its item, but never waits for a conflicting one).
        candidate = lock_row(session, Submission, candidate.id)
    if candidate is not None and candidate.reason == "locked_conflict":
        candidate.reason = "conflict_dismissed"
        kept = confirmed_for(
            session, candidate.tps_code, candidate.contest_code, candidate.training
        )
        outbound = _notify(
            session,
            candidate.officer_id,
            candidate.training,
            "conflict_dismissed",
            contest=candidate.contest_code,
            tps=candidate.tps_code,
            receipt=candidate.receipt_code,
            kept=kept.receipt_code if kept else "-",
        )
    record(
        session,
        actor,
        "review_dismissed",
        "review_item",
        item.id,
        {"kind": item.kind, "submission": item.submission_id, "note": note.strip()},
    )
    _resolve(session, item, actor, "dismissed")
    return outbound


def pending_outbound(session: Session, ids: list[int]) -> list[OutboundMessage]:
    return [session.get_one(OutboundMessage, i) for i in ids]
