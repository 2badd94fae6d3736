"""The one way a message enters the system: store it (idempotently), then enqueue it.

Used by the webhooks, the Telegram poller and the simulator. If Redis is down the rows are
still stored, and the sweeper enqueues them later.
"""

from __future__ import annotations

import dataclasses

from channels.base import Incoming
from jobs.queues import enqueue_inbound
from relay import inbox
from relay.config import Settings, load_settings
from relay.db import get_engine
from relay.inbox import StorageError

__all__ = ["StorageError", "accept", "storable"]


def accept(messages: list[Incoming], settings: Settings | None = None) -> list[tuple[int, bool]]:
    """(inbound id, newly stored) per message; raises StorageError when nothing was stored."""
    settings = settings or load_settings()
    engine = get_engine(settings.database_url)
    results = inbox.store_all(engine, [storable(message) for message in messages])
    for inbound_id, created in results:
        if created:
            enqueue_inbound(inbound_id, settings.redis_url)
    return results


def storable(message: Incoming) -> Incoming:
    """The message without NUL characters, which PostgreSQL text cannot hold: a Body, a
    gateway's JSON or a Telegram update can carry one, and refusing to store it would
    answer 503 for ever."""
    values = {f: getattr(message, f) for f in ("provider_id", "sender", "text", "payload")}
    changed = {f: v.replace("\x00", "") for f, v in values.items() if "\x00" in v}
    return dataclasses.replace(message, **changed) if changed else message
