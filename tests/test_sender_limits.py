"""Per-sender limits: an officer over the rate limit is answered later, in order, never
dropped (items 13 of issue 10); outsiders (senders on no roster) are bounded in answers and
tickets and never delay an officer (item 9)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from jobs.queues import QUEUE_NAMES
from jobs.sweeper import sweep
from relay.db import session_scope
from relay.models import InboundMessage, OutboundMessage, Submission, Ticket
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


def work_without_scheduler(redis_conn: Redis) -> None:
    """A real worker that processes what is queued now; scheduled jobs stay scheduled."""
    queues = [Queue(name, connection=redis_conn) for name in QUEUE_NAMES]
    Worker(queues, connection=redis_conn).work(burst=True, logging_level="WARNING")


def the_window_ends(redis_conn: Redis, sender: str) -> None:
    """What the clock does at the end of the sender's rate window, without waiting for it:
    the sender's count expires and the jobs scheduled for then come due."""
    redis_conn.delete(f"relay:rate:twilio:{sender}")
    for name in QUEUE_NAMES:
        registry = ScheduledJobRegistry(name, connection=redis_conn)
        for job in Job.fetch_many(registry.get_job_ids(), connection=redis_conn):
            if job is not None:
                registry.schedule(job, datetime.now(UTC))


def test_an_officer_over_the_rate_limit_is_answered_after_the_window_in_order(
    client, redis_conn, twilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """25 messages, the limit 20 per window: the last 5 (a tally and its YA among them) wait
    for the window's end, then are processed in order and answered; one notice says so.
    (A window of an hour, ended by the_window_ends: however slow the machine, the first
    20 fall in it.)"""
    monkeypatch.setenv("SENDER_RATE_LIMIT", "20")
    monkeypatch.setenv("SENDER_RATE_WINDOW", "3600")
    for body in BURST:
        assert post_twilio_sms(client, OFFICER, body).status_code == 200
    work_without_scheduler(redis_conn)
    assert inbound_rows() == [(b, "processed") for b in BURST[:20]] + [
        (b, "deferred") for b in BURST[20:]
    ]
    replies = replies_to(twilio, OFFICER)
    assert len(replies) == 21 and replies[20].startswith(NOTICE)
    assert "diproses dalam" in replies[20]
    the_window_ends(redis_conn, OFFICER)
    drain(redis_conn)  # runs the scheduler, which brings the deferred jobs back
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
    work_without_scheduler(redis_conn)  # the tally waits for the window's end
    assert [status for _, status in inbound_rows()] == ["processed", "processed", "deferred"]
    redis_conn.flushdb()  # Redis restarted without persistence: the schedule is gone
    result = sweep(min_age_seconds=0)
    assert result.inbound.enqueued == 1
    drain(redis_conn)
    assert [status for _, status in inbound_rows()] == ["processed"] * 3
    replies = replies_to(twilio, OFFICER)
    assert replies[2].startswith(NOTICE) and replies[3].startswith("Diterima PPWP")


# --- outsiders: 300 unknown numbers and 40 Telegram accounts flood ---------------------------

REPLY_LIMIT, TICKET_CAP = 25, 10


def test_a_flood_of_outsiders_is_bounded_and_delays_no_officer(
    client, redis_conn, twilio, telegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """300 unknown numbers send BANTUAN (100 of them BAHASA EN too), 40 throwaway Telegram
    accounts /start, chat and ask for help; an officer's STATUS arrives in the middle and a
    real officer registers on Telegram during the flood. Answers to outsiders stay within
    UNKNOWN_SENDER_REPLIES per sender and UNKNOWN_REPLY_LIMIT per channel, their open
    tickets within UNKNOWN_OPEN_TICKETS (the rest held, counted in the console), and the
    officers are served before the outsiders' backlog, whatever came first."""
    from tests.conftest import TELEGRAM_SECRET
    from tests.fakes import telegram_updates as tu
    from tests.web_support import logged_in

    monkeypatch.setenv("UNKNOWN_REPLY_LIMIT", str(REPLY_LIMIT))
    monkeypatch.setenv("UNKNOWN_REPLY_WINDOW", "3600")  # one window for the whole test
    monkeypatch.setenv("UNKNOWN_OPEN_TICKETS", str(TICKET_CAP))
    strangers = [f"+62857{i:08d}" for i in range(300)]
    accounts = [880000000 + i for i in range(40)]
    update_ids = iter(range(50_000, 60_000))

    def telegram_post(update: dict) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        assert client.post("/webhooks/telegram", json=update, headers=headers).status_code == 200

    for i, stranger in enumerate(strangers):
        if i == 150:
            assert post_twilio_sms(client, OFFICER, "STATUS").status_code == 200
        assert post_twilio_sms(client, stranger, f"BANTUAN zzkx qwv {i}").status_code == 200
    for stranger in strangers[:100]:
        post_twilio_sms(client, stranger, "BAHASA EN")
    for text in ("/start", "halo", "/bahasa en", "/bantuan zzkx qwv"):
        for account in accounts:
            telegram_post(tu.text_update(next(update_ids), account, text))
    registering = 555000111  # the demo officer of +6281234567801, on Telegram now
    telegram_post(tu.contact_update(next(update_ids), registering, "6281234567801"))

    drain(redis_conn, timeout=300)

    with session_scope() as session:
        rows = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        officer_status = next(r for r in rows if r.sender == OFFICER and r.channel == "twilio")
        registration = next(r for r in rows if r.sender == str(registering))
        outsiders = [r for r in rows if r.officer_id is None]
        assert len(outsiders) == 300 + 100 + 4 * 40
        assert all(r.status in ("processed", "held") for r in rows)
        held = sum(r.status == "held" for r in rows)
        open_tickets = session.scalars(
            select(Ticket).where(Ticket.status == "open", Ticket.officer_id.is_(None))
        ).all()
        officer_reply = session.scalars(
            select(OutboundMessage).where(OutboundMessage.inbound_id == officer_status.id)
        ).one()
        # Ordering, not timing: the officer's message (and its answer) went before every
        # outsider's, though 150 of them arrived first; so did the registration.
        first_outsider_done = min(r.processed_at for r in outsiders)
        assert officer_status.processed_at < first_outsider_done
        assert officer_reply.sent_at is not None and officer_reply.sent_at < first_outsider_done
        assert registration.processed_at < first_outsider_done
    assert len(open_tickets) == TICKET_CAP
    assert held == 300 - TICKET_CAP + 40  # every later BANTUAN: stored, no ticket
    assert replies_to(twilio, OFFICER)[0].startswith("TPS 3576011001001:")
    [registered] = telegram.sent_messages(registering)
    assert registered["text"].startswith("Terdaftar:")

    sms_replies = [m for m in twilio.sent_messages() if m["To"] in set(strangers)]
    telegram_replies = [m for m in telegram.sent_messages() if m["chat_id"] in set(accounts)]
    assert len(sms_replies) == REPLY_LIMIT
    assert len(telegram_replies) == REPLY_LIMIT
    for sent, key in ((sms_replies, "To"), (telegram_replies, "chat_id")):
        per_sender: dict[object, int] = {}
        for message in sent:
            per_sender[message[key]] = per_sender.get(message[key], 0) + 1
        assert max(per_sender.values()) <= 3

    page = logged_in(client).get("/console/")
    assert f"<strong>{held}</strong>" in page.get_data(as_text=True)
