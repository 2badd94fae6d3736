"""The providers' hot webhooks served in front of Flask: Twilio (SMS, WhatsApp) and Telegram.

A signed webhook is the web tier's whole load on election night, and Flask's request
machinery (request context, routing, the Request object, werkzeug's form parser, the
Response and its after-request hooks) was about a third of its CPU. `HotWebhooks` sits
between ProxyFix and the Flask app and takes exactly the requests that are a provider's
ordinary delivery — `POST /webhooks/twilio` with a urlencoded form, `POST /webhooks/telegram`
with JSON, a Content-Length of at most HOT_MAX_BYTES — and runs the same steps as
webhooks.receive: the channel adapter's own `receive` (signature or secret, validation) on
a small request object, relay.intake.accept (stored before acknowledged, enqueued), the
adapter's acknowledgement. Everything else goes to Flask untouched, and so does any request
the adapter refuses (or fails on) before anything is stored: Flask gets the body back and
answers exactly as it always has (403, 400, 404, 413, 415 …). The answers this module gives
itself (the acknowledgement, 503, 500) are built once per kind by Flask's own Response and
after-request hooks (security headers) and kept, so their status, headers and body are
Flask's (tests/test_hot_webhooks.py compares the two paths).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import unquote

import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" error handler)
from flask import Flask, Response
from werkzeug.exceptions import InternalServerError

from channels.registry import adapter_for
from jobs import request_redis
from relay import intake
from relay.config import load_settings

log = logging.getLogger("webhooks.receive")  # the same logger as the Flask route's

# A Twilio delivery is ~1 KiB and a Telegram update a few; a bigger body (or none announced,
# chunked) goes through Flask, which applies MAX_CONTENT_LENGTH and the form limits.
HOT_MAX_BYTES = 64 * 1024
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
HOT_ROUTES = {"/webhooks/twilio": ("twilio", FORM), "/webhooks/telegram": ("telegram", JSON)}
URL_QUOTE_ERRORS = "werkzeug.url_quote"  # werkzeug's error handler for bad %-escapes

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_Answer = tuple[str, list[tuple[str, str]], bytes]


class NotPlain(Exception):
    """The body is not what the fast parser reads exactly as werkzeug would: Flask takes it."""


def parse_form(body: bytes) -> dict[str, list[str]]:
    """An urlencoded body as werkzeug parses it (urllib's parse_qsl, blank values kept, '&'
    only), without parse_qsl's per-call checks; a body that is not UTF-8 is NotPlain
    (werkzeug silently reads it as an empty form)."""
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise NotPlain("not UTF-8") from exc
    form: dict[str, list[str]] = {}
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = unquote(name, errors=URL_QUOTE_ERRORS)
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = unquote(value, errors=URL_QUOTE_ERRORS)
        values = form.get(name)
        if values is None:
            form[name] = [value]
        else:
            values.append(value)
    return form


class Form:
    """The parts of werkzeug's MultiDict the adapters read: first value, all values, names
    in order of first appearance."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def get(self, name: str, default: Any = None) -> Any:
        values = self._values.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self._values.get(name, ()))


class HotRequest:
    """What a channel adapter reads of a Flask request, straight from the WSGI environ."""

    __slots__ = ("_body", "_environ", "_form", "path", "query_string")

    def __init__(self, environ: dict[str, Any], body: bytes) -> None:
        self._environ = environ
        self._body = body
        self._form: Form | None = None
        self.path: str = environ["PATH_INFO"]
        self.query_string: bytes = environ.get("QUERY_STRING", "").encode("latin-1")

    @property
    def headers(self) -> HotRequest:
        return self

    def get(self, name: str, default: Any = None) -> Any:
        """A header, as werkzeug's EnvironHeaders.get finds it."""
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        return self._environ.get(key, default)

    @property
    def form(self) -> Form:
        if self._form is None:
            self._form = Form(parse_form(self._body))
        return self._form

    def get_json(self, silent: bool = False) -> Any:
        """The body as JSON (only ever asked for a JSON content type), None when it is not
        JSON — as werkzeug's get_json(silent=True); a RecursionError goes to the caller."""
        try:
            return json.loads(self._body)
        except ValueError:
            if silent:
                return None
            raise


class HotWebhooks:
    """WSGI middleware: the providers' ordinary deliveries here, every other request to
    `flask_wsgi` (the Flask app's own wsgi_app)."""

    def __init__(self, app: Flask, flask_wsgi: WsgiApp) -> None:
        self.app = app
        self.flask_wsgi = flask_wsgi
        self._answers: dict[tuple[Any, ...], _Answer] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        route = HOT_ROUTES.get(environ.get("PATH_INFO", ""))
        if route is None or environ.get("REQUEST_METHOD") != "POST":
            return self.flask_wsgi(environ, start_response)
        channel, mimetype = route
        length = environ.get("CONTENT_LENGTH", "")
        if (
            not length.isdigit()
            or int(length) > HOT_MAX_BYTES
            or environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() != mimetype
        ):
            return self.flask_wsgi(environ, start_response)
        body = environ["wsgi.input"].read(int(length))
        if len(body) != int(length):  # the client went away: Flask says what it says to that
            return self._to_flask(environ, start_response, body)
        return self._serve(channel, environ, start_response, body)

    def _serve(
        self, channel: str, environ: dict[str, Any], start_response: StartResponse, body: bytes
    ) -> Iterable[bytes]:
        adapter = adapter_for(channel)
        settings = load_settings()
        try:
            messages = adapter.receive(HotRequest(environ, body), settings)
        except Exception:  # Rejected, NotPlain, or anything the Flask route would raise too
            # Refused or odd, and nothing stored yet: Flask answers it, and logs it, as ever.
            return self._to_flask(environ, start_response, body)
        path, scheme = environ["PATH_INFO"], environ["wsgi.url_scheme"]
        token = request_redis.SERVING.set(True)  # Redis as for any request: bounded, memo
        try:
            results = intake.accept(messages, settings)
        except intake.StorageError:
            log.exception("webhook %s: database unavailable", channel)
            answer = self._answer(
                path,
                scheme,
                "storage unavailable, retry later",
                503,
                None,
                "text/plain",
            )
            return self._send(start_response, answer)
        except Exception:
            if self.app.testing or self.app.debug or self.app.config["PROPAGATE_EXCEPTIONS"]:
                raise
            self.app.logger.error("Exception on %s [POST]", path, exc_info=True)
            return self._send(start_response, self._error_answer(path, scheme))
        finally:
            request_redis.SERVING.reset(token)
        redelivered = sum(1 for _, created in results if not created)
        if redelivered:  # the provider sent it again: stored once, processed once
            log.info("webhook %s: %d redelivered message(s) ignored", channel, redelivered)
        text, status, headers = adapter.acknowledge()
        answer = self._answer(path, scheme, text, status, tuple(headers.items()), None)
        return self._send(start_response, answer)

    def _to_flask(
        self, environ: dict[str, Any], start_response: StartResponse, body: bytes
    ) -> Iterable[bytes]:
        environ["wsgi.input"] = io.BytesIO(body)
        return self.flask_wsgi(environ, start_response)

    @staticmethod
    def _send(start_response: StartResponse, answer: _Answer) -> Iterable[bytes]:
        status, headers, body = answer
        start_response(status, list(headers))
        return [body]

    def _answer(
        self,
        path: str,
        scheme: str,
        text: str,
        status: int,
        headers: tuple[tuple[str, str], ...] | None,
        mimetype: str | None,
    ) -> _Answer:
        key = (path, scheme, text, status, headers, mimetype)
        answer = self._answers.get(key)
        if answer is None:
            response = Response(text, status=status, headers=headers, mimetype=mimetype)
            answer = self._answers[key] = self._finished(path, scheme, response)
        return answer

    def _error_answer(self, path: str, scheme: str) -> _Answer:
        key = (path, scheme, "500")
        answer = self._answers.get(key)
        if answer is None:
            response = InternalServerError().get_response()
            answer = self._answers[key] = self._finished(path, scheme, response)
        return answer

    def _finished(self, path: str, scheme: str, response: Any) -> _Answer:
        """`response` as Flask finishes it for a POST to `path` over `scheme`: the app's
        after-request hooks (security headers; HSTS over https) and the session's."""
        with self.app.test_request_context(path, method="POST", base_url=f"{scheme}://relay"):
            response = self.app.process_response(response)
        return response.status, response.headers.to_wsgi_list(), response.get_data()


def install(app: Flask) -> None:
    """Put HotWebhooks in front of the Flask app (inside ProxyFix, which is installed
    after this, so the scheme it reports is the one HSTS is decided on)."""
    app.wsgi_app = HotWebhooks(app, app.wsgi_app)  # type: ignore[method-assign]
