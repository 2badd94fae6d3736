"""Twilio SMS and WhatsApp: signed form webhooks in, the REST API (real `twilio` client) out."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
from typing import Any
from urllib.parse import urlparse

import requests
import urllib3
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import add_port, remove_port
from twilio.rest import Client

from channels.base import (
    STOPPED,
    Channel,
    Incoming,
    Media,
    Outgoing,
    Rejected,
    SendError,
    SendResult,
)
from channels.http_errors import error_for_exception, error_for_status
from channels.http_media import download
from channels.twilio_http import PooledHttpClient
from relay import media
from relay.config import Settings
from relay.fields import MAX_ADDRESS
from relay.phone import InvalidPhone, to_e164

WHATSAPP_PREFIX = "whatsapp:"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
# Twilio error codes that mean the recipient will never get our messages on this number.
STOPPED_CODES = frozenset({21610, 63024, 63032})
# Twilio: "outside the allowed window" (WhatsApp's 24 hours since the user's last message).
WINDOW_CLOSED_CODES = frozenset({63016})
# Where Twilio posts each sent message's delivery status (webhooks.delivery_status).
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
MAX_MEDIA = 10
MAX_FIELD = 100


@functools.lru_cache(maxsize=8)
def _client(
    api_url: str, account_sid: str, auth_token: str, timeout: float, pid: int
) -> tuple[Client, PooledHttpClient]:
    """One REST client per process and account, kept: its pool keeps the connection to
    Twilio alive between sends (a new client per send paid a TCP and TLS handshake each
    time), and the proxy and CA bundle are read from the environment once. Sends run one at
    a time in a process (jobs.sender); `pid` keeps a forked child off its parent's socket."""
    http = PooledHttpClient(api_url, timeout=timeout)
    return Client(account_sid, auth_token, http_client=http), http


def signed_url(settings: Settings, path: str, query: bytes) -> str:
    """The URL Twilio signed: PUBLIC_URL + path + query, as configured on the number."""
    url = settings.public_url + path
    return f"{url}?{query.decode('latin-1')}" if query else url


def signed_by_twilio(token: str, url: str, form: Any, signature: str) -> bool:
    """Twilio's RequestValidator.validate for a form webhook (HMAC-SHA1 of the URL followed
    by each field's name and value, fields sorted by name and a field's values sorted), with
    what it repeats for every request done once: the two URL variants (Twilio signs the URL
    as configured on the number, with or without the default port) worked out once per URL,
    the fields' part of the signed string built once for both, in one join (the library
    adds to a string value by value, asking the form for each field's values through
    try/except), and the second HMAC only when the first does not match. `form` is anything
    with names (iteration) and getlist(name). The comparison is hmac.compare_digest's, in
    constant time like the library's loop; tests/test_twilio_signature.py holds the string
    to the library's on random forms."""
    key = token.encode()
    fields = "".join(
        name + value for name in sorted(set(form)) for value in sorted(set(form.getlist(name)))
    )
    wanted = signature.encode()
    return any(
        hmac.compare_digest(_signature(key, candidate + fields), wanted)
        for candidate in _url_variants(url)
    )


def _signature(key: bytes, signed: str) -> bytes:
    return base64.b64encode(hmac.new(key, signed.encode(), hashlib.sha1).digest())


@functools.lru_cache(maxsize=64)
def _url_variants(url: str) -> tuple[str, str]:
    parsed = urlparse(url)
    return remove_port(parsed), add_port(parsed)


class TwilioChannel(Channel):
    """One adapter, two names: `twilio` for SMS and `whatsapp` for Twilio's WhatsApp."""

    name = "twilio"

    def enabled(self, settings: Settings) -> bool:
        return settings.twilio_enabled

    def receive(self, request: Any, settings: Settings) -> list[Incoming]:
        if not settings.twilio_enabled:
            raise Rejected(404, "twilio channel is not configured")
        signature = request.headers.get("X-Twilio-Signature", "")
        url = signed_url(settings, request.path, request.query_string)
        if not signature or not signed_by_twilio(
            settings.twilio_auth_token, url, request.form, signature
        ):
            raise Rejected(403, "invalid X-Twilio-Signature")
        form = request.form
        message_sid = form.get("MessageSid") or form.get("SmsSid") or ""
        sender = form.get("From", "")
        if not message_sid or not sender:
            raise Rejected(400, "MessageSid and From are required")
        if len(message_sid) > MAX_FIELD:  # the column's width; Twilio's SIDs have 34
            raise Rejected(400, f"MessageSid is at most {MAX_FIELD} characters")
        if len(sender.removeprefix(WHATSAPP_PREFIX)) > MAX_ADDRESS:
            raise Rejected(400, f"From is at most {MAX_ADDRESS} characters")
        channel = "whatsapp" if sender.startswith(WHATSAPP_PREFIX) else "twilio"
        return [
            Incoming(
                channel=channel,
                provider_id=message_sid,
                sender=_address(sender),
                text=form.get("Body", ""),
                payload=json.dumps({k: form.getlist(k) for k in form}, ensure_ascii=False),
                media=_media(form),
            )
        ]

    def acknowledge(self) -> tuple[str, int, dict[str, str]]:
        return EMPTY_TWIML, 200, {"Content-Type": "text/xml"}

    def send(self, message: Outgoing, settings: Settings) -> SendResult:
        client, http = _client(
            settings.twilio_api_url,
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.send_timeout,
            os.getpid(),
        )
        if message.channel == "whatsapp":
            sender = WHATSAPP_PREFIX + settings.twilio_whatsapp_number
            to = WHATSAPP_PREFIX + message.to
        else:
            sender, to = settings.twilio_sms_number, message.to
        extras = message.extras or {}
        extra: dict[str, Any] = {"status_callback": settings.public_url + STATUS_CALLBACK_PATH}
        photo = extras.get("photo")
        if photo and message.channel == "whatsapp":  # SMS cannot carry it; WhatsApp can
            extra["media_url"] = [media.public_link(settings, photo)]
        if extras.get("content_sid") and message.channel == "whatsapp":
            # Outside the 24-hour window: an approved template (relay.whatsapp) instead of text.
            extra["content_sid"] = extras["content_sid"]
            extra["content_variables"] = json.dumps(extras.get("content_variables") or {})
        else:
            extra["body"] = message.text
        try:
            created = client.messages.create(to=to, from_=sender, **extra)
        except TwilioRestException as exc:
            detail = f"twilio {exc.status} code {exc.code}: {exc.msg}"[:500]
            code = str(exc.code) if exc.code is not None else None
            if exc.code in STOPPED_CODES:
                raise SendError(STOPPED, detail, code=code) from exc
            retry_after = http.last_headers.get("Retry-After")
            error = error_for_status(exc.status, detail, retry_after)
            error.code = code
            raise error from exc
        except (urllib3.exceptions.HTTPError, requests.RequestException) as exc:
            raise error_for_exception(exc) from exc
        return SendResult(provider_id=created.sid)

    def fetch_media(self, item: dict[str, Any], settings: Settings, max_bytes: int) -> Media:
        """Twilio media URLs need the account's credentials (HTTP Basic)."""
        media = download(
            item["url"], max_bytes, auth=(settings.twilio_account_sid, settings.twilio_auth_token)
        )
        return Media(media.content, media.content_type or item.get("content_type", ""))


def _address(raw: str) -> str:
    """E.164 for phone senders; anything else (short codes) kept as given."""
    try:
        return to_e164(raw.removeprefix(WHATSAPP_PREFIX))
    except InvalidPhone:
        return raw.removeprefix(WHATSAPP_PREFIX)


def _media(form: Any) -> list[dict[str, Any]]:
    try:
        count = min(int(form.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    return [
        {"url": form.get(f"MediaUrl{i}", ""), "content_type": form.get(f"MediaContentType{i}", "")}
        for i in range(count)
        if form.get(f"MediaUrl{i}")
    ]
