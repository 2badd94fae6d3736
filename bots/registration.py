"""Messenger registration: bind a Telegram account to a roster officer by the phone number
the officer shares from their own account (contact.user_id == from.id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.messages import DEFAULT_LANGUAGE, text
from bots.reply import Reply
from bots.tallies import scope_text
from relay.audit import record
from relay.models import InboundMessage, Officer
from relay.phone import InvalidPhone, international_to_e164


def ask_for_contact(language: str, key: str = "registration_needed", **params: object) -> Reply:
    return Reply(
        text(key, language, **params), request_contact=text("share_contact_button", language)
    )


def start(officer: Officer | None) -> Reply:
    if officer is None:
        return ask_for_contact(DEFAULT_LANGUAGE)
    return _registered(officer)


def _registered(officer: Officer) -> Reply:
    return Reply(
        text("registered", officer.language, name=officer.name, scope=scope_text(officer)),
        remove_keyboard=True,
    )


def bind_contact(session: Session, inbound: InboundMessage, event: dict[str, Any]) -> Reply:
    """Accept only the sender's own contact, and only a number on the roster."""
    if not event.get("own"):
        return ask_for_contact(DEFAULT_LANGUAGE, "contact_not_own")
    raw = str(event.get("phone", ""))
    try:
        phone = international_to_e164(raw)  # Telegram gives the full international number
    except InvalidPhone:
        phone = raw
    officer = session.scalar(select(Officer).where(Officer.phone == phone))
    if officer is None:
        record(
            session,
            f"telegram:{inbound.sender}",
            "registration_refused",
            "inbound",
            inbound.id,
            {"reason": "not on roster"},
        )
        return Reply(text("contact_unknown", DEFAULT_LANGUAGE, phone=phone), remove_keyboard=True)
    user_id = int(inbound.sender)
    previous = session.scalar(select(Officer).where(Officer.telegram_user_id == user_id))
    if previous is not None and previous.id != officer.id:
        previous.telegram_user_id = None  # one Telegram account speaks for one officer
        session.flush()
    if officer.telegram_user_id != user_id:
        officer.telegram_user_id = user_id
        officer.reachable = True
        record(
            session,
            f"officer:{officer.id}",
            "telegram_bound",
            "officer",
            officer.id,
            {"telegram_user_id": user_id},
        )
    inbound.officer_id = officer.id
    return _registered(officer)
