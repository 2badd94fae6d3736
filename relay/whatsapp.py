"""WhatsApp's 24-hour window and the approved templates (Twilio Content API) used outside it.

WhatsApp allows free text only within 24 hours of the officer's last message; after that
only an approved template goes out. Templates are configured by their ContentSid (HX…):

- WHATSAPP_TEMPLATE_HELPDESK_REPLY (`_ID` / `_EN` for one language): an operator's reply,
  variables {{1}} the ticket number and {{2}} the reply;
- WHATSAPP_TEMPLATE_HELPDESK_NOTICE (`_ID` / `_EN`): a help-desk notice about a tally,
  variable {{1}} the notice.

Where none fits, the message is not sent on WhatsApp (it could not arrive) and jobs.fallback
sends it by SMS; the console says which template was missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relay.models import InboundMessage, as_utc

WINDOW = timedelta(hours=24)
KINDS = {"helpdesk_reply": "WHATSAPP_TEMPLATE_HELPDESK_REPLY",
         "helpdesk_notice": "WHATSAPP_TEMPLATE_HELPDESK_NOTICE"}


def template_env(kind: str) -> str:
    """The environment variable naming `kind`'s template (without language suffix)."""
    return KINDS[kind]


def template_sid(kind: str, language: str | None) -> str | None:
    """The ContentSid for `kind` in the officer's language, else the language-neutral one."""
    name = KINDS[kind]
    suffix = (language or "id").upper()
    for candidate in (f"{name}_{suffix}", name):
        value = os.environ.get(candidate, "").strip()
        if value:
            return value
    return None


def last_inbound_at(session: Session, address: str) -> datetime | None:
    """When this WhatsApp address last wrote to us."""
    found = session.scalar(
        select(func.max(InboundMessage.received_at)).where(
            InboundMessage.channel == "whatsapp", InboundMessage.sender == address
        )
    )
    return None if found is None else as_utc(found)


def window_open(session: Session, address: str, now: datetime | None = None) -> bool:
    last = last_inbound_at(session, address)
    return last is not None and (now or datetime.now(UTC)) - last < WINDOW


@dataclass(frozen=True)
class Plan:
    """How a WhatsApp message goes out: free text, a template, or not at all (`missing`
    names the template variable that would be needed)."""

    extras: dict[str, Any] | None
    missing: str | None = None


def may_need_template(extras: dict[str, Any] | None) -> bool:
    """Whether a message may go as a template outside the window (plan() has anything to
    decide): the help desk's messages; every other one goes as free text."""
    kind = (extras or {}).get("template")
    return bool(kind) and kind in KINDS


def plan(session: Session, address: str, extras: dict[str, Any] | None, language: str | None
         ) -> Plan:
    """Free text inside the window; outside, the message's template (extras["template"],
    extras["template_variables"]) as ContentSid + ContentVariables, or `missing`."""
    extras = dict(extras or {})
    kind = extras.get("template")
    if not may_need_template(extras) or window_open(session, address):
        return Plan(extras)
    sid = template_sid(kind, language)
    if sid is None:
        return Plan(extras, missing=KINDS[kind])
    extras["content_sid"] = sid
    extras["content_variables"] = extras.get("template_variables") or {}
    return Plan(extras)
