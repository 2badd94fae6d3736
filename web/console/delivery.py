"""How each operator reply of a ticket went out: its channel's status, the WhatsApp
template it used outside the 24-hour window, and the SMS that replaced it when the channel
could not deliver (jobs.fallback), with the reason in the operator's language."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay import whatsapp
from relay.models import Officer, OutboundMessage, Ticket
from web.i18n import t


@dataclass(frozen=True)
class Fallback:
    outbound: OutboundMessage
    note: str  # "sent by SMS to +62… because …"


def fallbacks(db: Session, outbound_ids: list[int]) -> dict[int, Fallback]:
    """The SMS copies of these messages, by the id of the message each replaces."""
    if not outbound_ids:
        return {}
    found: dict[int, Fallback] = {}
    rows = db.scalars(
        select(OutboundMessage).where(OutboundMessage.fallback_of_id.in_(outbound_ids))
    )
    for row in rows:
        original = db.get_one(OutboundMessage, row.fallback_of_id)
        reason = (row.extras or {}).get("fallback_reason", "failed")
        because = t(f"fallback_{reason}", channel=original.channel)
        note = t("fallback_sent_by_sms", phone=row.to_address, reason=because)
        found[row.fallback_of_id] = Fallback(row, note)  # type: ignore[index]
    return found


def template_used(outbound: OutboundMessage) -> str | None:
    sid = (outbound.extras or {}).get("content_sid")
    return t("whatsapp_template_used", sid=sid) if sid else None


def window_notice(db: Session, ticket: Ticket) -> str | None:
    """For a WhatsApp ticket whose officer last wrote over 24 hours ago: which template the
    next reply will use, or that none is configured (so it goes by SMS)."""
    if ticket.channel != "whatsapp" or whatsapp.window_open(db, ticket.address):
        return None
    officer = db.get(Officer, ticket.officer_id) if ticket.officer_id else None
    sid = whatsapp.template_sid("helpdesk_reply", officer.language if officer else None)
    if sid:
        return t("whatsapp_window_closed_hint", sid=sid)
    return t("whatsapp_window_closed_no_template", env=whatsapp.template_env("helpdesk_reply"))
