"""Two decisions about one tally or one review item at the same moment: the second waits for
the first's locks, reads again what the first committed, and is answered by it; it never
writes over a decision it did not see (a confirmed tally marked cancelled or superseded
while the totals count it, a review item both accepted and dismissed).

Each test forces the race with tests.race_support: the first decision holds its locks,
uncommitted, until the second waits for them (PostgreSQL), or is about to write (SQLite,
whose writers queue on the database's write lock: the fixes take it before reading, and the
tests fail there too without them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots import approvals, review
from bots.conversation import respond
from bots.identity import find_officer
from bots.messages import text
from bots.review import ReviewError
from relay import results
from relay.db import session_scope
from relay.models import AuditEntry, InboundMessage, OutboundMessage, ReviewItem, Submission
from tests.race_support import race_against
from tests.support import converse, joined

KPPS = "+6281234567801"  # TPS 3576011001001
PPS = "+6281234567809"  # every TPS of village 3576011001
FIRST = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
SECOND = "PPWP 3576011001001 01=121 02=95 03=40 SAH=256 TS=4"


def stored(sender: str, body: str) -> int:
    """An officer's message as the webhook stores it, not yet processed; its id."""
    with session_scope() as session:
        inbound = InboundMessage(
            channel="sms-gateway",
            provider_id=f"race-{body}-{sender}",
            sender=sender,
            text=body,
            payload="{}",
        )
        session.add(inbound)
        session.flush()
        return inbound.id


def turn(session: Session, inbound_id: int) -> str:
    """The worker's conversation step for one stored message, in `session`."""
    inbound = session.get_one(InboundMessage, inbound_id)
    officer = find_officer(session, inbound.channel, inbound.sender)
    return str(joined(respond(session, inbound, officer)).text)


def racing(
    first: Callable[[Session], object], second: Callable[[Session], object]
) -> tuple[object, object]:
    """`first` done and holding its locks, `second` started and waiting for them; then the
    first commits. Returns each one's result, or the ReviewError that refused it."""
    outcome: list[object] = []

    def run_second() -> None:
        try:
            with session_scope() as session:
                outcome.append(second(session))
        except ReviewError as error:
            outcome.append(error)

    with session_scope() as session:
        done = first(session)
        racer = threading.Thread(target=run_second)
        race_against(session, racer)
    racer.join()
    assert len(outcome) == 1, "the second decision failed otherwise (see its thread's error)"
    return done, outcome[0]


def actions() -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def assert_totals_count_the_confirmed_tallies() -> None:
    with session_scope() as session:
        assert [str(drift) for drift in results.verify(session)] == []


def test_batal_while_ya_confirms_leaves_the_tally_confirmed(demo: str) -> None:
    converse(KPPS, FIRST)
    ya, batal = stored(KPPS, "YA"), stored(KPPS, "BATAL")
    confirmed, cancelled = racing(lambda s: turn(s, ya), lambda s: turn(s, batal))
    with session_scope() as session:
        [tally] = session.scalars(select(Submission)).all()
    assert (tally.status, tally.reason) == ("confirmed", None)
    assert tally.receipt_code in str(confirmed)
    assert cancelled == text("nothing_pending", "id", receipt=None)
    assert "tally_cancelled" not in actions()
    assert_totals_count_the_confirmed_tallies()


def test_a_resend_while_ya_confirms_is_a_conflict_not_a_replacement(demo: str) -> None:
    converse(KPPS, FIRST)
    ya, resend = stored(KPPS, "YA"), stored(KPPS, SECOND)
    _, answer = racing(lambda s: turn(s, ya), lambda s: turn(s, resend))
    with session_scope() as session:
        tallies = session.scalars(select(Submission).order_by(Submission.id)).all()
    assert [(t.status, t.reason, t.sah) for t in tallies] == [
        ("confirmed", None, 255),
        ("rejected", "locked_conflict", 256),
    ]
    assert answer == text(
        "locked_different",
        "id",
        contest="PPWP",
        tps="3576011001001",
        receipt=tallies[0].receipt_code,
    )
    assert "tally_superseded" not in actions()
    assert_totals_count_the_confirmed_tallies()


def open_conflict() -> int:
    """A confirmed tally (KPPS) and a different one from the village's PPS: the review
    item of the conflict."""
    converse(KPPS, FIRST)
    converse(KPPS, "YA")
    converse(PPS, SECOND)
    with session_scope() as session:
        [item] = review.open_items(session)
        return item.id


def dismiss(name: str, item_id: int) -> Callable[[Session], object]:
    return lambda s: review.dismiss(s, name, s.get_one(ReviewItem, item_id), "angka lama benar")


def test_a_dismissal_while_an_accept_is_approved_is_refused(demo: str) -> None:
    item_id = open_conflict()
    with session_scope() as session:
        change = approvals.propose_accept(
            session, "ani", session.get_one(ReviewItem, item_id), "PPS membawa C.Hasil asli"
        )
    approve = lambda s: approvals.approve(s, "citra", "admin", change.id)  # noqa: E731
    _, refused = racing(approve, dismiss("budi", item_id))
    assert isinstance(refused, ReviewError) and "already resolved" in str(refused)
    with session_scope() as session:
        item = session.get_one(ReviewItem, item_id)
        accepted = session.get_one(Submission, item.submission_id)
    assert (item.status, item.resolution, item.resolved_by) == (
        "resolved",
        "accepted",
        "operator:citra",
    )
    assert (accepted.status, accepted.reason) == ("confirmed", "accepted_by_operator")
    assert "review_dismissed" not in actions()
    assert_totals_count_the_confirmed_tallies()


def test_two_operators_dismissing_one_item_at_once_dismiss_it_once(demo: str) -> None:
    item_id = open_conflict()
    _, refused = racing(dismiss("ani", item_id), dismiss("budi", item_id))
    assert isinstance(refused, ReviewError) and "already resolved" in str(refused)
    with session_scope() as session:
        item = session.get_one(ReviewItem, item_id)
        notices = session.scalars(select(OutboundMessage.text)).all()  # to the PPS officer
    assert (item.resolution, item.resolved_by) == ("dismissed", "operator:ani")
    assert actions().count("review_dismissed") == 1
    assert len(notices) == 1, notices
    assert_totals_count_the_confirmed_tallies()
