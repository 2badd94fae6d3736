"""The one way a message enters the system: store it (idempotently), then enqueue it.

Used by the webhooks, the Telegram poller and the simulator. If Redis is down the rows are
still stored, and the sweeper enqueues them later. Messages from senders on no roster go to
a queue of their own that workers take only when no officer's message waits.
"""

from __future__ import annotations

import dataclasses

from bots.identity import CONTACT, officers_among
from channels.base import Incoming
from jobs.queues import enqueue_inbound, enqueue_inbound_unknown
from relay import inbox
from relay.config import Settings, load_settings
from relay.db import get_engine
from relay.inbox import StorageError

__all__ = ["StorageError", "accept", "storable"]


def accept(messages: list[Incoming], settings: Settings | None = None) -> list[tuple[int, bool]]:
    """(inbound id, newly stored) per message; raises StorageError when nothing was stored.

    Which senders are officers is read on the store's connection once the rows are
    committed; if that read fails everyone counts as an officer: the messages are stored
    already, and an officer must never land in the slow queue."""
    settings = settings or load_settings()
    engine = get_engine(settings.database_url)
    stored = [storable(message) for message in messages]
    senders = {_sender_key(message) for message in stored}
    results, officers = inbox.store_then_read(
        engine, stored, lambda cursor, mark: officers_among(cursor, mark, senders)
    )
    for (inbound_id, created), message in zip(results, stored, strict=True):
        if not created:
            continue
        if officers is None or _sender_key(message) in officers:
            enqueue_inbound(inbound_id, settings.redis_url)
        else:
            enqueue_inbound_unknown(inbound_id, settings.redis_url)
    return results


def _sender_key(message: Incoming) -> tuple[str, str]:
    """Who the message is from, for the roster: its sender, or for a Telegram user sharing
    their own contact, that phone number (an officer registering)."""
    event = message.event or {}
    if event.get("type") == "contact" and event.get("own"):
        return CONTACT, str(event.get("phone", ""))
    return message.channel, message.sender


def storable(message: Incoming) -> Incoming:
    """The message without NUL characters, which PostgreSQL text cannot hold: a Body, a
    gateway's JSON or a Telegram update can carry one, and refusing to store it would
    answer 503 for ever."""
    values = {f: getattr(message, f) for f in ("provider_id", "sender", "text", "payload")}
    changed = {f: v.replace("\x00", "") for f, v in values.items() if "\x00" in v}
    return dataclasses.replace(message, **changed) if changed else message
