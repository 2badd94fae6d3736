"""Who works on a ticket: an operator claims it (or takes it over), a supervisor assigns it;
both are audited. A claim warns other operators but never stops them from replying."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from relay import operators
from relay.audit import record
from relay.db import session_scope
from relay.locks import lock_row
from relay.models import Operator, Ticket
from web.auth import current_operator, login_required
from web.console import blueprint
from web.i18n import t


class ClaimError(ValueError):
    """An assignment that cannot be made (role, unknown operator)."""


def _set(session: Session, ticket: Ticket, actor: str, action: str, to: str | None) -> None:
    before = ticket.assigned_to
    ticket.assigned_to = to
    ticket.assigned_at = datetime.now(UTC) if to else None
    record(session, f"operator:{actor}", action, "ticket", ticket.id, {"from": before, "to": to})


def claim(session: Session, ticket: Ticket, operator_name: str) -> str | None:
    """Take the ticket; returns whom it was taken from (None if it was free or already ours)."""
    before = ticket.assigned_to
    if before == operator_name:
        return None
    _set(session, ticket, operator_name, "ticket_claimed", operator_name)
    return before


def release(session: Session, ticket: Ticket, operator_name: str) -> None:
    if ticket.assigned_to is not None:
        _set(session, ticket, operator_name, "ticket_released", None)


def assign(session: Session, ticket: Ticket, actor_name: str, actor_role: str, to: str) -> None:
    """A supervisor or an admin hands the ticket to an active operator ("" frees it)."""
    if not operators.can_approve(actor_role):
        raise ClaimError(t("assign_supervisors_only"))
    if not to:
        release(session, ticket, actor_name)
        return
    exists = session.scalar(select(Operator.id).where(Operator.name == to, Operator.active))
    if exists is None:
        raise ClaimError(t("no_such_operator", name=to))
    if ticket.assigned_to != to:
        _set(session, ticket, actor_name, "ticket_assigned", to)


def active_operator_names(session: Session) -> list[str]:
    return list(
        session.scalars(select(Operator.name).where(Operator.active).order_by(Operator.name))
    )


def _locked_ticket(session: Session, ticket_id: int) -> Ticket:
    found = lock_row(session, Ticket, ticket_id)
    if found is None:
        abort(404)
    return found


def _back(ticket_id: int) -> ResponseReturnValue:
    return redirect(url_for("console.ticket", ticket_id=ticket_id))


@blueprint.post("/tickets/<int:ticket_id>/claim")
@login_required()
def claim_ticket(ticket_id: int) -> ResponseReturnValue:
    active = current_operator()
    assert active is not None
    with session_scope() as db:
        taken_from = claim(db, _locked_ticket(db, ticket_id), active.operator_name)
    if taken_from:
        flash(t("taken_over_flash", n=ticket_id, name=taken_from))
    else:
        flash(t("claimed_flash", n=ticket_id))
    return _back(ticket_id)


@blueprint.post("/tickets/<int:ticket_id>/release")
@login_required()
def release_ticket(ticket_id: int) -> ResponseReturnValue:
    active = current_operator()
    assert active is not None
    with session_scope() as db:
        release(db, _locked_ticket(db, ticket_id), active.operator_name)
    flash(t("released_flash", n=ticket_id))
    return _back(ticket_id)


@blueprint.post("/tickets/<int:ticket_id>/assign")
@login_required()
def assign_ticket(ticket_id: int) -> ResponseReturnValue:
    active = current_operator()
    assert active is not None
    to = request.form.get("operator", "").strip()[:100]
    with session_scope() as db:
        role = db.get_one(Operator, active.operator_id).role  # the role as it is now
        if not operators.can_approve(role):
            abort(403)
        try:
            assign(db, _locked_ticket(db, ticket_id), active.operator_name, role, to)
        except ClaimError as error:
            db.rollback()
            flash(str(error))
            return _back(ticket_id)
    flash(t("assigned_flash", n=ticket_id, name=to) if to else t("released_flash", n=ticket_id))
    return _back(ticket_id)
