"""Replies to an inbound message become outbound rows on the same channel and address."""

from __future__ import annotations

from typing import Any

from bots.reply import Reply
from relay.models import InboundMessage, OutboundMessage


def reply_row(message: InboundMessage, reply: Reply, sequence: int) -> OutboundMessage:
    """`sequence` orders the replies to one message and, being unique per message, keeps a
    rerun job from queueing the same reply twice."""
    return OutboundMessage(
        channel=message.channel,
        to_address=message.sender,
        text=reply.text,
        extras=reply.extras(),
        officer_id=message.officer_id,
        inbound_id=message.id,
        sequence=sequence,
    )


def reply_values(message: InboundMessage, reply: Reply, sequence: int) -> dict[str, Any]:
    """reply_row's columns, for a Core INSERT (the other columns take their defaults)."""
    return {
        "channel": message.channel,
        "to_address": message.sender,
        "text": reply.text,
        "extras": reply.extras(),
        "officer_id": message.officer_id,
        "inbound_id": message.id,
        "sequence": sequence,
    }
