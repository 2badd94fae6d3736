"""The one way a message enters the system: store it (idempotently), then enqueue it.

Used by the webhooks, the Telegram poller and the simulator. If Redis is down the rows are
still stored, and the sweeper enqueues them later.
"""

from __future__ import annotations

from channels.base import Incoming
from jobs.queues import enqueue_inbound
from relay import inbox
from relay.db import session_scope


def accept(messages: list[Incoming]) -> list[tuple[int, bool]]:
    """(inbound id, newly stored) per message; raises SQLAlchemyError when nothing was stored."""
    with session_scope() as session:
        stored = [inbox.store(session, message) for message in messages]
        results = [(row.id, created) for row, created in stored]
    for inbound_id, created in results:
        if created:
            enqueue_inbound(inbound_id)
    return results
