"""The channel-neutral conversation: one inbound message in, the reply texts out.

Channel adapters only translate; everything an officer can say is decided here.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots import helpdesk, tallies
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
from bots.replies import parse_error
from bots.status import status_reply
from relay.audit import record
from relay.models import Contest, InboundMessage, Officer


def contest_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Contest.code).order_by(Contest.position)))


def respond(session: Session, inbound: InboundMessage, officer: Officer | None) -> list[str]:
    """Decide the replies to one message, changing tallies and tickets as it says."""
    language = officer.language if officer else DEFAULT_LANGUAGE
    if inbound.media and not inbound.text.strip():
        return [text("media_not_read", language)]
    codes = contest_codes(session)
    command = parse(inbound.text, codes)

    if isinstance(command, Help):
        if not command.question:
            return [text("help_usage", language)]
        return [helpdesk.open_or_continue(session, inbound, officer, command.question, language)]
    if isinstance(command, Language):
        if officer is not None:
            officer.language = command.language
            record(
                session,
                f"officer:{officer.id}",
                "language_set",
                "officer",
                officer.id,
                {"language": command.language},
            )
        return [text("language_set", command.language)]
    if officer is None:
        return [text("unknown_sender", language)]
    if isinstance(command, ParseError):
        return [
            _keyword_with_extra_words(command, language)
            or parse_error(command, language, codes[0] if codes else "PPWP")
        ]
    if isinstance(command, Tally):
        return [tallies.submit(session, officer, inbound, command)]
    if isinstance(command, Confirm):
        return [tallies.confirm(session, officer, command.receipt)]
    if isinstance(command, Cancel):
        return [tallies.cancel(session, officer, command.receipt)]
    if isinstance(command, Status):
        return [status_reply(session, officer, command.tps_code)]
    raise AssertionError(f"unhandled command {command!r}")


def _keyword_with_extra_words(error: ParseError, language: str) -> str | None:
    """`YA tapi 02 salah` must not confirm anything: say how to confirm instead."""
    word = str(error.params.get("word", "")).upper() if error.code == "unrecognized" else ""
    if word in CONFIRM_WORDS:
        return text("word_alone", language, word="YA", action=text("action_confirm", language))
    if word in CANCEL_WORDS:
        return text("word_alone", language, word="BATAL", action=text("action_cancel", language))
    return None
