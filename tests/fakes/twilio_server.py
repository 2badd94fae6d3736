"""A fake of Twilio's REST API (2010-04-01): create Messages, serve Media.

Errors follow Twilio's real JSON shape ``{"code", "message", "more_info", "status"}``
and its test-credential magic ``To`` numbers (twilio.com/docs/iam/test-credentials).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from uuid import uuid4

from twilio.rest import Client

from channels.twilio_http import PooledHttpClient
from tests.fakes.http_fake import Body, FakeHTTPServer, RecordedRequest, Reply

API = "/2010-04-01"
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
_MEDIA = re.compile(
    r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages/(?P<mm>[^/]+)/Media/(?P<me>[^/.]+)$"
)

#: Twilio's magic test ``To`` numbers -> (error code, message template with {to}).
MAGIC_TO_ERRORS: dict[str, tuple[int, str]] = {
    "+15005550001": (21211, "The 'To' number {to} is not a valid phone number."),
    "+15005550002": (
        21612,
        "The 'To' phone number: {to}, is not currently reachable via SMS.",
    ),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region indicated "
        "by the 'To' number: {to}.",
    ),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}

#: Twilio's error for free text to WhatsApp outside the 24-hour window, as reported by the
#: status callback (the create itself is accepted).
WINDOW_CLOSED = (63016, "Failed to send freeform message because you are outside the allowed "
                 "window. If you are using WhatsApp, please use a Message Template.")
INVALID_CONTENT_SID = (21655, "The ContentSid is Invalid")
_VARIABLE = re.compile(r"\{\{(\d+)\}\}")

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXT = set("^{}\\[~]|€\f")


def new_sid(prefix: str) -> str:
    """A Twilio-style SID: two letters and 32 hex digits."""
    return prefix + uuid4().hex


def count_segments(body: str) -> int:
    """SMS segments as carriers count them: GSM-7 160/153, otherwise UCS-2 70/67."""
    if all(c in _GSM7 or c in _GSM7_EXT for c in body):
        units = sum(2 if c in _GSM7_EXT else 1 for c in body)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in body)
        single, multi = 70, 67
    return 1 if units <= single else math.ceil(units / multi)


def twilio_error(code: int, message: str, status: int) -> dict[str, Any]:
    """An error body exactly as Twilio's REST API shapes it."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilio(FakeHTTPServer):
    """Twilio's Messages and Media endpoints for one account (sid, token)."""

    def __init__(self, account_sid: str, auth_token: str, keep_alive: bool = False) -> None:
        super().__init__(keep_alive)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._data_lock = threading.Lock()
        self._errors: dict[str, tuple[int, str, int]] = {
            to: (code, msg, 400) for to, (code, msg) in MAGIC_TO_ERRORS.items()
        }
        self._sent: list[dict[str, str | list[str]]] = []
        self._resources: list[dict[str, Any]] = []
        self._media: dict[tuple[str, str], tuple[bytes, str]] = {}
        self._templates: dict[str, str] = {}
        self._closed_windows: set[str] = set()
        self._undeliverable: dict[str, tuple[str, int]] = {}
        self._callbacks: list[tuple[str, dict[str, str]]] = []

    # test helpers ----------------------------------------------------------
    def add_error_number(
        self, to: str, code: int, message: str | None = None, status: int = 400
    ) -> None:
        """Make every create to ``to`` fail with this Twilio error (``{to}`` is substituted)."""
        with self._data_lock:
            self._errors[to] = (code, message or f"Error {code} for {{to}}", status)

    def add_content_template(self, content_sid: str, body: str) -> None:
        """An approved WhatsApp template (Content API): ``{{1}}``, ``{{2}}`` … are filled from
        the create's ``ContentVariables``; the rendered text is the sent ``Body``."""
        with self._data_lock:
            self._templates[content_sid] = body

    def close_whatsapp_window(self, number: str) -> None:
        """The user last wrote over 24 h ago: free text to ``whatsapp:<number>`` is accepted
        (201) but fails, reported by the status callback as failed with 63016; templates
        still go out."""
        with self._data_lock:
            self._closed_windows.add(number.removeprefix("whatsapp:"))

    def fail_delivery(self, to: str, status: str = "undelivered", code: int = 30003) -> None:
        """Accept creates to ``to`` but report them ``status`` with ErrorCode ``code``."""
        with self._data_lock:
            self._undeliverable[to] = (status, code)

    def status_callbacks(self) -> list[tuple[str, dict[str, str]]]:
        """(StatusCallback URL, form) of every status report not yet delivered, in order."""
        with self._data_lock:
            return [(url, dict(form)) for url, form in self._callbacks]

    def deliver_status_callbacks(
        self, post: Callable[[str, dict[str, str], dict[str, str]], Any]
    ) -> list[Any]:
        """POST each pending status report as Twilio does: form-encoded and signed with the
        auth token (X-Twilio-Signature). ``post(url, form, headers)`` does the HTTP (e.g. a
        Flask test client); returns its answers."""
        from tests.fakes.twilio_signing import sign

        with self._data_lock:
            pending, self._callbacks = self._callbacks, []
        answers = []
        for url, form in pending:
            headers = {"X-Twilio-Signature": sign(self.auth_token, url, form)}
            answers.append(post(url, form, headers))
        return answers

    def sent_messages(self) -> list[dict[str, str | list[str]]]:
        """Form fields of each successful create; every value a str, ``MediaUrl`` a list."""
        with self._data_lock:
            return [dict(m) for m in self._sent]

    def created_resources(self) -> list[dict[str, Any]]:
        """The Message resources answered (201), in order; ``sid`` links to status callbacks."""
        with self._data_lock:
            return [dict(r) for r in self._resources]

    def add_media(self, content: bytes, content_type: str) -> str:
        """Host ``content``; return its media URL (Basic auth required to fetch it)."""
        mm, me = new_sid("MM"), new_sid("ME")
        with self._data_lock:
            self._media[(mm, me)] = (content, content_type)
        return f"{self.url}{API}/Accounts/{self.account_sid}/Messages/{mm}/Media/{me}"

    def default_failure_body(self, status: int) -> Body:
        """Scripted failures look like Twilio's: code 20000 + HTTP status."""
        phrases = {
            429: "Too Many Requests",
            500: "Internal Server Error",
            503: "Service Unavailable",
        }
        return twilio_error(20000 + status, phrases.get(status, "Error"), status)

    # HTTP ------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        """Route to Messages.json (POST) or a Media URL (GET)."""
        messages = _MESSAGES.match(request.path)
        media = _MEDIA.match(request.path)
        match = messages or media
        if match is None:
            return self._not_found(request.path)
        if not self._authorized(request, match["sid"]):
            return Reply(
                401,
                twilio_error(20003, "Authenticate", 401),
                {"WWW-Authenticate": 'Basic realm="Twilio API"'},
            )
        if messages and request.method == "POST":
            return self._create_message(request)
        if media and request.method in ("GET", "HEAD"):
            return self._get_media(request.path, media["mm"], media["me"])
        return Reply(405, twilio_error(20004, "Method not allowed", 405))

    def _authorized(self, request: RecordedRequest, path_sid: str) -> bool:
        scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (
            path_sid == self.account_sid
            and hmac.compare_digest(user, self.account_sid)
            and hmac.compare_digest(password, self.auth_token)
        )

    def _not_found(self, path: str) -> Reply:
        return Reply(
            404,
            twilio_error(20404, f"The requested resource {path} was not found", 404),
        )

    def _create_message(self, request: RecordedRequest) -> Reply:
        raw = request.form or {}
        form: dict[str, str | list[str]] = {k: v[-1] for k, v in raw.items()}
        if "MediaUrl" in raw:
            form["MediaUrl"] = list(raw["MediaUrl"])
        to, sender, body = (
            str(form.get("To", "")),
            str(form.get("From", "")),
            str(form.get("Body", "")),
        )
        content_sid = str(form.get("ContentSid", ""))
        if content_sid:
            rendered = self._render(content_sid, str(form.get("ContentVariables", "") or "{}"))
            if isinstance(rendered, Reply):
                return rendered
            body = rendered
            form["Body"] = body
        media = raw.get("MediaUrl", [])
        problem = self._validate(to, sender, body, media, "MessagingServiceSid" in form)
        if problem is not None:
            return problem
        resource = self._resource(form, to, sender, body, len(media))
        with self._data_lock:
            self._sent.append(form)
            self._resources.append(resource)
            callback = str(form.get("StatusCallback", ""))
            if callback:
                self._callbacks.extend(
                    (callback, report) for report in self._reports(resource, to, content_sid)
                )
        return Reply(201, resource)

    def _render(self, content_sid: str, variables: str) -> str | Reply:
        with self._data_lock:
            template = self._templates.get(content_sid)
        if template is None:
            code, message = INVALID_CONTENT_SID
            return Reply(400, twilio_error(code, message, 400))
        try:
            values = json.loads(variables)
        except ValueError:
            return Reply(400, twilio_error(21656, "The ContentVariables Parameter is invalid", 400))
        return _VARIABLE.sub(lambda m: str(values.get(m[1], "")), template)

    def _reports(self, resource: dict[str, Any], to: str, content_sid: str) -> list[dict[str, str]]:
        """The status callbacks Twilio would send for this message (lock held)."""
        number = to.removeprefix("whatsapp:")
        base = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": str(resource["from"] or ""),
            "MessageSid": resource["sid"],
            "SmsSid": resource["sid"],
            "To": to,
        }
        if to.startswith("whatsapp:") and number in self._closed_windows and not content_sid:
            code, message = WINDOW_CLOSED
            return [{**base, "MessageStatus": "failed", "SmsStatus": "failed",
                     "ErrorCode": str(code), "ErrorMessage": message}]
        failing = self._undeliverable.get(to) or self._undeliverable.get(number)
        if failing is not None:
            status, code = failing
            return [{**base, "MessageStatus": "sent", "SmsStatus": "sent"},
                    {**base, "MessageStatus": status, "SmsStatus": status,
                     "ErrorCode": str(code)}]
        return [{**base, "MessageStatus": s, "SmsStatus": s} for s in ("sent", "delivered")]

    def _validate(
        self, to: str, sender: str, body: str, media: list[str], service: bool
    ) -> Reply | None:
        if not to:
            return Reply(400, twilio_error(21604, "A 'To' phone number is required.", 400))
        if not sender and not service:
            return Reply(400, twilio_error(21603, "A 'From' phone number is required.", 400))
        if not body and not media:
            return Reply(400, twilio_error(21602, "Message body is required.", 400))
        with self._data_lock:
            error = self._errors.get(to) or self._errors.get(to.removeprefix("whatsapp:"))
        if error is not None:
            code, message, status = error
            return Reply(status, twilio_error(code, message.format(to=to), status))
        return None

    def _resource(
        self,
        form: dict[str, str | list[str]],
        to: str,
        sender: str,
        body: str,
        num_media: int,
    ) -> dict[str, Any]:
        sid = new_sid("SM" if num_media == 0 else "MM")
        now = format_datetime(datetime.now(UTC))  # RFC 2822, "+0000"
        base = f"{API}/Accounts/{self.account_sid}/Messages/{sid}"
        service = form.get("MessagingServiceSid")
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender or None,
            "messaging_service_sid": service,
            "num_media": str(num_media),
            "num_segments": str(count_segments(body)) if body else "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service and not sender else "queued",
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": to,
            "uri": f"{base}.json",
        }

    def _get_media(self, path: str, mm: str, me: str) -> Reply:
        with self._data_lock:
            found = self._media.get((mm, me))
        if found is None:
            return self._not_found(path)
        content, content_type = found
        return Reply(200, content, {"Content-Type": content_type})


def redirecting_client(base_url: str, sid: str, token: str, timeout: float = 5) -> Client:
    """The real twilio Client, pointed at a fake (for the fakes' own self-test)."""
    return Client(sid, token, http_client=PooledHttpClient(base_url, timeout=timeout))
