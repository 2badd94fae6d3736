"""POST /webhooks/twilio/status: Twilio's status callback for each message we sent.

Signed like Twilio's other webhooks (X-Twilio-Signature over PUBLIC_URL + path and the
form). `MessageStatus` is kept on the outbound row (`provider_status`); failed or undelivered
marks the row failed with Twilio's ErrorCode and, for a help-desk message, sends it again by
SMS (jobs.fallback) — which is how a closed WhatsApp window (63016) usually shows up.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from sqlalchemy import select

from channels.base import FAILED, SendError
from channels.twilio import STATUS_CALLBACK_PATH, signed_by_twilio, signed_url
from jobs import fallback
from jobs.queues import enqueue_outbound
from relay.config import load_settings
from relay.db import session_scope
from relay.models import OutboundMessage

log = logging.getLogger(__name__)
blueprint = Blueprint("delivery_status", __name__)

FAILED_STATUSES = ("failed", "undelivered")
KNOWN_STATUSES = frozenset(
    {"accepted", "scheduled", "queued", "sending", "sent", "delivered", "read", "canceled",
     *FAILED_STATUSES}
)
# Callbacks may arrive out of order: a later stage never goes back to an earlier one.
_RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4,
         "read": 5, "canceled": 6, "failed": 6, "undelivered": 6}


def _text(reason: str, status: int) -> Response:
    return Response(reason, status=status, mimetype="text/plain")


@blueprint.post(STATUS_CALLBACK_PATH)
def twilio_status() -> Response:
    settings = load_settings()
    if not settings.twilio_enabled:
        return _text("twilio channel is not configured", 404)
    signature = request.headers.get("X-Twilio-Signature", "")
    url = signed_url(settings, request.path, request.query_string)
    if not signature or not signed_by_twilio(
        settings.twilio_auth_token, url, request.form, signature
    ):
        log.warning("twilio status callback rejected from %s: bad signature", request.remote_addr)
        return _text("invalid X-Twilio-Signature", 403)
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").lower()
    if not sid or status not in KNOWN_STATUSES:
        return _text("MessageSid and a known MessageStatus are required", 400)
    code = request.form.get("ErrorCode") or None
    fallback_id = None
    with session_scope() as session:
        message = session.scalar(select(OutboundMessage).where(
            OutboundMessage.provider_id == sid,
            OutboundMessage.channel.in_(("twilio", "whatsapp")),
        ))
        if message is None:  # not ours (or long gone): acknowledged, nothing to do
            return _text("", 204)
        if _RANK.get(message.provider_status or "", -1) > _RANK[status]:
            return _text("", 204)
        message.provider_status = status
        if status in FAILED_STATUSES:
            detail = f"twilio status {status} code {code or '-'}"
            message.status, message.error_kind = "failed", FAILED
            message.last_error = detail
            error = SendError(FAILED, detail, code=code)
            copy = fallback.fall_back(
                session, message, fallback.reason_for(message.channel, error), settings
            )
            fallback_id = copy.id if copy is not None else None
    if fallback_id is not None:
        enqueue_outbound(fallback_id)
    return _text("", 204)
