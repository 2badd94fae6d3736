"""`process_inbound` is idempotent run after run (a message no longer pending is left alone);
this is the same job run twice at the same moment, as when the sweeper hands back the job of
a worker that stopped heart-beating (frozen, not dead: a paused VM, SIGSTOP) and that worker
then resumes. The message must still be answered once and stored once. Each run claims the
message with a conditional UPDATE (unprocessed) before writing its replies: the second run
waits for the first, finds the message taken and rolls back all it did, so even a turn that
no unique constraint catches (an outsider's help request whose answer the budget refuses)
is not stored twice. The unique (inbound_id, sequence) of replies and inbound_id of tallies
stay as the backstop: a run that fails on them is run again by RQ and finds the message
processed."""

from __future__ import annotations

from sqlalchemy import select

from jobs.inbound import process_inbound
from relay.db import session_scope
from relay.models import AuditEntry, InboundMessage, OutboundMessage, Submission, Ticket
from tests.race_support import twice_at_once
from tests.test_concurrent_changes import in_parallel

KPPS = "+6281234567801"  # TPS 3576011001001
OUTSIDER = "+6289912345678"  # on no roster
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"


def _stored(text: str, provider_id: str, sender: str = KPPS) -> int:
    with session_scope() as session:
        message = InboundMessage(
            channel="sms-gateway", provider_id=provider_id, sender=sender, text=text, payload="{}"
        )
        session.add(message)
        session.flush()
        return message.id


def run_as_rq_would(inbound_id: int) -> object:
    """The job; if it fails (a unique constraint caught the race), RQ runs it again."""
    try:
        return process_inbound(inbound_id)
    except Exception:  # the failed job's retry
        return process_inbound(inbound_id)


def test_the_same_message_processed_twice_at_once_is_answered_once(demo, redis_conn) -> None:
    for round_ in range(5):
        inbound_id = _stored(TALLY if round_ == 0 else "STATUS", f"twice-{round_}")
        in_parallel([lambda i=inbound_id: run_as_rq_would(i)] * 2)
        with session_scope() as session:
            replies = session.scalars(
                select(OutboundMessage.id).where(OutboundMessage.inbound_id == inbound_id)
            ).all()
            tallies = session.scalars(select(Submission.id)).all()
        assert len(replies) == 1, f"round {round_}: {len(replies)} replies"
        assert len(tallies) == 1


def _stored_once(inbound_id: int) -> tuple[list[str], int, list[str]]:
    """The message's replies, how many tallies there are, and the audit's actions."""
    with session_scope() as session:
        replies = session.scalars(
            select(OutboundMessage.text).where(OutboundMessage.inbound_id == inbound_id)
        ).all()
        tallies = len(session.scalars(select(Submission.id)).all())
        audited = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    return list(replies), tallies, list(audited)


def test_a_tally_whose_second_run_waits_for_the_first_is_stored_and_answered_once(
    demo, redis_conn
) -> None:
    inbound_id = _stored(TALLY, "forced-tally")
    first, second = twice_at_once(lambda: process_inbound(inbound_id))
    replies, tallies, audited = _stored_once(inbound_id)
    assert len(replies) == 1 and replies[0].startswith("Diterima PPWP"), replies
    assert tallies == 1
    assert audited == ["tally_received"]
    # The second run ends quietly: no failed job, no error in the log, no retry needed.
    assert (first, second) == ("processed", "already processed")


def test_an_outsiders_help_request_whose_answer_is_refused_opens_one_ticket(
    demo, redis_conn, monkeypatch
) -> None:
    """The first run answers (the sender's last answer of the hour), the second's answer is
    refused by the budget: no reply row of its own, so no unique constraint stops it."""
    monkeypatch.setenv("UNKNOWN_SENDER_REPLIES", "1")
    inbound_id = _stored("BANTUAN formulir hilang, bagaimana?", "forced-help", OUTSIDER)
    first, second = twice_at_once(lambda: process_inbound(inbound_id))
    replies, _, audited = _stored_once(inbound_id)
    with session_scope() as session:
        tickets = session.scalars(select(Ticket.address)).all()
    assert tickets == [OUTSIDER]
    assert audited == ["ticket_opened"]
    assert len(replies) == 1, replies
    assert (first, second) == ("processed", "already processed")
