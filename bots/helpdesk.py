"""The help desk: officers' questions answered from the FAQ at once, or by an operator.

`BANTUAN <question>`, `HELP <question>` and free text that is no command come here:
- a change to a confirmed tally (`BANTUAN 6MFHDW 01=51`) becomes a change request in the
  review queue (bots.change_requests), not a ticket;
- with an open ticket, the message joins it (one open ticket per officer);
- small talk ("BANTUAN halo") gets a friendly reply (bots.chitchat);
- a question the FAQ answers well gets that answer at once, plus "not answered? reply 0";
  the exchange is kept as a ticket in state `faq`, so `0` (or the same question again, or
  any unanswered follow-up) opens it for an operator with the whole conversation;
- anything else opens a ticket. Every ticket carries the FAQ's best answer as a suggestion
  for the operator (a message with direction `sug`, never sent). Operators answer from the
  console; the answer is queued as an outbound message on the channel the officer last
  wrote from.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bots import change_requests, chitchat, faq
from bots.grammar import ParseError
from bots.messages import DEFAULT_LANGUAGE, text
from bots.reply import Reply
from relay.audit import record
from relay.config import load_settings
from relay.models import Contest, InboundMessage, Officer, OutboundMessage, Ticket, TicketMessage
from relay.training import is_training, of_world, record_for

log = logging.getLogger(__name__)

ESCALATE = "0"
FAQ_WINDOW = timedelta(hours=24)  # how long "0" can still pass an FAQ answer's question on
# An inbound status: stored, but no ticket opened, because senders on no roster already hold
# UNKNOWN_OPEN_TICKETS open tickets. The console shows how many.
HELD = "held"
SUGGESTION = "sug"  # a ticket message: the FAQ's answer suggested to the operator, not sent

# Texts of the human side, in the pattern of bots/messages.py.
TEXTS: dict[str, dict[str, str]] = {
    "free_text_ticket": {
        "id": "Pesan diteruskan ke help desk (tiket #{ticket}). "
        "Kirim data: {contest} <kode TPS> 01=.. 02=.. SAH=.. TS=..",
        "en": "Message passed to the help desk (ticket #{ticket}). "
        "To send a tally: {contest} <TPS code> 01=.. 02=.. SAH=.. TS=..",
    },
    "operator_reply": {
        "id": "Help desk (tiket #{ticket}): {body}",
        "en": "Help desk (ticket #{ticket}): {body}",
    },
    "tally_changed": {
        "id": "Help desk mengubah {contest} TPS {tps} (kode {receipt}) menjadi: {values}.",
        "en": "The help desk changed {contest} TPS {tps} (code {receipt}) to: {values}.",
    },
    "conflict_accepted": {
        "id": "Help desk memakai data Anda {contest} TPS {tps} (kode {receipt}): {values}.",
        "en": "The help desk accepted your {contest} TPS {tps} tally (code {receipt}): {values}.",
    },
    "conflict_dismissed": {
        "id": "Help desk mempertahankan data terkonfirmasi {contest} TPS {tps} (kode {kept}); "
        "kiriman {receipt} tidak dipakai.",
        "en": "The help desk kept the confirmed {contest} TPS {tps} tally (code {kept}); "
        "tally {receipt} is not used.",
    },
}


def say(key: str, language: str | None, /, **params: object) -> str:
    variants = TEXTS[key]
    return (variants.get(language or DEFAULT_LANGUAGE) or variants[DEFAULT_LANGUAGE]).format(
        **params
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _latest(
    session: Session,
    inbound: InboundMessage,
    officer: Officer | None,
    status: str,
    within: timedelta | None = None,
) -> Ticket | None:
    query = select(Ticket).where(Ticket.status == status)
    if officer is not None:
        # A question from the simulator never joins (nor moves) an officer's real ticket.
        training = is_training(inbound.channel)
        query = query.where(Ticket.officer_id == officer.id, of_world(Ticket.channel, training))
    else:
        query = query.where(
            Ticket.officer_id.is_(None),
            Ticket.channel == inbound.channel,
            Ticket.address == inbound.sender,
        )
    if within is not None:
        query = query.where(Ticket.updated_at >= _now() - within)
    return session.scalars(query.order_by(Ticket.id.desc())).first()


def _new_ticket(
    session: Session, inbound: InboundMessage, officer: Officer | None, status: str
) -> Ticket:
    ticket = Ticket(
        officer_id=officer.id if officer else None,
        channel=inbound.channel,
        address=inbound.sender,
        status=status,
    )
    session.add(ticket)
    session.flush()
    if status == "open":
        detail = {"channel": inbound.channel}
        record_for(session, inbound, officer, "ticket_opened", "ticket", ticket.id, detail)
    return ticket


def _add_question(ticket: Ticket, inbound: InboundMessage, body: str, session: Session) -> None:
    now = _now()
    ticket.updated_at = now
    # A ticket follows the officer's latest channel, so the operator's answer reaches them.
    ticket.channel, ticket.address = inbound.channel, inbound.sender
    if ticket.status == "open" and ticket.waiting_since is None:
        ticket.waiting_since = now
    session.add(
        TicketMessage(ticket_id=ticket.id, direction="in", body=body, inbound_id=inbound.id)
    )


def _suggest(session: Session, ticket: Ticket, found: faq.Found | None, language: str) -> None:
    """Attach the FAQ's best answer for the operator to send or adapt (once per entry)."""
    if found is None:
        return
    author = f"faq:{found.entry.id}"
    known = session.scalar(
        select(TicketMessage.id).where(
            TicketMessage.ticket_id == ticket.id,
            TicketMessage.direction == SUGGESTION,
            TicketMessage.author == author,
        )
    )
    if known is None:
        body = faq.current().answer(found.entry, language)
        session.add(
            TicketMessage(ticket_id=ticket.id, direction=SUGGESTION, body=body, author=author)
        )


def _answered_before(session: Session, ticket: Ticket, entry: faq.Entry) -> bool:
    """Did this `faq` ticket already give the officer this entry's answer?"""
    return (
        session.scalar(
            select(TicketMessage.id).where(
                TicketMessage.ticket_id == ticket.id,
                TicketMessage.direction == "out",
                TicketMessage.author == f"faq:{entry.id}",
            )
        )
        is not None
    )


def _escalate(
    session: Session, ticket: Ticket, inbound: InboundMessage, officer: Officer | None
) -> None:
    ticket.status, ticket.waiting_since, ticket.updated_at = "open", _now(), _now()
    detail = {"channel": inbound.channel, "after": "faq"}
    record_for(session, inbound, officer, "ticket_opened", "ticket", ticket.id, detail)


def _outsiders_at_cap(session: Session, officer: Officer | None) -> bool:
    """True when a sender on no roster may not open another ticket (officers always may)."""
    if officer is not None:
        return False
    opened = session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.status == "open", Ticket.officer_id.is_(None))
    )
    return (opened or 0) >= load_settings().unknown_open_tickets


def _hold(inbound: InboundMessage, language: str) -> str:
    inbound.status = HELD
    log.warning(
        "help desk: no ticket for unknown sender %s/%s (inbound %s): the cap of open "
        "unknown-sender tickets is reached",
        inbound.channel,
        inbound.sender,
        inbound.id,
    )
    return text("helpdesk_full", language)


def open_or_continue(
    session: Session,
    inbound: InboundMessage,
    officer: Officer | None,
    question: str,
    language: str,
    free_text: bool = False,
) -> Reply | str:
    """Answer a help request: continue the open ticket, answer from the FAQ, or open one.

    `free_text`: the message was no command at all; a new ticket's reply then also says how
    a tally is written, in case that is what the officer meant to send.
    """
    question = question.strip()
    if officer is not None:
        requested = change_requests.handle(session, inbound, officer, question, language)
        if requested is not None:
            return requested
    book = faq.current()
    found = faq.best(question, book) if question != ESCALATE else None
    ticket = _latest(session, inbound, officer, "open")
    if ticket is not None:
        _add_question(ticket, inbound, question, session)
        _suggest(session, ticket, found, language)
        return text("ticket_continued", language, ticket=ticket.id)
    small_talk = chitchat.reply(question, language, session.scalars(select(Contest.code)).all())
    if small_talk is not None:
        return small_talk
    offered = _latest(session, inbound, officer, "faq", within=FAQ_WINDOW)
    if question == ESCALATE:
        if offered is None:
            return book.phrase("nothing_to_escalate", language)
        if _outsiders_at_cap(session, officer):
            return _hold(inbound, language)
        _escalate(session, offered, inbound, officer)
        return text("ticket_opened", language, ticket=offered.id)
    entry = found.entry if found is not None and found.good else None
    if entry is not None and offered is not None and _answered_before(session, offered, entry):
        # The same question again: the answer did not help, a person will.
        if _outsiders_at_cap(session, officer):
            return _hold(inbound, language)
        _escalate(session, offered, inbound, officer)
        _add_question(offered, inbound, question, session)
        _suggest(session, offered, found, language)
        return text("faq_repeat_ticket", language, ticket=offered.id)
    if entry is not None:
        ticket = offered or _new_ticket(session, inbound, officer, "faq")
        _add_question(ticket, inbound, question, session)
        answer = book.answer(entry, language)
        session.add(
            TicketMessage(
                ticket_id=ticket.id, direction="out", body=answer, author=f"faq:{entry.id}"
            )
        )
        known = officer is not None
        hint = book.phrase("escalate_hint" if known else "escalate_hint_unknown", language)
        command = ESCALATE if known else f"{'HELP' if language == 'en' else 'BANTUAN'} {ESCALATE}"
        return Reply(
            f"{answer} {hint}".strip(),
            buttons=((book.phrase("escalate_button", language), command),),
        )
    if _outsiders_at_cap(session, officer):
        return _hold(inbound, language)
    ticket = offered
    if ticket is None:
        ticket = _new_ticket(session, inbound, officer, "open")
    else:
        _escalate(session, ticket, inbound, officer)
    _add_question(ticket, inbound, question, session)
    _suggest(session, ticket, found, language)
    if free_text and offered is None:
        contest = session.scalar(select(Contest.code).order_by(Contest.position, Contest.code))
        return say("free_text_ticket", language, ticket=ticket.id, contest=contest or "PPWP")
    return text("ticket_opened", language, ticket=ticket.id)


def free_text(
    session: Session,
    inbound: InboundMessage,
    officer: Officer | None,
    error: ParseError,
    language: str,
) -> Reply | str | None:
    """Text that is no command at all goes to the help desk; malformed tallies do not."""
    if error.code != "unrecognized":
        return None
    return open_or_continue(session, inbound, officer, inbound.text, language, free_text=True)


# --- the operator's side -------------------------------------------------------------------


def queue_message(
    session: Session,
    channel: str,
    address: str,
    body: str,
    officer_id: int | None,
    extras: dict[str, object] | None = None,
) -> OutboundMessage:
    """An outbound message on `channel`; enqueue its id once the transaction commits.

    `extras` "template"/"template_variables": the help desk's WhatsApp template for when the
    officer's 24-hour window has closed (relay.whatsapp), which also lets the message fall
    back to SMS (jobs.fallback)."""
    message = OutboundMessage(
        channel=channel, to_address=address, text=body, officer_id=officer_id, extras=extras
    )
    session.add(message)
    session.flush()
    return message


def message_officer(
    session: Session, officer: Officer, body: str, training: bool = False
) -> OutboundMessage | None:
    """Queue `body` to the officer on the channel they last wrote from (None: never wrote).

    About a real tally, only a real channel counts (never the simulator an operator used
    in the officer's name); about a training tally, only the simulator."""
    last = session.scalars(
        select(InboundMessage)
        .where(
            InboundMessage.officer_id == officer.id,
            of_world(InboundMessage.channel, training),
        )
        .order_by(InboundMessage.id.desc())
    ).first()
    if last is None:
        return None
    notice = {"template": "helpdesk_notice", "template_variables": {"1": body}}
    return queue_message(session, last.channel, last.sender, body, officer.id, notice)


def operator_reply(
    session: Session, ticket: Ticket, operator_name: str, body: str
) -> OutboundMessage:
    """Queue an operator's answer on the ticket's channel and keep it in the ticket."""
    body = body.strip()
    if not body:
        raise ValueError("empty reply")
    officer = session.get(Officer, ticket.officer_id) if ticket.officer_id else None
    language = officer.language if officer else DEFAULT_LANGUAGE
    outbound = queue_message(
        session,
        ticket.channel,
        ticket.address,
        say("operator_reply", language, ticket=ticket.id, body=body),
        ticket.officer_id,
        {"template": "helpdesk_reply", "template_variables": {"1": str(ticket.id), "2": body}},
    )
    session.add(
        TicketMessage(
            ticket_id=ticket.id,
            direction="out",
            body=body,
            author=operator_name,
            outbound_id=outbound.id,
        )
    )
    ticket.waiting_since, ticket.updated_at = None, _now()
    if ticket.status != "open":
        ticket.status = "open"
    record(
        session,
        f"operator:{operator_name}",
        "ticket_replied",
        "ticket",
        ticket.id,
        {"outbound": outbound.id, "channel": ticket.channel},
    )
    return outbound


def set_status(session: Session, ticket: Ticket, operator_name: str, status: str) -> None:
    if status not in ("open", "closed"):
        raise ValueError(status)
    ticket.status, ticket.updated_at = status, _now()
    if status == "closed":
        ticket.waiting_since = None
    record(
        session,
        f"operator:{operator_name}",
        "ticket_closed" if status == "closed" else "ticket_reopened",
        "ticket",
        ticket.id,
    )
