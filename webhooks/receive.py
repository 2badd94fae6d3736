"""POST /webhooks/<channel>: verify, store, enqueue, acknowledge — nothing slow here."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, request

from channels.base import Rejected
from channels.registry import adapter_for
from relay import intake
from relay.config import load_settings

log = logging.getLogger(__name__)
blueprint = Blueprint("webhooks", __name__, url_prefix="/webhooks")

WEBHOOK_CHANNELS = {"twilio": "twilio", "sms-gateway": "sms-gateway", "telegram": "telegram"}


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
        results = intake.accept(messages, settings)
    except intake.StorageError:
        # Nothing was stored: a 5xx makes the provider deliver again later.
        log.exception("webhook %s: database unavailable", name)
        return Response("storage unavailable, retry later", status=503, mimetype="text/plain")
    redelivered = sum(1 for _, created in results if not created)
    if redelivered:  # the provider sent it again: stored once, processed once
        log.info("webhook %s: %d redelivered message(s) ignored", name, redelivered)
    body, status, headers = adapter.acknowledge()
    return Response(body, status=status, headers=headers)
