"""A reusable local HTTP server for fake providers: records requests, scripts failures.

Subclasses override :meth:`FakeHTTPServer.handle` and answer with a :class:`Reply`.
The server speaks HTTP/1.0 (one request per connection), so no pooled keep-alive
connection can outlive a scripted drop or a stop; `keep_alive=True` makes it speak HTTP/1.1
with persistent connections, as the real providers do (benchmarks: a connection and a thread
per request cost the fake and the client more than the request itself).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

Body = bytes | str | dict[str, Any] | list[Any] | None
Matcher = Callable[["RecordedRequest"], bool] | str | None


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it, and what it was answered.

    ``outcome`` is ``"handled"`` (the fake's own logic answered), ``"scripted"``
    (a canned failure from :meth:`FakeHTTPServer.fail_next`) or ``"dropped"``
    (connection closed without an answer, ``status`` is then None).
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    form: dict[str, list[str]] | None
    json: object | None
    at: float
    status: int | None = None
    outcome: str = "handled"
    delay: float = 0.0

    def header(self, name: str, default: str | None = None) -> str | None:
        """Case-insensitive header lookup."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default


@dataclass(frozen=True)
class Reply:
    """What a handler answers; dict/list bodies are sent as JSON."""

    status: int = 200
    body: Body = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Failure:
    remaining: int
    status: int | None
    body: Body
    headers: dict[str, str]
    delay: float
    drop: bool
    match: Matcher


def _matches(match: Matcher, request: RecordedRequest) -> bool:
    if match is None:
        return True
    if isinstance(match, str):
        return request.path.startswith(match)
    return match(request)


def encode_body(body: Body, headers: dict[str, str]) -> bytes:
    """Serialise a reply body, adding a Content-Type when none was given."""
    if body is None:
        return b""
    if isinstance(body, dict | list):
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(body).encode()
    if isinstance(body, str):
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return body.encode()
    return body


def parse_request(
    method: str, target: str, headers: dict[str, str], body: bytes
) -> RecordedRequest:
    """Build a RecordedRequest, decoding form or JSON bodies by Content-Type."""
    parts = urlsplit(target)
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "").lower()
    form = None
    payload: object | None = None
    if ctype.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    elif "json" in ctype and body:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
    return RecordedRequest(
        method=method,
        path=parts.path,
        query=parse_qs(parts.query, keep_blank_values=True),
        headers=headers,
        body=body,
        form=form,
        json=payload,
        at=time.time(),
    )


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = parse_request(self.command, self.path, dict(self.headers.items()), body)
        self.server.fake._respond(self, request)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read the recorded requests instead."""


class _KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"  # connections persist; every answer has a Content-Length
    # The headers and the body go out in two writes: with Nagle's algorithm the body waited
    # for the client's delayed ACK of the headers, 40 ms on every answer of a kept connection
    # (bench/workers.py drained 20 messages/s instead of ~120). Real providers answer at once.
    disable_nagle_algorithm = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # a burst of clients connecting at once is not refused

    def __init__(self, fake: FakeHTTPServer, keep_alive: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _KeepAliveHandler if keep_alive else _Handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that went away (timeouts, drops)."""


class FakeHTTPServer:
    """A threaded local server on 127.0.0.1:<free port>; use as a context manager."""

    def __init__(self, keep_alive: bool = False) -> None:
        self.keep_alive = keep_alive
        self._lock = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._failures: list[_Failure] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------
    def start(self) -> Self:
        """Bind a free port and serve in a daemon thread."""
        if self._server is None:
            self._stopping.clear()
            self._server = _Server(self, self.keep_alive)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed answers still pending are cut short."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL such as ``http://127.0.0.1:54321`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("fake server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # recorded requests -----------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Forget recorded requests and pending scripted failures."""
        with self._lock:
            self._requests.clear()
            self._failures.clear()

    def wait_for(
        self,
        what: int | Callable[[RecordedRequest], bool],
        timeout: float = 10.0,
        count: int = 1,
    ) -> list[RecordedRequest]:
        """Block until ``what`` requests arrived (an int) or ``count`` requests match
        (a predicate); return the matching ones. Raise AssertionError on timeout."""
        predicate: Callable[[RecordedRequest], bool]
        if isinstance(what, int):
            predicate, count = (lambda _r: True), what
        else:
            predicate = what
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [r for r in self._requests if predicate(r)]
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    break
                self._lock.wait(left)
            if len(found) >= count:
                return found
            seen = "\n".join(
                f"  {r.method} {r.path} -> {r.status} ({r.outcome})" for r in self._requests
            )
        raise AssertionError(
            f"waited {timeout}s for {count} matching request(s), got {len(found)}; "
            f"received:\n{seen or '  nothing'}"
        )

    # scripted failures -----------------------------------------------------
    def fail_next(
        self,
        n: int = 1,
        status: int | None = 500,
        body: Body = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        drop: bool = False,
        match: Matcher = None,
    ) -> None:
        """Answer the next ``n`` matching requests with ``status``/``body``/``headers``.

        ``delay`` waits that long before answering (longer than the client timeout
        simulates a timeout); ``drop`` closes the connection without any answer;
        ``status=None`` lets the fake's own logic answer (after the delay), e.g. a
        message accepted whose answer never reached the client. ``match`` is a
        path prefix or a predicate; None matches every request. Scripts queue up.
        """
        failure = _Failure(n, status, body, dict(headers or {}), delay, drop, match)
        with self._lock:
            self._failures.append(failure)

    def default_failure_body(self, status: int) -> Body:
        """Body for a scripted failure given without one; providers override."""
        return {"error": HTTPStatus(status).phrase}

    def handle(self, request: RecordedRequest) -> Reply:
        """Answer a request; subclasses override. The base answers 404."""
        return Reply(404, {"error": "not found"})

    # internals -------------------------------------------------------------
    def _take_failure(self, request: RecordedRequest) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if _matches(failure.match, request):
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                    return failure
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)
            self._lock.notify_all()

    def _respond(self, handler: _Handler, request: RecordedRequest) -> None:
        failure = self._take_failure(request)
        delay = failure.delay if failure else 0.0
        if failure and failure.drop:
            self._record(replace(request, status=None, outcome="dropped", delay=delay))
            self._stopping.wait(delay)
            handler.close_connection = True
            return
        if failure and failure.status is not None:
            body = (
                failure.body
                if failure.body is not None
                else self.default_failure_body(failure.status)
            )
            reply, outcome = (
                Reply(failure.status, body, dict(failure.headers)),
                "scripted",
            )
        else:
            reply, outcome = self.handle(request), "handled"
        headers = dict(reply.headers)
        payload = encode_body(reply.body, headers)
        self._record(replace(request, status=reply.status, outcome=outcome, delay=delay))
        if self._stopping.wait(delay):
            return
        try:
            handler.send_response(reply.status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            if request.method != "HEAD":
                handler.wfile.write(payload)
        except OSError:
            pass  # the client gave up (timeout) before the answer
