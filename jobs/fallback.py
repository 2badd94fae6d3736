"""An operator's reply (or help-desk notice) its channel cannot deliver goes again by SMS.

Telegram refuses a user who blocked the bot (403) or a chat it no longer knows ("chat not
found"); WhatsApp refuses free text once the officer's 24-hour window has closed (Twilio
63016) or when no approved template fits; any channel may refuse for good. If the officer has
a phone number on the roster, a new outbound row on the SMS channel carries the same text,
pointing at the failed one (`fallback_of_id`), so the ticket shows "sent by SMS because …".
Callers enqueue the returned id once the transaction commits.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.base import STOPPED, SendError
from channels.twilio import WINDOW_CLOSED_CODES
from relay.audit import record
from relay.config import Settings
from relay.models import Officer, OutboundMessage
from relay.whatsapp import KINDS

log = logging.getLogger(__name__)

SMS_CHANNELS = ("twilio", "sms-gateway")
# Why a message went by SMS (console texts: web.console.delivery "fallback_<reason>").
TELEGRAM_BLOCKED = "telegram_blocked"
TELEGRAM_CHAT_NOT_FOUND = "telegram_chat_not_found"
TELEGRAM_DEACTIVATED = "telegram_deactivated"
WHATSAPP_WINDOW = "whatsapp_window"
WHATSAPP_NO_TEMPLATE = "whatsapp_no_template"
FAILED = "failed"
NO_TEMPLATE_CODE = "no_template"


def reason_for(channel: str, error: SendError) -> str:
    """Why `channel` could not deliver, from the provider's answer."""
    detail = error.detail.lower()
    if channel == "telegram" and error.kind == STOPPED and "deactivated" in detail:
        return TELEGRAM_DEACTIVATED
    if channel == "telegram" and error.kind == STOPPED:
        return TELEGRAM_BLOCKED
    if channel == "telegram" and "chat not found" in detail:
        return TELEGRAM_CHAT_NOT_FOUND
    if channel == "whatsapp" and error.code == NO_TEMPLATE_CODE:
        return WHATSAPP_NO_TEMPLATE
    if channel == "whatsapp" and error.code in {str(c) for c in WINDOW_CLOSED_CODES}:
        return WHATSAPP_WINDOW
    return FAILED


def sms_channel(settings: Settings) -> str | None:
    """The SMS channel this deployment sends through: Twilio SMS, else the SMS gateway."""
    if settings.twilio_enabled and settings.twilio_sms_number:
        return "twilio"
    if settings.sms_gateway_send_url:
        return "sms-gateway"
    return None


def falls_back(message: OutboundMessage) -> bool:
    """Only the help desk's messages to an officer (operator replies, notices) fall back:
    a conversation reply answers a message that just came in on its channel."""
    kind = (message.extras or {}).get("template")
    return (
        kind in KINDS
        and message.officer_id is not None
        and message.channel not in (*SMS_CHANNELS, "simulator")
        and message.fallback_of_id is None
    )


def fall_back(
    session: Session, message: OutboundMessage, reason: str, settings: Settings
) -> OutboundMessage | None:
    """The SMS copy of a failed message (None: it does not fall back, or already did)."""
    if not falls_back(message):
        return None
    officer = session.get(Officer, message.officer_id)
    channel = sms_channel(settings)
    if officer is None or not officer.phone or channel is None:
        log.info("outbound %s: no SMS fallback (officer phone or SMS channel missing)", message.id)
        return None
    earlier = select(OutboundMessage.id).where(OutboundMessage.fallback_of_id == message.id)
    if session.scalar(earlier):
        return None  # a status callback and the send job may both report the failure
    copy = OutboundMessage(
        channel=channel,
        to_address=officer.phone,
        text=message.text,
        officer_id=officer.id,
        fallback_of_id=message.id,
        extras={"fallback_reason": reason},
    )
    session.add(copy)
    session.flush()
    record(
        session,
        "system",
        "reply_fallback",
        "outbound",
        message.id,
        {"reason": reason, "sms": copy.id, "channel": message.channel},
    )
    log.info("outbound %s (%s): %s, sent again by SMS as %s", message.id, message.channel,
             reason, copy.id)
    return copy
