"""Canned replies: ready answers in Indonesian and English. An operator inserts one into the
reply box in the officer's language and may edit it before sending; supervisors and admins
edit the list at /console/canned (audited)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from relay import operators
from relay.audit import record
from relay.db import session_scope
from relay.models import CannedReply, Operator
from web.auth import current_operator, login_required
from web.console import blueprint
from web.i18n import t

MAX_BODY = 1000


def listed(session: Session, only_active: bool = True) -> list[CannedReply]:
    query = select(CannedReply).order_by(CannedReply.position, CannedReply.id)
    if only_active:
        query = query.where(CannedReply.active)
    return list(session.scalars(query))


def body_for(reply: CannedReply, language: str | None) -> str:
    """The text in the officer's language (Indonesian unless they chose English)."""
    return reply.body_en if language == "en" else reply.body_id


def save(
    session: Session, actor: str, reply: CannedReply | None, fields: dict[str, str]
) -> CannedReply | None:
    """Create or update; None when a field is missing or too long."""
    title = fields.get("title", "").strip()[:60]
    body_id, body_en = fields.get("body_id", "").strip(), fields.get("body_en", "").strip()
    if not (title and body_id and body_en) or max(len(body_id), len(body_en)) > MAX_BODY:
        return None
    try:
        position = int(fields.get("position", "0") or 0)
    except ValueError:
        position = 0
    if reply is None:
        reply = CannedReply()
        session.add(reply)
    reply.title, reply.body_id, reply.body_en = title, body_id, body_en
    reply.position, reply.active = position, bool(fields.get("active"))
    reply.updated_by, reply.updated_at = actor, datetime.now(UTC)
    session.flush()
    record(
        session,
        f"operator:{actor}",
        "canned_reply_saved",
        "canned_reply",
        reply.id,
        {"title": title, "active": reply.active},
    )
    return reply


def _may_edit(session: Session) -> bool:
    active = current_operator()
    assert active is not None
    return operators.can_approve(session.get_one(Operator, active.operator_id).role)


@blueprint.get("/canned")
@login_required()
def canned_page() -> ResponseReturnValue:
    with session_scope() as db:
        return render_template(
            "console/canned.html", replies=listed(db, only_active=False), may_edit=_may_edit(db)
        )


@blueprint.post("/canned", defaults={"reply_id": None})
@blueprint.post("/canned/<int:reply_id>")
@login_required()
def save_canned(reply_id: int | None) -> ResponseReturnValue:
    active = current_operator()
    assert active is not None
    with session_scope() as db:
        if not _may_edit(db):
            abort(403)
        reply = None
        if reply_id is not None:
            reply = db.get(CannedReply, reply_id)
            if reply is None:
                abort(404)
        saved = save(db, active.operator_name, reply, request.form.to_dict())
        if saved is None:
            db.rollback()
    flash(t("canned_saved") if saved is not None else t("canned_incomplete"))
    return redirect(url_for("console.canned_page"))
