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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from channels.base import Incoming
from relay import intake, media
from relay.config import load_settings
from relay.db import session_scope
from relay.models import OutboundMessage, utcnow
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


class NotPressable(ValueError):
    """The button is not there (any more): Telegram removes a keyboard once it is answered."""


def press_button(phone: str, outbound_id: int, index: int, *, operator: str) -> int:
    """Press button `index` under simulator reply `outbound_id`, as Telegram's inline keyboard
    does: a callback query carrying the button's data (cut to Telegram's 64 bytes) and naming
    the message, which the conversation answers by editing that message. Returns the inbound
    id; raises NotPressable for a button that is not shown."""
    _check_enabled()
    sender = to_e164(phone)
    with session_scope() as session:
        reply = session.get(OutboundMessage, outbound_id)
        if reply is None or reply.channel != CHANNEL or reply.to_address != sender:
            raise NotPressable("no such message in this thread")
        buttons = (reply.extras or {}).get("buttons") or []
        if not 0 <= index < len(buttons):
            raise NotPressable("no such button")
        if _edited(session, sender, outbound_id):
            raise NotPressable("already answered")
        label, data = buttons[index]
        message_text = reply.text
    callback_id = f"sim-cb-{uuid.uuid4().hex}"
    event = {
        "type": "callback",
        "id": callback_id,
        "message_id": outbound_id,
        "message_text": message_text,
    }
    incoming = Incoming(
        channel=CHANNEL,
        provider_id=callback_id,
        sender=sender,
        text=str(data)[:64],  # as channels.telegram sends callback_data
        payload=json.dumps(
            {"from": sender, "callback": {"message_id": outbound_id, "label": label},
             "operator": operator},
            ensure_ascii=False,
        ),
        event=event,
    )
    [(inbound_id, _)] = intake.accept([incoming])
    return inbound_id


def _edited(session: Session, sender: str, outbound_id: int) -> bool:
    """Whether a reply already edited message `outbound_id` (answered its buttons)."""
    rows = session.scalars(
        select(OutboundMessage.extras).where(
            OutboundMessage.channel == CHANNEL, OutboundMessage.to_address == sender,
            OutboundMessage.id > outbound_id,
        )
    )
    return any((extras or {}).get("edit_message_id") == outbound_id for extras in rows)


def reset_contact(phone: str, *, operator: str) -> dict[str, int]:
    """Start the training contact `phone` afresh, as RapidPro's simulator does: its training
    tallies are set aside (pending ones and the confirmed one, so the next training tally has
    the slot again; reason `training_reset`), the open review items of its training tallies
    closed, the pages of a
    photographed form read so far forgotten, and the thread shown empty from here on. Real
    tallies and the officer's settings are untouched; the audit names the operator."""
    from relay.audit import record
    from relay.models import InboundMessage, Officer, PhotoPage, ReviewItem, Submission

    _check_enabled()
    sender = to_e164(phone)
    now = utcnow()
    with session_scope() as session:
        officer = session.scalar(select(Officer).where(Officer.phone == sender))
        every: list[Submission] = []
        if officer is not None:
            every = list(session.scalars(
                select(Submission).where(
                    Submission.officer_id == officer.id, Submission.training.is_(True)
                )
            ))
        tallies = [t for t in every if t.status in ("pending", "confirmed")]
        for tally in tallies:
            tally.status, tally.reason, tally.decided_at = "superseded", "training_reset", now
        ids = [t.id for t in every]
        if ids:
            from bots.review import sync_conflicts

            sync_conflicts(session)  # conflicts get their item when looked at: close it too
        items = list(session.scalars(
            select(ReviewItem).where(ReviewItem.submission_id.in_(ids),
                                     ReviewItem.status == "open")
        )) if ids else []
        for item in items:
            item.status, item.resolution = "resolved", "training_reset"
            item.resolved_by, item.resolved_at = f"operator:{operator}"[:200], now
        pages = list(session.scalars(
            select(PhotoPage).where(PhotoPage.officer_id == officer.id,
                                    PhotoPage.training.is_(True))
        )) if officer is not None else []
        for page in pages:
            session.delete(page)
        last_in = session.scalar(
            select(func.max(InboundMessage.id)).where(InboundMessage.channel == CHANNEL,
                                                      InboundMessage.sender == sender)
        ) or 0
        last_out = session.scalar(
            select(func.max(OutboundMessage.id)).where(OutboundMessage.channel == CHANNEL,
                                                       OutboundMessage.to_address == sender)
        ) or 0
        detail = {"after_inbound": last_in, "after_outbound": last_out, "tallies": len(tallies),
                  "review_items": len(items), "pages": len(pages), "training": True}
        record(session, f"operator:{operator}", RESET_ACTION, RESET_ENTITY, sender, detail)
    return detail


RESET_ACTION = "simulator_reset"
RESET_ENTITY = "simulator_contact"


def thread_start(phone: str) -> tuple[int, int]:
    """The last inbound and outbound ids before the contact's latest reset (0, 0 if none):
    the thread shows what came after."""
    from relay.models import AuditEntry

    with session_scope() as session:
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == RESET_ACTION, AuditEntry.entity == RESET_ENTITY,
                   AuditEntry.entity_id == phone)
            .order_by(AuditEntry.id.desc())
        ).first()
        if entry is None:
            return 0, 0
        return int(entry.detail.get("after_inbound", 0)), int(entry.detail.get("after_outbound", 0))
