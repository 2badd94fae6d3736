"""Who is writing: the roster officer behind a channel address."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.models import Officer
from relay.phone import InvalidPhone, to_e164

PHONE_CHANNELS = frozenset({"twilio", "whatsapp", "sms-gateway", "simulator"})


def find_officer(session: Session, channel: str, sender: str) -> Officer | None:
    """Phone channels match the roster by E.164 number; Telegram by the bound user id."""
    if channel == "telegram":
        try:
            user_id = int(sender)
        except ValueError:
            return None
        return session.scalar(select(Officer).where(Officer.telegram_user_id == user_id))
    if channel in PHONE_CHANNELS:
        try:
            phone = to_e164(sender)
        except InvalidPhone:
            return None
        return session.scalar(select(Officer).where(Officer.phone == phone))
    return None
