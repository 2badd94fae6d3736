"""`process_inbound` is idempotent run after run (a message no longer pending is left alone);
this is the same job run twice at the same moment, as when the sweeper hands back the job of
a worker that stopped heart-beating (frozen, not dead: a paused VM, SIGSTOP) and that worker
then resumes. The message must still be answered once and its tally stored once: the
message is read without a lock, so what holds this is the unique (inbound_id, sequence) of
replies and inbound_id of tallies — the losing run fails, and its retry finds the message
processed."""

from __future__ import annotations

from sqlalchemy import select

from jobs.inbound import process_inbound
from relay.db import session_scope
from relay.models import InboundMessage, OutboundMessage, Submission
from tests.test_concurrent_changes import in_parallel

KPPS = "+6281234567801"  # TPS 3576011001001
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"


def _stored(text: str, provider_id: str) -> int:
    with session_scope() as session:
        message = InboundMessage(
            channel="sms-gateway", provider_id=provider_id, sender=KPPS, text=text, payload="{}"
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
