"""Outbound delivery: transient provider errors are retried with backoff, permanent ones
stop at once and are recorded; a Redis outage at the webhook loses nothing."""

from __future__ import annotations

import time

import pytest
from rq import Retry
from sqlalchemy import select

from channels.base import CONNECTION, FAILED, THROTTLED, SendError
from jobs.outbound import retry_delay
from jobs.sweeper import sweep
from relay.db import session_scope
from relay.models import InboundMessage, Officer, OutboundMessage
from tests.support import drain, post_twilio_sms

OFFICER = "+6281234567801"
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"


def outbound() -> list[OutboundMessage]:
    with session_scope() as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def test_server_errors_then_throttling_then_timeout_are_retried_once_delivered(
    client, redis_conn, twilio, monkeypatch
) -> None:
    twilio.fail_next(2, 500)
    twilio.fail_next(1, 429, headers={"Retry-After": "1"})
    post_twilio_sms(client, OFFICER, TALLY)
    drain(redis_conn)
    [message] = outbound()
    assert (message.status, message.attempts) == ("sent", 4)
    assert len(twilio.sent_messages()) == 1
    assert [r.status for r in twilio.requests] == [500, 500, 429, 201]


def test_permanent_error_stops_at_once_and_is_recorded(client, redis_conn, twilio) -> None:
    twilio.add_error_number(OFFICER, 21211)
    post_twilio_sms(client, OFFICER, TALLY)
    drain(redis_conn)
    [message] = outbound()
    assert (message.status, message.attempts, message.error_kind) == ("failed", 1, "failed")
    assert "21211" in message.last_error
    assert len(twilio.requests) == 1


def test_unsubscribed_recipient_marks_the_officer_unreachable(client, redis_conn, twilio) -> None:
    twilio.add_error_number(OFFICER, 21610)
    post_twilio_sms(client, OFFICER, "STATUS")
    drain(redis_conn)
    [message] = outbound()
    assert (message.status, message.error_kind) == ("failed", "stopped")
    with session_scope() as session:
        officer = session.scalar(select(Officer).where(Officer.phone == OFFICER))
        assert officer is not None and officer.reachable is False


def test_retries_give_up_after_the_configured_attempts(client, redis_conn, twilio) -> None:
    twilio.fail_next(10, 503)
    post_twilio_sms(client, OFFICER, TALLY)
    drain(redis_conn)
    [message] = outbound()
    # SEND_RETRY_INTERVALS=1,1,1 in tests: the first try and three retries.
    assert (message.status, message.attempts, message.error_kind) == ("failed", 4, "connection")
    assert twilio.sent_messages() == []


@pytest.mark.parametrize(
    ("error", "attempts", "expected"),
    [
        (SendError(CONNECTION, "reset"), 1, 5),
        (SendError(CONNECTION, "reset"), 3, 60),
        (SendError(THROTTLED, "429", retry_after=2.2), 1, 3),
        (SendError(THROTTLED, "429", retry_after=99999), 2, 3600),
        (SendError(THROTTLED, "429"), 2, 15),
        (SendError(CONNECTION, "reset"), 4, None),
        (SendError(FAILED, "invalid number"), 1, None),
    ],
)
def test_retry_delay(error: SendError, attempts: int, expected: int | None) -> None:
    assert retry_delay(error, attempts, (5, 15, 60)) == expected


def test_redis_down_at_the_webhook_then_swept(client, redis_conn, twilio, monkeypatch) -> None:
    import os

    working = os.environ["REDIS_URL"]
    monkeypatch.setenv("REDIS_URL", "unix:///nonexistent/redis.sock")
    response = post_twilio_sms(client, OFFICER, TALLY)
    assert response.status_code == 200  # stored: the provider must not send it again
    assert client.get("/healthz").status_code == 503
    monkeypatch.setenv("REDIS_URL", working)
    with session_scope() as session:
        [message] = session.scalars(select(InboundMessage)).all()
        assert message.status == "received"
    assert redis_conn.llen("rq:queue:inbound") == 0
    result = sweep(min_age_seconds=0)
    assert (result.inbound.enqueued, result.unreachable) == (1, False)
    again = sweep(min_age_seconds=0).inbound  # already queued: not doubled, not counted
    assert (again.enqueued, again.already_queued) == (0, 1)
    drain(redis_conn)
    assert len(twilio.sent_messages()) == 1
    assert client.get("/healthz").get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok"},
    }


def _queued_reply(channel: str, to: str) -> int:
    with session_scope() as session:
        row = OutboundMessage(channel=channel, to_address=to, text="PPWP diterima")
        session.add(row)
        session.flush()
        return row.id


def test_a_send_told_to_wait_counts_no_attempt(client, redis_conn, twilio) -> None:
    """The circuit open, or the account's rate spent: the provider is not called and the
    reply's attempts stay as they were (the send reads the row in the UPDATE that counts an
    attempt, and rolls it back), so the retries are not used up by waiting."""
    from jobs.outbound import send_outbound

    twilio_reply = _queued_reply("twilio", OFFICER)
    redis_conn.set("relay:circuit:twilio:open", 1, ex=30)
    assert isinstance(send_outbound(twilio_reply), Retry)
    telegram_reply = _queued_reply("telegram", "424242")
    redis_conn.set(f"relay:sendrate:telegram:{int(time.time())}", 10_000, ex=5)
    redis_conn.set(f"relay:sendrate:telegram:{int(time.time()) + 1}", 10_000, ex=5)
    assert isinstance(send_outbound(telegram_reply), Retry)
    with session_scope() as session:
        rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        assert [(r.status, r.attempts) for r in rows] == [("queued", 0), ("queued", 0)]
    assert twilio.requests == []
    redis_conn.delete("relay:circuit:twilio:open")
    assert send_outbound(twilio_reply) == "sent"
    with session_scope() as session:
        sent = session.get_one(OutboundMessage, twilio_reply)
        assert (sent.status, sent.attempts) == ("sent", 1)


def test_a_send_that_fails_before_calling_the_provider_counts_no_attempt(
    client, redis_conn, twilio, monkeypatch
) -> None:
    """Redis unreachable when the send asks about the provider's rate and circuit: the job
    fails (RQ runs it again) without calling the provider, and the claim's attempt is taken
    back (the claim commits on its own, jobs.outbound), so the retries are not used up."""
    from redis.exceptions import RedisError

    from jobs.outbound import send_outbound

    reply = _queued_reply("twilio", OFFICER)
    monkeypatch.setenv("REDIS_URL", "unix:///nonexistent/redis.sock")
    with pytest.raises(RedisError):
        send_outbound(reply)
    with session_scope() as session:
        row = session.get_one(OutboundMessage, reply)
        assert (row.status, row.attempts) == ("queued", 0)
    assert twilio.requests == []
