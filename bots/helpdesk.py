"""BANTUAN / HELP: open or continue the sender's help-desk ticket."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.messages import text
from relay.audit import record
from relay.models import InboundMessage, Officer, Ticket, TicketMessage


def open_or_continue(
    session: Session,
    inbound: InboundMessage,
    officer: Officer | None,
    question: str,
    language: str,
) -> str:
    query = select(Ticket).where(Ticket.status == "open")
    if officer is not None:
        query = query.where(Ticket.officer_id == officer.id)
    else:
        query = query.where(Ticket.channel == inbound.channel, Ticket.address == inbound.sender)
    ticket = session.scalars(query.order_by(Ticket.id.desc())).first()
    continued = ticket is not None
    if ticket is None:
        ticket = Ticket(
            officer_id=officer.id if officer else None,
            channel=inbound.channel,
            address=inbound.sender,
        )
        session.add(ticket)
        session.flush()
        record(
            session,
            f"officer:{officer.id}" if officer else f"sender:{inbound.sender}",
            "ticket_opened",
            "ticket",
            ticket.id,
            {"channel": inbound.channel},
        )
    ticket.updated_at = datetime.now(UTC)
    # A ticket follows the officer's latest channel, so the operator's answer reaches them.
    ticket.channel, ticket.address = inbound.channel, inbound.sender
    session.add(
        TicketMessage(ticket_id=ticket.id, direction="in", body=question, inbound_id=inbound.id)
    )
    return text("ticket_continued" if continued else "ticket_opened", language, ticket=ticket.id)
