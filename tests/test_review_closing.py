"""A review item follows its tally: when the officer resends or cancels the pending tally it
is about, the item closes itself (audited), instead of waiting in the queue for an operator
to look at numbers nobody stands behind any more."""

from __future__ import annotations

from sqlalchemy import select

from relay.db import session_scope
from relay.models import AuditEntry, ReviewItem, Submission
from tests.support import converse
from tests.test_photo_flow import send_photo

TYPED = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"


def _items() -> list[tuple[str, str, str | None]]:
    with session_scope() as session:
        return [
            (i.kind, i.status, i.resolution)
            for i in session.scalars(select(ReviewItem).order_by(ReviewItem.id))
        ]


def test_a_resend_closes_the_review_of_the_photo_it_replaces(
    client, redis_conn, telegram, media_dir
) -> None:
    send_photo(client, redis_conn, telegram, "ppwp_clean.jpg", 9500)  # doubtful fields
    opened = _items()
    assert opened and all(status == "open" for _, status, _ in opened), opened
    converse("081234567801", TYPED)  # the officer types the numbers instead
    assert all(status == "resolved" and why == "superseded" for _, status, why in _items())
    with session_scope() as session:
        closed = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "review_closed")
        ).all()
        new = session.scalars(select(Submission).where(Submission.status == "pending")).one()
    assert len(closed) == len(opened)
    assert closed[0].actor == "system" and closed[0].detail["by"] == new.receipt_code


def test_batal_closes_the_review_of_the_cancelled_tally(
    client, redis_conn, telegram, media_dir
) -> None:
    send_photo(client, redis_conn, telegram, "ppwp_clean.jpg", 9600)
    assert _items()
    converse("081234567801", "BATAL")
    assert all(status == "resolved" and why == "cancelled" for _, status, why in _items())
