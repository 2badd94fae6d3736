"""Store an inbound message exactly once per (channel, provider id).

One INSERT … ON CONFLICT DO NOTHING RETURNING id: a new message costs a single statement
(the webhook's hot path); only a redelivery pays for a second look-up.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from channels.base import Incoming
from relay.models import InboundMessage, utcnow

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def store(session: Session, incoming: Incoming) -> tuple[int, bool]:
    """The stored row's id and whether it is new; a redelivery returns the first row's id."""
    insert = _INSERTS[session.get_bind().dialect.name]
    statement = (
        insert(InboundMessage)
        .values(
            channel=incoming.channel,
            provider_id=incoming.provider_id,
            sender=incoming.sender,
            text=incoming.text,
            media=incoming.media,
            payload=incoming.payload,
            event=incoming.event,
            status="received",  # a Core insert applies no ORM defaults: all given here
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
        .returning(InboundMessage.id)
    )
    new_id = session.scalar(statement)
    if new_id is not None:
        return new_id, True
    existing = session.scalar(
        select(InboundMessage.id).where(
            InboundMessage.channel == incoming.channel,
            InboundMessage.provider_id == incoming.provider_id,
        )
    )
    if existing is None:  # cannot happen: the conflict was on exactly this key
        raise RuntimeError(f"{incoming.channel}/{incoming.provider_id} neither new nor stored")
    return existing, False
