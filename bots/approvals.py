"""Changing a confirmed tally takes two people.

A confirmed tally is on the public record. An operator who changes its numbers (the console's
change form) or accepts a conflicting tally in its place (the review queue) only *proposes*
the change: a `TallyChange` row with the values before and after. A different operator with
the role supervisor or admin approves it, and only then is the change applied, through the
same functions as before (`bots.review.change_tally` / `accept`), which update the totals and
tell the officers. Or they reject it; the proposer may withdraw it. Every step is audited
with the operator's name: `change_proposed`, `change_approved`, `change_rejected`,
`change_withdrawn` (entity `submission`, so each tally's history shows them).

The approval applies exactly what was shown: if the confirmed tally's numbers changed in the
meantime, the proposal is stale and refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bots import review
from bots.review import ReviewError
from bots.tallies import confirmed_for
from relay.audit import record
from relay.locks import lock_row, take_write_lock
from relay.models import ReviewItem, Submission, TallyChange
from relay.operators import can_approve


def _now() -> datetime:
    return datetime.now(UTC)


def values(votes: Mapping[int, int], sah: int, ts: int) -> dict[str, Any]:
    """Numbers as the audit log shows them: {"votes": {"01": 120, …}, "sah": …, "ts": …}."""
    return {
        "votes": {f"{int(n):02d}": int(v) for n, v in sorted(votes.items())},
        "sah": int(sah),
        "ts": int(ts),
    }


def values_of(submission: Submission) -> dict[str, Any]:
    return values(submission.votes_by_ballot(), submission.sah, submission.ts)


def numbers(stored: Mapping[str, Any]) -> tuple[dict[int, int], int, int]:
    votes = {int(n): int(v) for n, v in dict(stored["votes"]).items()}
    return votes, int(stored["sah"]), int(stored["ts"])


def needs_approval(submission: Submission) -> bool:
    """Pending tallies are not public yet; an operator corrects them alone."""
    return submission.status == "confirmed"


def pending(session: Session) -> list[TallyChange]:
    return list(
        session.scalars(
            select(TallyChange)
            .where(TallyChange.status == "pending")
            .order_by(TallyChange.proposed_at, TallyChange.id)
        )
    )


def _refuse_second_proposal(session: Session, submission_id: int, item_id: int | None) -> None:
    """Concurrent proposals for one tally queue on its row lock, so the second sees the first
    (a unique index on pending proposals backs this up)."""
    lock_row(session, Submission, submission_id)
    clash = TallyChange.submission_id == submission_id
    if item_id is not None:
        clash = clash | (TallyChange.review_item_id == item_id)
    waiting = session.scalar(select(TallyChange).where(TallyChange.status == "pending", clash))
    if waiting is not None:
        raise ReviewError(f"change #{waiting.id} is already waiting for approval")


def _propose(
    session: Session,
    operator_name: str,
    kind: str,
    submission: Submission,
    before: dict[str, Any],
    after: dict[str, Any],
    note: str,
    item: ReviewItem | None,
) -> TallyChange:
    _refuse_second_proposal(session, submission.id, item.id if item else None)
    change = TallyChange(
        kind=kind,
        submission_id=submission.id,
        review_item_id=item.id if item else None,
        before=before,
        after=after,
        note=note.strip()[:500],
        status="pending",
        proposed_by=operator_name,
        proposed_at=_now(),
    )
    session.add(change)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:  # a proposal slipped in past the lock: the index held
        raise ReviewError("another change for this tally waits for approval") from error
    record(
        session,
        f"operator:{operator_name}",
        "change_proposed",
        "submission",
        submission.id,
        {
            "change": change.id,
            "kind": kind,
            "receipt": submission.receipt_code,
            "before": before,
            "after": after,
            "note": change.note,
            "review_item": change.review_item_id,
        },
    )
    return change


def propose_change(
    session: Session,
    operator_name: str,
    submission: Submission,
    votes: Mapping[int, int],
    sah: int,
    ts: int,
    note: str,
    item: ReviewItem | None = None,
) -> TallyChange:
    """New numbers for a confirmed tally, checked now, applied when a supervisor approves."""
    if not needs_approval(submission):
        raise ReviewError(f"a {submission.status} tally needs no approval")
    if not note.strip():
        raise ReviewError("a reason is required")
    failures = review.check_values(session, submission, votes, sah, ts)
    if failures:
        raise ReviewError("the numbers do not pass the form's checks", failures)
    before, after = values_of(submission), values(votes, sah, ts)
    if before == after:
        raise ReviewError("the numbers are unchanged")
    return _propose(session, operator_name, "change", submission, before, after, note, item)


def replaces_confirmed(session: Session, item: ReviewItem) -> Submission | None:
    """The confirmed tally that accepting this review item would replace, if any."""
    if item.submission_id is None:
        return None
    candidate = session.get_one(Submission, item.submission_id)
    return confirmed_for(
        session, candidate.tps_code, candidate.contest_code, training=candidate.training
    )


def change_or_propose(
    session: Session,
    operator_name: str,
    submission: Submission,
    votes: Mapping[int, int],
    sah: int,
    ts: int,
    note: str,
    item: ReviewItem | None = None,
) -> tuple[TallyChange | None, list[int]]:
    """The console's change form: a pending tally is corrected at once, a confirmed one only
    proposed; returns the proposal (or None) and the outbound ids to enqueue. Decided on
    the tally locked and read again: an officer's `YA` confirming it while the operator
    typed makes this a proposal, never one person's change to a published tally."""
    current = lock_row(session, Submission, submission.id)
    if current is None:
        raise ReviewError("this tally does not exist")
    if needs_approval(current):
        return propose_change(session, operator_name, current, votes, sah, ts, note, item), []
    return None, review.change_tally(session, operator_name, current, votes, sah, ts, note, item)


def accept_or_propose(
    session: Session, operator_name: str, item: ReviewItem, note: str
) -> tuple[TallyChange | None, list[int]]:
    """The review queue's accept: made at once when no tally is confirmed, proposed when it
    would replace the confirmed one. Not looked up locked (bots.review.accept locks the item,
    then the tallies: another order could deadlock with an approval); a tally confirmed since
    is caught there, under its lock, and the accept refused."""
    if replaces_confirmed(session, item) is not None:
        return propose_accept(session, operator_name, item, note), []
    return None, review.accept(session, operator_name, item, note)


def propose_accept(
    session: Session, operator_name: str, item: ReviewItem, note: str
) -> TallyChange:
    """Accepting a conflicting tally in place of a confirmed one, pending approval."""
    if item.submission_id is None or item.status != "open":
        raise ReviewError("this item has no open tally to accept")
    candidate = session.get_one(Submission, item.submission_id)
    if candidate.reason != "locked_conflict":
        raise ReviewError("only a conflicting tally can be accepted")
    if not note.strip():
        raise ReviewError("a reason is required")
    failures = review.check_values(session, candidate, *numbers(values_of(candidate)))
    if failures:
        raise ReviewError("the numbers do not pass the form's checks", failures)
    confirmed = replaces_confirmed(session, item)
    if confirmed is None:
        raise ReviewError("no confirmed tally to replace: accept needs no approval")
    before, after = values_of(confirmed), values_of(candidate)
    return _propose(session, operator_name, "accept", candidate, before, after, note, item)


def _claim(session: Session, change: TallyChange, status: str, by: str, note: str) -> None:
    """Move a pending proposal to `status`, once: of two concurrent decisions, one wins."""
    claimed = session.execute(
        update(TallyChange)
        .where(TallyChange.id == change.id, TallyChange.status == "pending")
        .values(status=status, decided_by=by, decided_at=_now(), decision_note=note.strip()[:500])
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise ReviewError(f"change #{change.id} was already decided")
    session.refresh(change)


def _current_before(session: Session, change: TallyChange) -> dict[str, Any] | None:
    """The values the proposal would replace, as they are now (None: nothing confirmed).

    The tally is locked first, so a concurrent approval of another proposal for it cannot
    slip in between this comparison and the change.
    """
    submission = session.get_one(Submission, change.submission_id)
    if change.kind == "change":
        current = lock_row(session, Submission, submission.id)
    else:  # a training tally never meets a real one
        current = confirmed_for(
            session,
            submission.tps_code,
            submission.contest_code,
            training=submission.training,
            lock=True,
        )
    if current is None or current.status != "confirmed":
        return None
    return values_of(current)


def approve(
    session: Session, approver: str, approver_role: str, change_id: int, note: str = ""
) -> list[int]:
    """Apply a proposed change as approved by `approver`; returns outbound ids to enqueue."""
    take_write_lock(session)
    change = session.get(TallyChange, change_id, populate_existing=True)
    if change is None or change.status != "pending":
        raise ReviewError("no pending change with this number")
    if not can_approve(approver_role):
        raise ReviewError("only a supervisor or an admin approves changes to confirmed tallies")
    if approver == change.proposed_by:
        raise ReviewError("a change needs a second person: the proposer cannot approve it")
    _claim(session, change, "approved", approver, note)  # first: of two approvals, one goes on
    if _current_before(session, change) != change.before:
        raise ReviewError("the confirmed tally changed since this was proposed: reject it")
    submission = session.get_one(Submission, change.submission_id)
    item = session.get(ReviewItem, change.review_item_id) if change.review_item_id else None
    reason = f"{change.note} (#{change.id}: {change.proposed_by}, approved by {approver})"
    if change.kind == "change":
        votes, sah, ts = numbers(change.after)
        outbound = review.change_tally(
            session, approver, submission, votes, sah, ts, reason, item, approved=True
        )
    else:
        if item is None:
            raise ReviewError("the review item of this change is gone")
        outbound = review.accept(session, approver, item, reason, approved=True)
    record(
        session,
        f"operator:{approver}",
        "change_approved",
        "submission",
        submission.id,
        {
            "change": change.id,
            "kind": change.kind,
            "proposed_by": change.proposed_by,
            "approved_by": approver,
            "before": change.before,
            "after": change.after,
            "note": change.note,
            "decision_note": change.decision_note,
        },
    )
    return outbound


def reject(
    session: Session, operator_name: str, operator_role: str, change_id: int, note: str
) -> str:
    """A supervisor rejects, or the proposer withdraws; returns the new status."""
    take_write_lock(session)
    change = session.get(TallyChange, change_id, populate_existing=True)
    if change is None or change.status != "pending":
        raise ReviewError("no pending change with this number")
    if operator_name == change.proposed_by:
        status = "withdrawn"
    elif can_approve(operator_role):
        status = "rejected"
    else:
        raise ReviewError("only a supervisor, an admin or the proposer decides this")
    if not note.strip():
        raise ReviewError("a reason is required")
    _claim(session, change, status, operator_name, note)
    record(
        session,
        f"operator:{operator_name}",
        f"change_{status}",
        "submission",
        change.submission_id,
        {
            "change": change.id,
            "kind": change.kind,
            "proposed_by": change.proposed_by,
            "before": change.before,
            "after": change.after,
            "note": change.decision_note,
        },
    )
    return status
