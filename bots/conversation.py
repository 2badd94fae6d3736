"""The channel-neutral conversation: one inbound message in, the replies out.

Channel adapters only translate; everything an officer can say is decided here. Besides
text, adapters may store a neutral `event` (a shared contact, a button press, content we
cannot read) which is handled first.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.orm import Session

from bots import chitchat, helpdesk, registration, sms, tallies
from bots.confirm_words import is_confirmation, tally_text
from bots.corrections import as_correction, latest_pending
from bots.grammar import (
    CANCEL_WORDS,
    CONFIRM_WORDS,
    Cancel,
    Confirm,
    Help,
    Language,
    ParseError,
    Status,
    Tally,
    parse,
)
from bots.messages import DEFAULT_LANGUAGE, text
from bots.own_tps import error_reply
from bots.reply import Reply
from bots.status import status_reply
from relay import catalogue
from relay.audit import record
from relay.models import InboundMessage, Officer
from relay.training import is_training, record_for

# Channels where a sender is an account that must first be bound to a roster officer.
ACCOUNT_CHANNELS = frozenset({"telegram"})
CORRECTION_WORDS = frozenset({"KOREKSI", "CORRECT", "CORRECTION", "UBAH"})


def contest_codes(session: Session) -> list[str]:
    """The contests by position (relay.catalogue: kept in memory while no load changes it)."""
    return list(catalogue.current(session).codes)


def respond(session: Session, inbound: InboundMessage, officer: Officer | None) -> list[Reply]:
    """Decide the replies to one message, changing tallies and tickets as it says."""
    event = inbound.event or {}
    replies = _for_event(session, inbound, officer, event)
    if replies is None:
        replies = [
            part
            for reply in _for_text(session, inbound, officer)
            for part in sms.parts_for(_as_reply(reply), inbound.channel)
        ]
    if event.get("type") == "callback" and replies:
        # Show the outcome on the message whose button was pressed, and stop its spinner.
        first = replies[0]
        original = str(event.get("message_text") or "")
        edited = f"{original}\n\n{text('outcome_prefix', _language(officer))}{first.text}"
        replies[0] = dataclasses.replace(
            first,
            edit_message_id=event.get("message_id"),
            edit_text=edited.strip(),
            callback_id=event.get("id"),
        )
    return replies


def _language(officer: Officer | None) -> str:
    return officer.language if officer else DEFAULT_LANGUAGE


def _as_reply(reply: Reply | str) -> Reply:
    return reply if isinstance(reply, Reply) else Reply(reply)


def _for_event(
    session: Session, inbound: InboundMessage, officer: Officer | None, event: dict[str, Any]
) -> list[Reply] | None:
    kind = event.get("type")
    language = _language(officer)
    if kind == "ignored":
        return []
    if kind in ("blocked", "unblocked"):
        if officer is not None:
            officer.reachable = kind == "unblocked"
            record(
                session,
                f"officer:{officer.id}",
                f"channel_{kind}",
                "officer",
                officer.id,
                {"channel": inbound.channel},
            )
        return []
    if kind == "contact":
        return [registration.bind_contact(session, inbound, event)]
    if kind == "start":
        return [registration.start(officer)]
    if kind == "edited":
        return [Reply(text("edited_ignored", language))]
    if kind == "unsupported":
        return [Reply(text("unsupported_content", language))]
    if kind == "not_an_image":
        return [Reply(text("not_an_image", language, content_type=event.get("content_type")))]
    if inbound.media:
        if officer is None:
            return _unknown(inbound, language)
        declared = [str(item.get("content_type") or "") for item in inbound.media]
        if not any(has_image(item) for item in inbound.media):
            return [Reply(text("not_an_image", language, content_type=declared[0]))]
        return [Reply(text("photo_received", language))]
    return None


def has_image(item: dict[str, Any]) -> bool:
    """Declared an image, or declared nothing (the bytes decide once fetched)."""
    declared = str(item.get("content_type") or "")
    return not declared or declared.startswith("image/")


def _unknown(inbound: InboundMessage, language: str, command: object = None) -> list[Reply]:
    if inbound.channel in ACCOUNT_CHANNELS:
        tried = isinstance(command, Tally) or (
            isinstance(command, ParseError) and command.code not in ("unrecognized", "empty")
        )  # a tally (or an attempt at one) is not recorded: say so, and how to register
        key = "unregistered_tally" if tried else "registration_needed"
        return [registration.ask_for_contact(language, key)]
    return [Reply(text("unknown_sender", language))]


def _for_text(
    session: Session, inbound: InboundMessage, officer: Officer | None
) -> list[Reply | str]:
    language = _language(officer)
    codes = contest_codes(session)
    hint = codes[0] if codes else "PPWP"
    training = is_training(inbound.channel)
    message = tally_text(inbound.text, codes)
    if officer is not None:
        if is_confirmation(message):  # `ya benar`, `ok siap`, 👍: before the grammar
            if latest_pending(session, officer, training) is not None:
                return [tallies.confirm(session, officer, inbound, None)]
            if message.split()[0].strip(",.!").upper() in CONFIRM_WORDS:
                return [text("nothing_pending", language)]
        correction = as_correction(session, officer, message, training)
        if isinstance(correction, Tally):
            return [tallies.submit(session, officer, inbound, correction)]
        if isinstance(correction, ParseError):
            return [error_reply(session, officer, correction, message, hint)]
        # Help desk: small talk gets a friendly reply and no ticket, unless a tally waits
        # for YA ("ok", "sip" then confirm it). Change requests and questions: bots.helpdesk.
        small_talk = chitchat.reply(inbound.text, language, codes)
        if small_talk is not None and latest_pending(session, officer, training) is None:
            return [small_talk]
    command = parse(message, codes)

    if isinstance(command, Help):
        if not command.question:
            return [text("help_usage", language)]
        return [helpdesk.open_or_continue(session, inbound, officer, command.question, language)]
    if isinstance(command, Language):
        if officer is not None:
            officer.language = command.language
            record_for(
                session,
                inbound,
                officer,
                "language_set",
                "officer",
                officer.id,
                {"language": command.language},
            )
        return [text("language_set", command.language)]
    if officer is None:
        return list(_unknown(inbound, language, command))
    if isinstance(command, ParseError):
        return [
            _keyword_with_extra_words(session, officer, command, training)
            or helpdesk.free_text(session, inbound, officer, command, language)
            or error_reply(session, officer, command, message, hint)
        ]
    if isinstance(command, Tally):
        return [tallies.submit(session, officer, inbound, command)]
    if isinstance(command, Confirm):
        return [tallies.confirm(session, officer, inbound, command.receipt)]
    if isinstance(command, Cancel):
        return [tallies.cancel(session, officer, inbound, command.receipt)]
    if isinstance(command, Status):
        return [
            tallies.marked(
                status_reply(session, officer, command.tps_code, training, command.village_code),
                inbound,
                language,
            )
        ]
    raise AssertionError(f"unhandled command {command!r}")


def _keyword_with_extra_words(
    session: Session, officer: Officer, error: ParseError, training: bool
) -> str | None:
    """`KOREKSI` explains how to correct; `YA tapi 02 salah` must not confirm anything."""
    language = officer.language
    word = str(error.params.get("word", "")).upper() if error.code == "unrecognized" else ""
    if word in CORRECTION_WORDS:
        pending = latest_pending(session, officer, training)
        if pending is None:
            return text("nothing_pending", language)
        return text("correction_howto", language, receipt=pending.receipt_code)
    if word in CONFIRM_WORDS:
        return text("word_alone", language, word="YA", action=text("action_confirm", language))
    if word in CANCEL_WORDS:
        return text("word_alone", language, word="BATAL", action=text("action_cancel", language))
    return None
