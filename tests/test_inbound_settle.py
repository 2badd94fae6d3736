"""The turn's writes (jobs.inbound._settle): the message claimed and its reply stored, in one
statement on PostgreSQL (the claim's RETURNING feeds the reply's INSERT), in two elsewhere;
the same rows either way, and nothing stored when another run settled the message first."""

from __future__ import annotations

import itertools

from sqlalchemy import event, select, update

from jobs.inbound import process_inbound
from relay.db import get_engine, session_scope
from relay.models import InboundMessage, OutboundMessage

KPPS = "+6281234567801"  # on the demo roster
_ids = itertools.count()


def _stored(text: str) -> int:
    with session_scope() as session:
        message = InboundMessage(
            channel="twilio",
            provider_id=f"settle-{next(_ids)}",
            sender=KPPS,
            text=text,
            payload="{}",
        )
        session.add(message)
        session.flush()
        return message.id


def test_the_claim_and_the_reply_are_one_statement_on_postgresql(demo: str, redis_conn) -> None:
    inbound_id = _stored("STATUS")
    writes: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args) -> None:
        if "inbound_messages SET" in statement or "INSERT INTO outbound_messages" in statement:
            writes.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert process_inbound(inbound_id) == "processed"
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    if engine.dialect.name == "postgresql":
        [statement] = writes
        assert statement.startswith("WITH claimed AS")
    else:
        assert len(writes) == 2
    with session_scope() as session:
        message = session.get_one(InboundMessage, inbound_id)
        [reply] = session.scalars(
            select(OutboundMessage).where(OutboundMessage.inbound_id == inbound_id)
        ).all()
        assert (message.status, message.processed_at is not None) == ("processed", True)
        assert message.officer_id is not None and reply.officer_id == message.officer_id
        assert (reply.channel, reply.to_address, reply.sequence) == ("twilio", KPPS, 0)
        assert (reply.status, reply.attempts, reply.job_failures) == ("queued", 0, 0)
        assert reply.created_at is not None and reply.text


def test_a_message_settled_meanwhile_gets_no_reply(demo: str, redis_conn) -> None:
    """Another run of the job settles the message while this one decides: this run's claim
    finds it settled, and its reply is not stored."""
    inbound_id = _stored("STATUS")
    engine = get_engine()
    done: list[bool] = []

    def settle_first(_conn, _cursor, statement: str, *_args) -> None:
        if "inbound_messages SET" in statement and not done:
            done.append(True)
            with engine.begin() as other:
                other.execute(
                    update(InboundMessage)
                    .where(InboundMessage.id == inbound_id)
                    .values(status="processed", processed_at=InboundMessage.received_at)
                )

    event.listen(engine, "before_cursor_execute", settle_first)
    try:
        assert process_inbound(inbound_id) == "already processed"
    finally:
        event.remove(engine, "before_cursor_execute", settle_first)
    with session_scope() as session:
        replies = session.scalars(
            select(OutboundMessage.id).where(OutboundMessage.inbound_id == inbound_id)
        ).all()
    assert replies == []
