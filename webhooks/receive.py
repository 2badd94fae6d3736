"""POST /webhooks/<channel>: verify, store, enqueue, acknowledge — nothing slow here."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, request
from sqlalchemy.exc import SQLAlchemyError

from channels.base import Rejected
from channels.registry import adapter_for
from jobs.queues import enqueue_inbound
from relay import inbox
from relay.config import load_settings
from relay.db import session_scope

log = logging.getLogger(__name__)
blueprint = Blueprint("webhooks", __name__, url_prefix="/webhooks")

WEBHOOK_CHANNELS = {"twilio": "twilio", "sms-gateway": "sms-gateway"}


@blueprint.post("/<name>")
def receive(name: str) -> Response:
    if name not in WEBHOOK_CHANNELS:
        abort(404)
    adapter = adapter_for(WEBHOOK_CHANNELS[name])
    settings = load_settings()
    try:
        messages = adapter.receive(request, settings)
    except Rejected as rejected:
        log.warning("webhook %s rejected from %s: %s", name, request.remote_addr, rejected.reason)
        return Response(rejected.reason, status=rejected.status, mimetype="text/plain")
    try:
        with session_scope() as session:
            stored = [inbox.store(session, message) for message in messages]
            new_ids = [row.id for row, created in stored if created]
    except SQLAlchemyError:
        # Nothing was stored: a 5xx makes the provider deliver again later.
        log.exception("webhook %s: database unavailable", name)
        return Response("storage unavailable, retry later", status=503, mimetype="text/plain")
    for inbound_id in new_ids:
        enqueue_inbound(inbound_id)  # if Redis is down, the sweeper enqueues it later
    if len(new_ids) < len(messages):
        log.info(
            "webhook %s: %d redelivered message(s) ignored", name, len(messages) - len(new_ids)
        )
    body, status, headers = adapter.acknowledge()
    return Response(body, status=status, headers=headers)
