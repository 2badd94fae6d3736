"""What providers send fits what we store (PostgreSQL enforces every varchar's length):
a sender is at most MAX_ADDRESS characters at intake, a clear 400 beyond, and everything
made from it fits; a provider's id for a reply we sent is kept cut to its column."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from relay.db import session_scope
from relay.fields import MAX_ADDRESS
from relay.models import AuditEntry, InboundMessage, OutboundMessage, Ticket
from tests.support import drain, post_gateway

OFFICER = "+6281234567801"
QUESTION = "BANTUAN formulir saya basah kena hujan, bagaimana?"


def test_the_longest_gateway_sender_asking_for_help_is_answered(client, redis_conn, gateway):
    sender = "TPS-" + "A" * (MAX_ADDRESS - 4)  # an alphanumeric sender id, as long as allowed
    assert post_gateway(client, "help-1", sender, QUESTION).status_code == 200
    drain(redis_conn)
    with session_scope() as session:
        [message] = session.scalars(select(InboundMessage)).all()
        assert (message.status, message.sender) == ("processed", sender)
        [ticket] = session.scalars(select(Ticket)).all()
        assert ticket.address == sender
        actors = set(session.scalars(select(AuditEntry.actor)))
    assert f"sender:{sender}" in actors
    [reply] = gateway.sent_messages()
    assert reply["to"] == sender


@pytest.mark.parametrize("length", [MAX_ADDRESS + 1, 100, 200])
def test_a_longer_gateway_sender_is_refused_with_the_reason(client, gateway, length) -> None:
    """~100 characters used to be stored, then fail on every try (`sender:<address>` did not
    fit the audit log's actor on PostgreSQL): refused now, and the gateway is told why."""
    answer = post_gateway(client, "help-2", "9" * length, QUESTION)
    assert answer.status_code == 400
    assert answer.get_data(as_text=True).startswith(f"from longer than {MAX_ADDRESS} characters")
    with session_scope() as session:
        assert session.scalars(select(InboundMessage)).all() == []


def test_a_long_id_for_a_sent_reply_is_kept_cut_and_the_reply_sent_once(
    client, redis_conn, gateway
) -> None:
    """Refusing the id after the send made the job fail and RQ send the reply again."""
    long_id = "g" * 300
    gateway.fail_next(1, status=200, body={"status": "queued", "gateway_message_id": long_id})
    assert post_gateway(client, "status-1", OFFICER, "STATUS").status_code == 200
    drain(redis_conn)
    assert len([r for r in gateway.requests if r.path == "/send"]) == 1
    with session_scope() as session:
        [reply] = session.scalars(select(OutboundMessage)).all()
    assert (reply.status, reply.provider_id) == ("sent", long_id[:100])


def test_every_column_made_from_an_address_holds_the_longest_one() -> None:
    for column, prefix in (
        (InboundMessage.sender, ""),
        (OutboundMessage.to_address, ""),
        (Ticket.address, ""),
        (AuditEntry.actor, "sender:"),
    ):
        assert column.property.columns[0].type.length >= len(prefix) + MAX_ADDRESS, column
