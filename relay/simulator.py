"""The simulator channel's two ends: put a message in as an officer, read the replies out.

Used by `simulate sms|photo` and the /simulator page; the message then travels the same
pipeline as one from a real provider. The simulator is a training channel (relay.training):
its tallies are never counted, and each message records the operator who sent it. A
deployment switches it off with SIMULATOR_ENABLED=0: then nothing is accepted here.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

from sqlalchemy import select

from channels.base import Incoming
from relay import intake, media
from relay.config import load_settings
from relay.db import session_scope
from relay.models import OutboundMessage
from relay.phone import to_e164

CHANNEL = "simulator"


class SimulatorDisabled(RuntimeError):
    """SIMULATOR_ENABLED is off in this deployment."""


def enabled() -> bool:
    return load_settings().simulator_enabled


def _check_enabled() -> None:
    if not enabled():
        raise SimulatorDisabled("the simulator is switched off in this deployment")


def send_text(phone: str, text: str, *, operator: str) -> int:
    """Store `text` as an SMS from `phone`, sent by `operator` (a console name or
    `cli:<user>`), and enqueue it; returns the inbound id."""
    _check_enabled()
    sender = to_e164(phone)
    incoming = Incoming(
        channel=CHANNEL,
        provider_id=f"sim-{uuid.uuid4().hex}",
        sender=sender,
        text=text,
        payload=json.dumps(
            {"from": sender, "text": text, "operator": operator}, ensure_ascii=False
        ),
    )
    [(inbound_id, _)] = intake.accept([incoming])
    return inbound_id


def send_photo(phone: str, data: bytes, content_type: str, *, operator: str) -> int:
    """Store a photo as if an officer sent it from `phone` (`operator` sent it); returns the
    inbound id.

    There is no provider to fetch it from, so it is kept at once; the reading follows the
    same path as a Telegram or WhatsApp photo.
    """
    _check_enabled()
    sender = to_e164(phone)
    sniffed = media.sniff_type(data)
    if sniffed is None:  # answered "not a photo" by the conversation
        declared = content_type if not content_type.startswith("image/") else "unknown"
        item = {"content_type": declared or "unknown", "error": "not_an_image"}
    else:
        item = {"content_type": sniffed, "key": media.save(data, sniffed), "bytes": len(data)}
    incoming = Incoming(
        channel=CHANNEL,
        provider_id=f"sim-{uuid.uuid4().hex}",
        sender=sender,
        text="",
        payload=json.dumps(
            {"from": sender, "photo": item, "operator": operator}, ensure_ascii=False
        ),
        media=[item],
    )
    [(inbound_id, _)] = intake.accept([incoming])
    return inbound_id


def replies(inbound_id: int) -> list[OutboundMessage]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.inbound_id == inbound_id)
                .order_by(OutboundMessage.sequence)
            )
        )


def wait_for_replies(
    inbound_id: int, timeout: float = 30.0, until_sequence: int | None = None
) -> Iterator[OutboundMessage]:
    """Yield each reply once it is sent, until the message has been answered (and, with
    `until_sequence`, a reply numbered at least that arrived: a photo's reading) or time is up."""
    from relay.models import InboundMessage

    shown: set[int] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as session:
            inbound = session.get_one(InboundMessage, inbound_id)
            done = inbound.status != "received"
        rows = replies(inbound_id)
        sent = [reply for reply in rows if reply.status != "queued"]
        for reply in sent:
            if reply.id not in shown:
                shown.add(reply.id)
                yield reply
        answered = until_sequence is None or any(r.sequence >= until_sequence for r in sent)
        if done and answered and len(sent) == len(rows):
            return
        time.sleep(0.2)
    raise TimeoutError(f"no complete answer to message {inbound_id} within {timeout:.0f} s")
