"""Training channels: what is sent through the simulator is practice, never a result.

A tally that arrives on a training channel is stored with `Submission.training` set and
lives in its own world: it is confirmed, corrected and reviewed like a real one, but it is
never counted in the results (relay.results), never shown to the public, and never takes
or blocks the slot of the real tally of the same TPS and contest. The operator who sent a
simulated message is kept in its payload, and the audit of what it causes names them.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from relay.audit import record
from relay.models import InboundMessage, Officer

TRAINING_CHANNELS = frozenset({"simulator"})


def is_training(channel: str) -> bool:
    return channel in TRAINING_CHANNELS


def of_world(column: Any, training: bool) -> ColumnElement[bool]:
    """A filter on a channel column: the training channels, or every other channel."""
    channels = sorted(TRAINING_CHANNELS)
    return column.in_(channels) if training else column.not_in(channels)


def simulated_by(inbound: InboundMessage) -> str | None:
    """The operator (console name, or `cli:<user>`) who sent a simulated message."""
    if not is_training(inbound.channel):
        return None
    try:
        payload = json.loads(inbound.payload or "{}")
    except ValueError:
        return None
    operator = payload.get("operator") if isinstance(payload, dict) else None
    return str(operator) if operator else None


def sender_actor(inbound: InboundMessage, officer: Officer | None) -> tuple[str, dict[str, Any]]:
    """Who the audit names for what a message causes, and what it adds to the entry's detail.

    A simulated message is the operator's act, done in the name of a roster officer.
    """
    own = f"officer:{officer.id}" if officer else f"sender:{inbound.sender}"
    if not is_training(inbound.channel):
        return own, {}
    operator = simulated_by(inbound)
    actor = operator if operator and operator.startswith("cli:") else f"operator:{operator}"
    extra = {"training": True, "channel": inbound.channel, "as": own}
    return (actor if operator else f"simulator:{own}"), extra


def record_for(
    session: Session,
    inbound: InboundMessage,
    officer: Officer | None,
    action: str,
    entity: str,
    entity_id: object,
    detail: dict[str, Any] | None = None,
) -> None:
    """An audit entry for something `inbound` caused, naming who really acted."""
    actor, extra = sender_actor(inbound, officer)
    record(session, actor, action, entity, entity_id, {**(detail or {}), **extra})
