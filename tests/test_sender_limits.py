"""Per-sender limits: an officer over the rate limit is answered later, in order, never
dropped (items 13 of issue 10); outsiders (senders on no roster) are bounded in answers and
tickets and never delay an officer (item 9)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jobs.sweeper import sweep
from relay.db import session_scope
from relay.models import InboundMessage, OutboundMessage, Submission
from tests.support import drain, post_twilio_sms

OFFICER = "+6281234567801"  # kpps of TPS 3576011001001, Indonesian
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
NOTICE = "Terlalu banyak pesan sekaligus."
# 25 messages at once, the limit 20: the tally and its confirmation come after the limit.
BURST = ["STATUS"] * 22 + [TALLY, "YA", "STATUS"]


def replies_to(fake, phone: str) -> list[str]:
    return [str(m["Body"]) for m in fake.sent_messages() if m["To"] == phone]


def inbound_rows() -> list[tuple[str, str]]:
    with session_scope() as session:
        return [
            (row.text, row.status)
            for row in session.scalars(select(InboundMessage).order_by(InboundMessage.id))
        ]


def test_an_officer_over_the_rate_limit_is_answered_after_the_window_in_order(
    client, redis_conn, twilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """25 messages, limit 20 per 10 s: the last 5 (a tally and its YA among them) wait for
    the window's end, then are processed in order and answered; one notice says so. (The
    window starts at the first message processed; 10 s leave the worker time for 20.)"""
    monkeypatch.setenv("SENDER_RATE_LIMIT", "20")
    monkeypatch.setenv("SENDER_RATE_WINDOW", "10")
    for body in BURST:
        assert post_twilio_sms(client, OFFICER, body).status_code == 200
    # The scheduler runs in the worker: the deferred jobs come back at the window's end.
    drain(redis_conn, timeout=60)
    assert inbound_rows() == [(body, "processed") for body in BURST]
    with session_scope() as session:
        [submission] = session.scalars(select(Submission)).all()
        assert submission.status == "confirmed"  # the YA came after the tally, as sent
        outbound = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        assert [o.status for o in outbound] == ["sent"] * 26
        by_message = [(o.inbound_id, o.sequence) for o in outbound]
    replies = replies_to(twilio, OFFICER)
    assert len(replies) == len(BURST) + 1
    assert [r for r in replies if r.startswith(NOTICE)] == [replies[20]]
    assert "diproses dalam" in replies[20]
    assert replies[23].startswith("Diterima PPWP TPS 3576011001001")
    assert submission.receipt_code in replies[24]  # YA: confirmed
    # The deferred message that carried the notice got its answer as its second reply.
    assert by_message[20][1] == 0 and by_message[21] == (by_message[20][0], 1)


def test_a_deferred_message_whose_schedule_redis_lost_is_redriven_by_the_sweeper(
    client, redis_conn, twilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDER_RATE_LIMIT", "2")
    monkeypatch.setenv("SENDER_RATE_WINDOW", "3600")
    for body in ("STATUS", "STATUS", TALLY):
        post_twilio_sms(client, OFFICER, body)
    from rq import Queue, Worker

    from jobs.queues import QUEUE_NAMES

    queues = [Queue(name, connection=redis_conn) for name in QUEUE_NAMES]
    Worker(queues, connection=redis_conn).work(burst=True)  # no scheduler: the tally waits
    assert [status for _, status in inbound_rows()] == ["processed", "processed", "deferred"]
    redis_conn.flushdb()  # Redis restarted without persistence: the schedule is gone
    result = sweep(min_age_seconds=0)
    assert result.inbound == 1
    drain(redis_conn)
    assert [status for _, status in inbound_rows()] == ["processed"] * 3
    replies = replies_to(twilio, OFFICER)
    assert replies[2].startswith(NOTICE) and replies[3].startswith("Diterima PPWP")
