"""/simulator: write as a roster officer through the simulator channel and watch the replies.

The same pipeline as `simulate sms`: messages are stored and processed by the worker like
any provider's, and replies go back on the `simulator` channel only (a reply is never sent
through a real provider: the outbound channel is always the inbound one).

A training channel (relay.training): its tallies are never counted, and each message
records the logged-in operator who sent it, whom the audit then names. Login required;
with SIMULATOR_ENABLED=0 every page here says it is switched off.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import or_, select

from bots import sms
from relay import media, simulator
from relay.db import session_scope
from relay.media_store import MediaUnavailable
from relay.models import InboundMessage, Officer, OutboundMessage
from relay.phone import InvalidPhone, to_e164
from web.auth import current_operator, login_required
from web.common import check_csrf, local_time
from web.i18n import t

blueprint = Blueprint("simulator", __name__, url_prefix="/simulator", template_folder="templates")

CHANNEL = simulator.CHANNEL
MAX_TEXT = 1600
MAX_PHOTO_BYTES = 8 * 1024 * 1024
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
THREAD_LENGTH = 60
PREVIEW_CHANNELS = ("sms", "telegram", "whatsapp")  # how the thread is shown, not sent
CHANNEL_COOKIE = "sim_channel"


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


def thread(phone: str) -> list[dict[str, Any]]:
    """The simulator conversation of `phone` since its last reset, oldest first (the last
    THREAD_LENGTH items), with what each channel's preview needs: buttons and the edit a
    button press made (Telegram), photos (Telegram, WhatsApp), SMS segments, the time in the
    pages' one time zone."""
    after_in, after_out = simulator.thread_start(phone)
    with session_scope() as db:
        inbound = db.scalars(
            select(InboundMessage)
            .where(InboundMessage.channel == CHANNEL, InboundMessage.sender == phone,
                   InboundMessage.id > after_in)
            .order_by(InboundMessage.id.desc())
            .limit(THREAD_LENGTH)
        ).all()
        outbound = db.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.channel == CHANNEL, OutboundMessage.to_address == phone,
                   OutboundMessage.id > after_out)
            .order_by(OutboundMessage.id.desc())
            .limit(THREAD_LENGTH)
        ).all()
    shown = [m for m in outbound if m.status != "queued"]
    edits = {
        (m.extras or {})["edit_message_id"]: (m.extras or {}).get("edit_text") or m.text
        for m in sorted(shown, key=lambda m: m.id)
        if (m.extras or {}).get("edit_message_id")
    }
    items = [_inbound_item(m) for m in inbound] + [_outbound_item(m, edits) for m in shown]
    items.sort(key=lambda item: (_utc(item["at"]), item["key"]))
    return items[-THREAD_LENGTH:]


def _inbound_item(m: InboundMessage) -> dict[str, Any]:
    event = m.event or {}
    callback = event.get("type") == "callback"
    label = None
    if callback:
        try:
            label = json.loads(m.payload or "{}").get("callback", {}).get("label")
        except (ValueError, AttributeError):
            label = None
    photos = [
        url_for("simulator.inbound_photo", inbound_id=m.id, index=i)
        for i, item in enumerate(m.media or [])
        if isinstance(item, dict) and item.get("key")
    ]
    return {
        "key": f"in-{m.id}",
        "id": m.id,
        "direction": "in",
        "text": m.text,
        "photo": bool(m.media),
        "photos": photos,
        "callback": callback,
        "pressed": label,
        "buttons": [],
        "edit_of": None,
        "edited_text": None,
        "segments": sms.segments(m.text) if m.text else 0,
        "at": m.received_at,
        "time": local_time(m.received_at),
        "status": m.status,
    }


def _outbound_item(m: OutboundMessage, edits: dict[int, str]) -> dict[str, Any]:
    extras = m.extras or {}
    return {
        "key": f"out-{m.id}",
        "id": m.id,
        "direction": "out",
        "text": m.text,
        "photo": bool(extras.get("photo")),
        "photos": [url_for("simulator.outbound_photo", outbound_id=m.id)]
        if extras.get("photo") else [],
        "callback": False,
        "pressed": None,
        "buttons": [str(b[0]) for b in extras.get("buttons") or []],
        "edit_of": extras.get("edit_message_id"),
        "edited_text": edits.get(m.id),
        "segments": sms.segments(m.text) if m.text else 0,
        "at": m.sent_at or m.created_at,
        "time": local_time(m.sent_at or m.created_at),
        "status": m.status,
    }


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
    preview = request.args.get("channel") or request.cookies.get(CHANNEL_COOKIE) or "sms"
    return render_template(
        "simulator/page.html",
        preview=preview if preview in PREVIEW_CHANNELS else "sms",
        channels=PREVIEW_CHANNELS,
        limits={"telegram": sms.CHANNEL_LIMITS["telegram"],
                "whatsapp": sms.CHANNEL_LIMITS["whatsapp"]},
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
                **{k: v for k, v in item.items() if k != "at"},
                "at": _utc(item["at"]).isoformat(),  # "time": the pages' own zone (WIB)
            }
            for item in thread(phone)
        ],
    )


@blueprint.post("/press")
@login_required(json=True)
def press() -> ResponseReturnValue:
    """A Telegram inline button pressed (relay.simulator.press_button)."""
    phone = _phone(request.form.get("phone", ""))
    try:
        outbound_id = int(request.form.get("outbound_id", ""))
        index = int(request.form.get("index", ""))
    except ValueError:
        return _answer(False, phone, t("sim_no_button"))
    try:
        simulator.press_button(phone, outbound_id, index, operator=_operator())
    except simulator.NotPressable:
        return _answer(False, phone, t("sim_no_button"))
    return _answer(True, phone)


@blueprint.post("/reset")
@login_required(json=True)
def reset() -> ResponseReturnValue:
    """Start the training contact afresh (relay.simulator.reset_contact)."""
    phone = _phone(request.form.get("phone", ""))
    simulator.reset_contact(phone, operator=_operator())
    if request.headers.get("Accept", "").startswith("application/json"):
        return jsonify(ok=True, error=None)
    flash(t("sim_reset_done"))
    return redirect(url_for("simulator.page", phone=phone))


def _photo_response(key: str | None) -> ResponseReturnValue:
    if not key:
        abort(404)
    try:
        data = media.load(key)
    except (OSError, KeyError, ValueError):
        abort(404)
    kind = media.sniff_type(data)
    if kind is None:
        abort(404)
    response = Response(data, mimetype=kind)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@blueprint.get("/photo/in/<int:inbound_id>/<int:index>")
@login_required()
def inbound_photo(inbound_id: int, index: int) -> ResponseReturnValue:
    """A photo sent from the simulator (its thumbnail in the thread)."""
    with session_scope() as db:
        m = db.get(InboundMessage, inbound_id)
        items = list(m.media or []) if m is not None and m.channel == CHANNEL else []
    item = items[index] if 0 <= index < len(items) else None
    return _photo_response(str(item["key"]) if isinstance(item, dict) and item.get("key") else None)


@blueprint.get("/photo/out/<int:outbound_id>")
@login_required()
def outbound_photo(outbound_id: int) -> ResponseReturnValue:
    """The page a reply attaches (the reading drawn over the form)."""
    with session_scope() as db:
        m = db.get(OutboundMessage, outbound_id)
        key = (m.extras or {}).get("photo") if m is not None and m.channel == CHANNEL else None
    return _photo_response(str(key) if key else None)
