"""Store an inbound message exactly once per (channel, provider id)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from channels.base import Incoming
from relay.models import InboundMessage


def store(session: Session, incoming: Incoming) -> tuple[InboundMessage, bool]:
    """The stored row and whether it is new; a redelivery returns the first row."""
    existing = _find(session, incoming)
    if existing is not None:
        return existing, False
    message = InboundMessage(
        channel=incoming.channel,
        provider_id=incoming.provider_id,
        sender=incoming.sender,
        text=incoming.text,
        media=incoming.media,
        payload=incoming.payload,
        event=incoming.event,
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # the same delivery raced us on another web worker
        existing = _find(session, incoming)
        if existing is None:
            raise
        return existing, False
    return message, True


def _find(session: Session, incoming: Incoming) -> InboundMessage | None:
    return session.scalar(
        select(InboundMessage).where(
            InboundMessage.channel == incoming.channel,
            InboundMessage.provider_id == incoming.provider_id,
        )
    )
