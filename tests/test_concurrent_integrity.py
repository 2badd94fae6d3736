"""More races and approval-time re-checks on the record of results (see
tests/test_concurrent_decisions.py for how a race is forced: the first holds its locks,
uncommitted, until the second waits for them on PostgreSQL, or is about to write on SQLite).

- Two console page loads at once create the review items of new conflicts once, and neither
  fails (bots.review.sync_conflicts); two readers opening one item at once get the same item
  (bots.review.open_item).
- Two tallies of one TPS and contest at once (two first sends, or a resend racing another
  resend) leave exactly one pending tally: the later replaces the earlier, as one after the
  other would (bots.tallies: the TPS row is locked before its tallies are read).
- At approval time, accepting a conflicting tally or applying new numbers re-checks the form's
  rules (the TPS's register may have been corrected since the proposal), and an approval
  that races a rejection is refused (bots.approvals: the proposal is claimed by a
  conditional UPDATE whose row count decides).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bots import approvals, review
from bots.messages import text
from bots.review import ReviewError
from jobs.inbound import process_inbound
from relay.db import session_scope
from relay.models import AuditEntry, OutboundMessage, ReviewItem, Submission, TallyChange, Tps
from tests.race_support import jobs_racing
from tests.support import converse
from tests.test_concurrent_decisions import (
    FIRST,
    KPPS,
    PPS,
    SECOND,
    actions,
    assert_totals_count_the_confirmed_tallies,
    racing,
    stored,
)

THIRD = "PPWP 3576011001001 01=122 02=95 03=40 SAH=257 TS=3"
TPS = "3576011001001"


def tallies() -> list[Submission]:
    with session_scope() as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))


def a_conflict_without_its_item() -> None:
    """A confirmed tally and a different one from the village's PPS, whose review item is
    made when the queue is next looked at."""
    converse(KPPS, FIRST)
    converse(KPPS, "YA")
    converse(PPS, SECOND)


def test_two_page_loads_at_once_make_the_review_item_once_and_neither_fails(demo: str) -> None:
    a_conflict_without_its_item()
    made, made_too = racing(review.sync_conflicts, review.sync_conflicts)
    assert (made, made_too) == (1, 0)
    with session_scope() as session:
        items = session.scalars(select(ReviewItem)).all()
    assert [(i.kind, i.status) for i in items] == [("conflict", "open")]


def test_two_readers_opening_one_item_at_once_get_the_same_item_and_neither_fails(
    demo: str,
) -> None:
    """A review item is opened once per kind and submission (bots.review.open_item): the
    second of two at once, waiting on the first's row, gets that item back, as it would one
    after the other, instead of failing on the unique (kind, submission)."""
    converse(KPPS, FIRST)
    [tally] = tallies()

    def opens(session):  # type: ignore[no-untyped-def]
        item = review.open_item(
            session, "low_confidence", submission_id=tally.id, detail={"fields": {"02": 0.4}}
        )
        return item.id, item.kind, item.tps_code, item.status

    first, second = racing(opens, opens)
    assert first == second and first[1:] == ("low_confidence", TPS, "open")
    with session_scope() as session:
        items = session.scalars(select(ReviewItem)).all()
    assert [(i.id, i.submission_id, i.detail) for i in items] == [
        (first[0], tally.id, {"fields": {"02": 0.4}})
    ]


def reply_to(inbound_id: int) -> str:
    with session_scope() as session:
        return session.scalars(
            select(OutboundMessage.text).where(OutboundMessage.inbound_id == inbound_id)
        ).one()


def tallies_at_once(first: str, second: str) -> str:
    """Two stored tallies through the worker's job at once (the first holding its locks
    until the second waits for them), as two workers take them; the second's reply. The
    real job, not the conversation alone: the turn's own reads (the sender's TPS among them)
    are part of what must not skip the lock."""
    first_id, second_id = stored(KPPS, first), stored(KPPS, second)
    done = jobs_racing(lambda: process_inbound(first_id), lambda: process_inbound(second_id))
    assert done == ("processed", "processed"), done
    return reply_to(second_id)


def test_two_first_tallies_at_once_leave_one_pending_tally(demo: str, redis_conn) -> None:
    answer = tallies_at_once(FIRST, SECOND)
    earlier, later = tallies()
    assert [(t.status, t.sah) for t in (earlier, later)] == [("superseded", 255), ("pending", 256)]
    assert f"(ganti {earlier.receipt_code})" in answer, answer
    assert actions().count("tally_superseded") == 1
    # The replaced numbers cannot be confirmed any more, by code or otherwise.
    assert converse(KPPS, f"YA {earlier.receipt_code}").text == text(
        "receipt_not_pending", "id", receipt=earlier.receipt_code
    )
    converse(KPPS, "YA")
    assert [t.status for t in tallies()] == ["superseded", "confirmed"]
    assert_totals_count_the_confirmed_tallies()


def test_a_resend_racing_another_resend_leaves_one_pending_tally(demo: str, redis_conn) -> None:
    converse(KPPS, FIRST)
    answer = tallies_at_once(SECOND, THIRD)
    statuses = [(t.status, t.sah) for t in tallies()]
    assert statuses == [("superseded", 255), ("superseded", 256), ("pending", 257)]
    assert f"(ganti {tallies()[1].receipt_code})" in answer, answer
    assert actions().count("tally_superseded") == 2
    assert_totals_count_the_confirmed_tallies()


def a_proposed_accept() -> TallyChange:
    a_conflict_without_its_item()
    with session_scope() as session:
        [item] = review.open_items(session)
        return approvals.propose_accept(session, "ani", item, "PPS membawa C.Hasil asli")


def test_an_accept_whose_tally_breaks_the_rules_by_approval_time_is_refused(demo: str) -> None:
    change = a_proposed_accept()
    # Since the proposal, the TPS's register was corrected (a regions load): 260 ballots
    # used no longer fit DPT 200 + 2%.
    with session_scope() as session:
        session.execute(update(Tps).where(Tps.code == TPS).values(registered_voters=200))
    with pytest.raises(ReviewError, match="do not pass the form's checks") as refused:
        with session_scope() as session:
            approvals.approve(session, "citra", "admin", change.id)
    assert [f.code for f in refused.value.failures], refused.value
    assert [(t.status, t.reason) for t in tallies()] == [
        ("confirmed", None),
        ("rejected", "locked_conflict"),
    ]
    with session_scope() as session:
        assert session.get_one(TallyChange, change.id).status == "pending"
        assert session.scalar(select(ReviewItem.status)) == "open"
    assert "conflict_accepted" not in actions()
    assert_totals_count_the_confirmed_tallies()


def test_a_change_whose_numbers_break_the_rules_by_approval_time_is_refused(demo: str) -> None:
    converse(KPPS, FIRST)
    converse(KPPS, "YA")
    [confirmed] = tallies()
    with session_scope() as session:
        change = approvals.propose_change(
            session,
            "ani",
            session.get_one(Submission, confirmed.id),
            {1: 121, 2: 95, 3: 40},
            256,
            4,
            "salah salin 01",
        )
        session.execute(update(Tps).where(Tps.code == TPS).values(registered_voters=200))
    with pytest.raises(ReviewError, match="do not pass the form's checks"):
        with session_scope() as session:
            approvals.approve(session, "citra", "admin", change.id)
    [kept] = tallies()
    assert (kept.status, kept.sah, kept.ts) == ("confirmed", 255, 5)
    with session_scope() as session:
        assert session.get_one(TallyChange, change.id).status == "pending"
    assert "tally_changed" not in actions()
    assert_totals_count_the_confirmed_tallies()


def test_an_approval_racing_a_rejection_is_refused_and_changes_nothing(demo: str) -> None:
    change = a_proposed_accept()
    reject = lambda s: approvals.reject(s, "budi", "supervisor", change.id, "salah TPS")  # noqa: E731
    approve = lambda s: approvals.approve(s, "citra", "admin", change.id)  # noqa: E731
    rejected, refused = racing(reject, approve)
    assert rejected == "rejected"
    assert isinstance(refused, ReviewError), refused
    with session_scope() as session:
        decided = session.get_one(TallyChange, change.id)
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("change_%"))
        ).all()
    assert (decided.status, decided.decided_by) == ("rejected", "budi")
    assert audited == ["change_proposed", "change_rejected"]
    assert [(t.status, t.reason) for t in tallies()] == [
        ("confirmed", None),
        ("rejected", "locked_conflict"),
    ]
    assert_totals_count_the_confirmed_tallies()
