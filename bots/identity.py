"""Who is writing: the roster officer behind a channel address."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from relay.models import Officer
from relay.phone import InvalidPhone, international_to_e164, to_e164

PHONE_CHANNELS = frozenset({"twilio", "whatsapp", "sms-gateway", "simulator"})
CONTACT = "contact"
# Built once: a statement made per call cost more to build and key than to run.
_BY_TELEGRAM_ID = select(Officer).where(Officer.telegram_user_id == bindparam("user_id"))
_BY_PHONE = select(Officer).where(Officer.phone == bindparam("phone"))


def find_officer(session: Session, channel: str, sender: str) -> Officer | None:
    """Phone channels match the roster by E.164 number; Telegram by the bound user id."""
    if channel == "telegram":
        try:
            user_id = int(sender)
        except ValueError:
            return None
        return session.scalar(_BY_TELEGRAM_ID, {"user_id": user_id})
    if channel in PHONE_CHANNELS:
        try:
            phone = to_e164(sender)
        except InvalidPhone:
            return None
        return session.scalar(_BY_PHONE, {"phone": phone})
    return None


def officers_among(
    connection: Connection, senders: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """The (channel, sender) pairs that are roster officers, as find_officer decides it, in
    at most two indexed look-ups (phones, Telegram ids): cheap enough for the webhook.
    (CONTACT, phone) stands for a Telegram user sharing their own contact: an officer
    registering when the number is on the roster."""
    senders = set(senders)
    phones: dict[str, list[tuple[str, str]]] = {}
    telegram_ids: dict[int, tuple[str, str]] = {}
    for channel, sender in senders:
        if channel == "telegram" and sender.isascii() and sender.isdigit():
            telegram_ids[int(sender)] = (channel, sender)
        elif channel in PHONE_CHANNELS or channel == CONTACT:
            normalise = international_to_e164 if channel == CONTACT else to_e164
            try:
                phones.setdefault(normalise(sender), []).append((channel, sender))
            except InvalidPhone:
                continue
    found: set[tuple[str, str]] = set()
    if phones:
        query = select(Officer.phone).where(Officer.phone.in_(list(phones)))
        for phone in connection.scalars(query):
            found.update(phones[phone])
    if telegram_ids:
        query = select(Officer.telegram_user_id).where(
            Officer.telegram_user_id.in_(list(telegram_ids))
        )
        found.update(telegram_ids[user_id] for user_id in connection.scalars(query))
    return found
