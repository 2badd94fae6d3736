"""/simulator: write as a roster officer through the simulator channel and watch the replies.

The same pipeline as `simulate sms`: messages are stored and processed by the worker like
any provider's, and replies go back on the `simulator` channel only (a reply is never sent
through a real provider: the outbound channel is always the inbound one).

A training channel (relay.training): its tallies are never counted, and each message
records the logged-in operator who sent it, whom the audit then names. Login required;
with SIMULATOR_ENABLED=0 every page here says it is switched off.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import or_, select

from relay import simulator
from relay.db import session_scope
from relay.media_store import MediaUnavailable
from relay.models import InboundMessage, Officer, OutboundMessage
from relay.phone import InvalidPhone, to_e164
from web.auth import current_operator, login_required
from web.common import check_csrf
from web.i18n import t

blueprint = Blueprint("simulator", __name__, url_prefix="/simulator", template_folder="templates")

CHANNEL = simulator.CHANNEL
MAX_TEXT = 1600
MAX_PHOTO_BYTES = 8 * 1024 * 1024
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
THREAD_LENGTH = 60


@blueprint.before_request
def _limits_and_csrf() -> ResponseReturnValue | None:
    if not simulator.enabled():
        return _switched_off()
    if request.endpoint == "simulator.photo":
        # Photos are larger than the app-wide limit, which is sized for webhooks.
        request.max_content_length = MAX_PHOTO_BYTES + 64 * 1024
    if request.method == "POST":
        check_csrf()


def _switched_off() -> ResponseReturnValue:
    wants_json = request.endpoint == "simulator.thread_json" or request.headers.get(
        "Accept", ""
    ).startswith("application/json")
    if wants_json:
        return jsonify(ok=False, error=t("sim_off")), 403
    return render_template("simulator/off.html"), 403


def _operator() -> str:
    active = current_operator()
    assert active is not None  # login_required
    return active.operator_name


def _officers(query: str) -> list[Officer]:
    """Roster officers matching a phone number, a TPS/village code prefix or a name."""
    with session_scope() as db:
        statement = select(Officer).order_by(Officer.id).limit(50)
        query = query.strip()[:100]
        if query:
            digits = "".join(ch for ch in query if ch.isdigit())
            conditions = []
            if digits:
                conditions.append(Officer.tps_code.startswith(digits))
                conditions.append(Officer.village_code.startswith(digits))
                try:
                    conditions.append(Officer.phone == to_e164(query))
                except InvalidPhone:
                    pass
            if any(ch.isalpha() for ch in query):
                conditions.append(Officer.name.ilike(f"%{query}%"))
            statement = statement.where(or_(*conditions))
        return list(db.scalars(statement))


def thread(phone: str, after: int = 0) -> list[dict[str, Any]]:
    """The simulator conversation of `phone`, oldest first (the last THREAD_LENGTH items)."""
    with session_scope() as db:
        inbound = db.scalars(
            select(InboundMessage)
            .where(InboundMessage.channel == CHANNEL, InboundMessage.sender == phone)
            .order_by(InboundMessage.id.desc())
            .limit(THREAD_LENGTH)
        ).all()
        outbound = db.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.channel == CHANNEL, OutboundMessage.to_address == phone)
            .order_by(OutboundMessage.id.desc())
            .limit(THREAD_LENGTH)
        ).all()
    items = [
        {
            "key": f"in-{m.id}",
            "direction": "in",
            "text": m.text,
            "photo": bool(m.media),
            "at": m.received_at,
            "status": m.status,
        }
        for m in inbound
    ] + [
        {
            "key": f"out-{m.id}",
            "direction": "out",
            "text": m.text,
            "photo": False,
            "at": m.sent_at or m.created_at,
            "status": m.status,
        }
        for m in outbound
        if m.status != "queued"
    ]
    items.sort(key=lambda item: (_utc(item["at"]), item["key"]))
    return items[-THREAD_LENGTH:]


def _utc(moment: Any) -> Any:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _phone(raw: str) -> str:
    try:
        return to_e164(raw)
    except InvalidPhone:
        abort(400, description="not a phone number")


@blueprint.get("/")
@login_required()
def page() -> ResponseReturnValue:
    phone = request.args.get("phone", "")
    query = request.args.get("q", "")
    officers = _officers(query)
    selected = None
    if phone:
        phone = _phone(phone)
        with session_scope() as db:
            selected = db.scalar(select(Officer).where(Officer.phone == phone))
    elif officers:
        selected = officers[0]
        phone = selected.phone
    return render_template(
        "simulator/page.html",
        officers=officers,
        query=query,
        phone=phone,
        selected=selected,
        thread=thread(phone) if phone else [],
        photo_enabled=hasattr(simulator, "send_photo"),
    )


def _answer(ok: bool, phone: str, message: str | None = None) -> ResponseReturnValue:
    if request.headers.get("Accept", "").startswith("application/json"):
        return jsonify(ok=ok, error=message), (200 if ok else 400)
    if message:
        flash(message)
    return redirect(url_for("simulator.page", phone=phone))


@blueprint.post("/send")
@login_required(json=True)
def send() -> ResponseReturnValue:
    phone = _phone(request.form.get("phone", ""))
    text = request.form.get("text", "")
    if not text.strip():
        return _answer(False, phone, t("sim_empty"))
    if len(text) > MAX_TEXT:
        return _answer(False, phone, t("sim_too_long", n=MAX_TEXT))
    simulator.send_text(phone, text, operator=_operator())
    return _answer(True, phone)


@blueprint.post("/photo")
@login_required(json=True)
def photo() -> ResponseReturnValue:
    phone = _phone(request.form.get("phone", ""))
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return _answer(False, phone, t("sim_no_photo"))
    content_type = (upload.mimetype or "").lower()
    if content_type not in PHOTO_TYPES:
        return _answer(False, phone, t("sim_bad_photo"))
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        return _answer(False, phone, t("sim_photo_too_large", n=MAX_PHOTO_BYTES // 2**20))
    send_photo = getattr(simulator, "send_photo", None)
    if send_photo is None:  # the photo pipeline (relay.simulator.send_photo) is not there yet
        return _answer(False, phone, t("sim_photo_unavailable"))
    try:
        send_photo(phone, data, content_type, operator=_operator())
    except MediaUnavailable:  # nothing stored, nothing acknowledged: the officer sends again
        return _answer(False, phone, t("sim_photo_store_down"))
    return _answer(True, phone)


@blueprint.get("/thread.json")
@login_required(json=True)
def thread_json() -> ResponseReturnValue:
    phone = _phone(request.args.get("phone", ""))
    return jsonify(
        phone=phone,
        messages=[
            {
                "key": item["key"],
                "direction": item["direction"],
                "text": item["text"],
                "photo": item["photo"],
                "status": item["status"],
                "at": _utc(item["at"]).isoformat(),
            }
            for item in thread(phone)
        ],
    )
