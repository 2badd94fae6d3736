"""A generic SMS gateway (Android gateway apps, Gammu bridges) speaking signed JSON.

Inbound: POST {"id","from","text","received_at"} with
`X-Signature: sha256=<hex HMAC-SHA256(raw body, SMS_GATEWAY_SECRET)>`.
Outbound: POST {"id","to","text"} to SMS_GATEWAY_SEND_URL, signed the same way so the
gateway can check that the request is ours.

Gateway message ids are not unique: Android gateway apps number messages per phone (and
start again after a reinstall), Gammu per modem. A redelivery is the same id from the same
sender with the same text, so that triple is the stored provider id (see `delivery_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import requests

from channels.base import (
    SEND_CONNECT_TIMEOUT,
    Channel,
    Incoming,
    Outgoing,
    Rejected,
    SendResult,
)
from channels.http_errors import error_for_exception, error_for_status
from relay.config import Settings
from relay.fields import MAX_ADDRESS
from relay.phone import InvalidPhone, to_e164

MAX_BODY = 64 * 1024
MAX_FIELD = 100  # the stored id and sender columns' width
_DIGEST_CHARS = 24  # 96 bits of SHA-256: no two different messages share a key


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_key(message_id: str, sender: str, text: str) -> str:
    """`<gateway id>#<digest of id, sender and text>`: a redelivery (all three the same) maps
    to the stored row, anything else is a new message. The gateway's id stays readable in
    front (shortened when long; the digest covers all of it) within the column's width."""
    digest = hashlib.sha256(json.dumps([message_id, sender, text]).encode()).hexdigest()
    room = MAX_FIELD - _DIGEST_CHARS - 1
    shown = message_id if len(message_id) <= room else message_id[: room - 1] + "~"
    return f"{shown}#{digest[:_DIGEST_CHARS]}"


class SmsGatewayChannel(Channel):
    name = "sms-gateway"

    def enabled(self, settings: Settings) -> bool:
        return settings.sms_gateway_enabled

    def receive(self, request: Any, settings: Settings) -> list[Incoming]:
        if not settings.sms_gateway_enabled:
            raise Rejected(404, "sms-gateway channel is not configured")
        if (request.content_length or 0) > MAX_BODY:  # one SMS: refuse before reading it
            raise Rejected(413, "body larger than 64 KiB")
        body = request.get_data(cache=True)
        if len(body) > MAX_BODY:  # chunked, no Content-Length
            raise Rejected(413, "body larger than 64 KiB")
        given = request.headers.get("X-Signature", "")
        if not hmac.compare_digest(given, signature(settings.sms_gateway_secret, body)):
            raise Rejected(403, "invalid X-Signature")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # deep nesting
            raise Rejected(400, "body is not JSON") from exc
        if not isinstance(data, dict):
            raise Rejected(400, "body must be a JSON object")
        message_id, sender = data.get("id"), data.get("from")
        if (
            isinstance(message_id, bool)
            or not isinstance(message_id, (str, int))
            or not str(message_id).strip()
        ):
            raise Rejected(400, "id is required")
        if len(str(message_id)) > MAX_FIELD:  # cut short, two ids could become one
            raise Rejected(400, f"id longer than {MAX_FIELD} characters")
        if not isinstance(sender, str) or not sender.strip():
            raise Rejected(400, "from is required")
        if len(sender.strip()) > MAX_ADDRESS:  # no phone network sends a longer one
            raise Rejected(400, f"from longer than {MAX_ADDRESS} characters")
        text = data.get("text")
        text = text if isinstance(text, str) else ""
        try:
            address = to_e164(sender)
        except InvalidPhone:
            address = sender.strip()
        return [
            Incoming(
                channel=self.name,
                provider_id=delivery_key(str(message_id), address, text),
                sender=address,
                text=text,
                payload=body.decode("utf-8", errors="replace"),
            )
        ]

    def acknowledge(self) -> tuple[str, int, dict[str, str]]:
        return '{"status":"stored"}', 200, {"Content-Type": "application/json"}

    def send(self, message: Outgoing, settings: Settings) -> SendResult:
        body = json.dumps(
            {"id": f"out-{message.id}", "to": message.to, "text": message.text},
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json"}
        if settings.sms_gateway_secret:
            headers["X-Signature"] = signature(settings.sms_gateway_secret, body)
        try:
            response = requests.post(
                settings.sms_gateway_send_url,
                data=body,
                headers=headers,
                timeout=(SEND_CONNECT_TIMEOUT, settings.send_timeout),
            )
        except requests.RequestException as exc:
            raise error_for_exception(exc) from exc
        if response.status_code >= 300:
            detail = f"gateway {response.status_code}: {response.text[:300]}"
            raise error_for_status(
                response.status_code, detail, response.headers.get("Retry-After")
            )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        provider_id = (
            answer.get("gateway_message_id") or answer.get("id")
            if isinstance(answer, dict)
            else None
        )
        return SendResult(provider_id=str(provider_id) if provider_id else None)
