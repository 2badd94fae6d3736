"""More races and approval-time re-checks on the record of results (see
tests/test_concurrent_decisions.py for how a race is forced: the first holds its locks,
uncommitted, until the second waits for them on PostgreSQL, or is about to write on SQLite).

- Two console page loads at once create the review items of new conflicts once, and neither
  fails (bots.review.sync_conflicts).
- Two tallies of one TPS and contest at once (two first sends, or a resend racing another
  resend) leave exactly one pending tally: the later replaces the earlier, as one after the
  other would (bots.tallies: the TPS row is locked before its tallies are read).
- At approval time, accepting a conflicting tally re-checks the form's rules, and an approval
  that races a rejection is refused (bots.approvals: the proposal is claimed by a
  conditional UPDATE whose row count decides).
"""

from __future__ import annotations

from sqlalchemy import select

from bots import review
from bots.messages import text
from relay.db import session_scope
from relay.models import ReviewItem, Submission
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
    turn,
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


def test_two_first_tallies_at_once_leave_one_pending_tally(demo: str) -> None:
    first, second = stored(KPPS, FIRST), stored(KPPS, SECOND)
    _, answer = racing(lambda s: turn(s, first), lambda s: turn(s, second))
    earlier, later = tallies()
    assert [(t.status, t.sah) for t in (earlier, later)] == [("superseded", 255), ("pending", 256)]
    assert f"(ganti {earlier.receipt_code})" in str(answer), answer
    assert actions().count("tally_superseded") == 1
    # The replaced numbers cannot be confirmed any more, by code or otherwise.
    assert converse(KPPS, f"YA {earlier.receipt_code}").text == text(
        "receipt_not_pending", "id", receipt=earlier.receipt_code
    )
    converse(KPPS, "YA")
    assert [t.status for t in tallies()] == ["superseded", "confirmed"]
    assert_totals_count_the_confirmed_tallies()


def test_a_resend_racing_another_resend_leaves_one_pending_tally(demo: str) -> None:
    converse(KPPS, FIRST)
    resend, other = stored(KPPS, SECOND), stored(KPPS, THIRD)
    _, answer = racing(lambda s: turn(s, resend), lambda s: turn(s, other))
    statuses = [(t.status, t.sah) for t in tallies()]
    assert statuses == [("superseded", 255), ("superseded", 256), ("pending", 257)]
    assert f"(ganti {tallies()[1].receipt_code})" in str(answer), answer
    assert actions().count("tally_superseded") == 2
    assert_totals_count_the_confirmed_tallies()
