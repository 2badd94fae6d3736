"""A fake generic SMS gateway (Android gateway app / Gammu bridge): ``POST /send``."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import threading
from typing import Any

from tests.fakes.http_fake import FakeHTTPServer, RecordedRequest, Reply


def signature(secret: str, body: bytes) -> str:
    """The ``X-Signature`` value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _well_formed(message: object) -> bool:
    return (
        isinstance(message, dict)
        and isinstance(message.get("id"), str | int)
        and isinstance(message.get("to"), str)
        and isinstance(message.get("text"), str)
    )


class FakeSmsGateway(FakeHTTPServer):
    """Accepts ``{"id","to","text"}`` JSON; checks ``X-Signature`` when a secret is set."""

    def __init__(self, secret: str | None = None) -> None:
        super().__init__()
        self.secret = secret
        self._data_lock = threading.Lock()
        self._sent: list[dict[str, Any]] = []
        self._invalid: set[str] = set()
        self._ids = itertools.count(1)

    def add_invalid_recipient(self, to: str) -> None:
        """Sends to ``to`` get 400 ``{"error": "invalid recipient"}``."""
        with self._data_lock:
            self._invalid.add(to)

    def sent_messages(self) -> list[dict[str, Any]]:
        """JSON bodies the gateway accepted, in order."""
        with self._data_lock:
            return [dict(m) for m in self._sent]

    def handle(self, request: RecordedRequest) -> Reply:
        """``POST /send`` only; 401 on a bad signature, 400 on a bad body or recipient."""
        if request.path != "/send":
            return Reply(404, {"error": "not found"})
        if request.method != "POST":
            return Reply(405, {"error": "method not allowed"})
        if self.secret is not None:
            given = request.header("X-Signature") or ""
            if not hmac.compare_digest(given, signature(self.secret, request.body)):
                return Reply(401, {"error": "invalid signature"})
        message = request.json
        if not _well_formed(message):
            return Reply(400, {"error": "invalid request"})
        assert isinstance(message, dict)
        with self._data_lock:
            if message["to"] in self._invalid:
                return Reply(400, {"error": "invalid recipient"})
            self._sent.append(message)
            number = next(self._ids)
        return Reply(
            200,
            {
                "id": message["id"],
                "status": "queued",
                "gateway_message_id": f"gw-{number}",
            },
        )
