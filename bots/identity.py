"""Who is writing: the roster officer behind a channel address."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select
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


def found_by_stored_phone(channel: str, sender: str) -> bool:
    """Whether find_officer(channel, sender) is the officer whose phone is `sender` itself: a
    phone channel's sender stored in E.164 (as the webhooks store it). Then a join on
    officers.phone = the message's sender finds the same officer, or the same nobody, without
    a look-up of its own (jobs.inbound)."""
    if channel not in PHONE_CHANNELS:
        return False
    try:
        return to_e164(sender) == sender
    except InvalidPhone:
        return False


def officers_among(
    cursor: Any, mark: str, senders: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """The (channel, sender) pairs that are roster officers, as find_officer decides it, in
    at most two indexed look-ups (phones, Telegram ids) on a DBAPI `cursor` whose named
    placeholders look like `mark` (":{}", "%({})s"): the webhook runs them on the pooled
    connection that just stored the messages (relay.inbox.store_then_read), where a Core
    SELECT … IN on a connection of its own cost a fifth of the request.
    (CONTACT, phone) stands for a Telegram user sharing their own contact: an officer
    registering when the number is on the roster."""
    phones: dict[str, list[tuple[str, str]]] = {}
    telegram_ids: dict[int, list[tuple[str, str]]] = {}
    for channel, sender in set(senders):
        # A Telegram id is a BIGINT; a longer string of digits is nobody's (nor bindable).
        if channel == "telegram" and sender.isascii() and sender.isdigit() and len(sender) < 19:
            telegram_ids.setdefault(int(sender), []).append((channel, sender))
        elif channel in PHONE_CHANNELS or channel == CONTACT:
            normalise = international_to_e164 if channel == CONTACT else to_e164
            try:
                phones.setdefault(normalise(sender), []).append((channel, sender))
            except InvalidPhone:
                continue
    found: set[tuple[str, str]] = set()
    wanted: dict[Any, list[tuple[str, str]]]
    for column, wanted in (("phone", phones), ("telegram_user_id", telegram_ids)):
        if not wanted:
            continue
        values = {f"v{i}": value for i, value in enumerate(wanted)}
        marks = ", ".join(mark.format(name) for name in values)
        cursor.execute(f"SELECT {column} FROM officers WHERE {column} IN ({marks})", values)
        for (value,) in cursor.fetchall():
            found.update(wanted[value])
    return found
