"""The worker's turn finds the same officer however the sender was stored (jobs.inbound reads
the officer with the message when the sender is an E.164 phone; bots.identity otherwise)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from jobs.inbound import process_inbound
from relay.db import session_scope
from relay.models import InboundMessage, Officer

KPPS = "+6281234567801"  # on the demo roster
_ids = itertools.count()


def _turn(channel: str, sender: str) -> int | None:
    """The officer id the turn settled on for one stored message from `sender`."""
    with session_scope() as session:
        message = InboundMessage(
            channel=channel,
            provider_id=f"officer-{next(_ids)}",
            sender=sender,
            text="STATUS",
            payload="{}",
        )
        session.add(message)
        session.flush()
        inbound_id = message.id
    process_inbound(inbound_id)
    with session_scope() as session:
        return session.scalar(
            select(InboundMessage.officer_id).where(InboundMessage.id == inbound_id)
        )


@pytest.mark.parametrize(
    ("channel", "sender", "found"),
    [
        ("twilio", KPPS, True),  # as the webhooks store it: read with the message
        ("sms-gateway", "081234567801", True),  # stored as sent: looked up after normalising
        ("sms-gateway", "6281234567801", True),
        ("twilio", "+6281299999999", False),  # on no roster
        ("telegram", "777000", True),  # the Telegram id bound to the officer
        ("telegram", KPPS, False),  # a phone is no Telegram id
    ],
)
def test_the_turn_finds_the_officer_behind_the_sender(
    demo: str, redis_conn, channel: str, sender: str, found: bool
) -> None:
    with session_scope() as session:
        officer = session.scalars(select(Officer).where(Officer.phone == KPPS)).one()
        officer.telegram_user_id = 777000
        expected = officer.id
    assert _turn(channel, sender) == (expected if found else None)
