"""A fake of the Telegram Bot API for one bot token, driven through the real python-telegram-bot.

Requests arrive as PTB sends them (``POST /bot<TOKEN>/<method>``, form-encoded with
JSON-encoded values, multipart for uploads) or as plain JSON bodies / query strings.
Answers and errors copy Telegram's shapes (``{"ok": true, "result": ...}``,
``{"ok": false, "error_code": ..., "description": ...}``) and the pitfalls a real bot meets:
409 when polling while a webhook is set, "message is not modified", "message to edit not
found", callback data over 64 bytes, a callback query answered twice, blocked users.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import html
import io
import json
import mimetypes
import re
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from tests.fakes.http_fake import Body, FakeHTTPServer, Matcher, RecordedRequest, Reply

#: A well-formed token for tests; the bot id is the part before the colon.
TEST_TOKEN = "7000000001:AAFakeTelegramTokenForTestsOnly_x1y2z3"

_METHOD_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")
_FILE_PATH = re.compile(r"^/file/bot(?P<token>[^/]+)/(?P<path>.+)$")

#: Parameters Telegram takes as plain strings: PTB sends them raw, never JSON-encoded.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "secret_token",
        "callback_query_id",
        "file_id",
        "action",
        "inline_message_id",
        "ip_address",
        "business_connection_id",
        "message_effect_id",
        "photo",
        "document",
    }
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

BLOCKED = "Forbidden: bot was blocked by the user"
DEACTIVATED = "Forbidden: user is deactivated"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class TelegramApiError(Exception):
    """Raised inside a method handler; becomes Telegram's error body."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def error_body(
    code: int, description: str, parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An error exactly as the Bot API shapes it."""
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def too_many_requests_body(retry_after: int) -> dict[str, Any]:
    """Telegram's flood-control answer; PTB raises ``telegram.error.RetryAfter``."""
    return error_body(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def _decode_value(name: str, raw: str) -> Any:
    if name in _STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            params[name] = payload  # an uploaded file: its bytes
        else:
            params[name] = _decode_value(name, payload.decode("utf-8", "replace"))
    return params


def request_params(request: RecordedRequest) -> dict[str, Any]:
    """The method parameters of a request, typed: query string, then form, multipart or JSON.

    Form and multipart values are JSON-decoded except Telegram's plain-string parameters;
    uploaded files come back as ``bytes``.
    """
    params: dict[str, Any] = {k: _decode_value(k, v[-1]) for k, v in request.query.items()}
    ctype = request.header("Content-Type", "") or ""
    if request.form is not None:
        params.update({k: _decode_value(k, v[-1]) for k, v in request.form.items()})
    elif ctype.lower().startswith("multipart/form-data"):
        params.update(_parse_multipart(ctype, request.body))
    elif isinstance(request.json, dict):
        params.update(request.json)
    return params


def method_of(request: RecordedRequest) -> str | None:
    """The Bot API method a request called (as spelt in the URL), or None for downloads."""
    found = _METHOD_PATH.match(unquote(request.path))
    return found["method"] if found else None


def _method_matcher(method: str) -> Callable[[RecordedRequest], bool]:
    wanted = method.strip("/").lower()
    return lambda r: (method_of(r) or "").lower() == wanted


def _image_size(content: bytes) -> tuple[int, int]:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(content)) as image:
            return image.size
    except Exception:
        return 1280, 960


def _strip_html(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


class FakeTelegram(FakeHTTPServer):
    """The Bot API for one bot; use as a context manager like every FakeHTTPServer.

    ``max_poll_wait`` caps how long a long-polling ``getUpdates`` blocks (Telegram allows
    50 s; tests should not wait that long).
    """

    def __init__(
        self,
        token: str = TEST_TOKEN,
        *,
        username: str = "tps_relay_bot",
        first_name: str = "TPS Relay",
        max_poll_wait: float = 2.0,
    ) -> None:
        super().__init__()
        self.token = token
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 7000000001
        self.username = username
        self.first_name = first_name
        self.max_poll_wait = max_poll_wait
        self._state = threading.Condition()
        self._closing = False
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._poll_generation = 0
        self._polls_waiting = 0
        self._webhook: dict[str, Any] = {"url": ""}
        self._webhook_error: tuple[int, str] | None = None
        self._files: dict[str, dict[str, Any]] = {}
        self._file_paths: dict[str, str] = {}
        self._file_counter = 0
        self._chats: dict[int, dict[str, Any]] = {}
        self._blocked: dict[int, str] = {}
        self._missing_chats: set[int] = set()
        self._last_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._sent: list[dict[str, Any]] = []
        self._edits: list[dict[str, Any]] = []
        self._answers: list[dict[str, Any]] = []
        self._answered_ids: set[str] = set()
        self._actions: list[dict[str, Any]] = []
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getme": self._get_me,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getupdates": self._get_updates,
            "getfile": self._get_file,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "sendchataction": self._send_chat_action,
        }

    # URLs ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """PTB's ``Bot(base_url=...)``: the token is appended by PTB."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's ``Bot(base_file_url=...)``."""
        return f"{self.url}/file/bot"

    def stop(self) -> None:
        """Wake blocked long polls, then stop serving."""
        with self._state:
            self._closing = True
            self._state.notify_all()
        super().stop()

    def start(self) -> FakeTelegram:
        with self._state:
            self._closing = False
        super().start()
        return self

    # scripting -------------------------------------------------------------
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
        """As :meth:`FakeHTTPServer.fail_next`; a string ``match`` that is not a path under
        ``/bot`` or ``/file/`` names a method (``"/sendMessage"`` or ``"sendMessage"``,
        case-insensitive)."""
        if isinstance(match, str) and not match.startswith(("/bot", "/file/")):
            match = _method_matcher(match)
        super().fail_next(n, status, body, headers, delay, drop, match)

    def throttle_next(self, n: int = 1, retry_after: int = 1, method: str | None = None) -> None:
        """Answer the next ``n`` calls (of ``method``, or any) with Telegram's exact 429."""
        self.fail_next(n, 429, too_many_requests_body(retry_after), match=method)

    def default_failure_body(self, status: int) -> Body:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return error_body(status, phrase)

    def block_user(self, chat_id: int) -> None:
        """Sends to this private chat fail with 403 "bot was blocked by the user"."""
        with self._state:
            self._blocked[int(chat_id)] = BLOCKED

    def deactivate_user(self, chat_id: int) -> None:
        """Sends to this chat fail with 403 "user is deactivated" (deleted account)."""
        with self._state:
            self._blocked[int(chat_id)] = DEACTIVATED

    def unblock_user(self, chat_id: int) -> None:
        with self._state:
            self._blocked.pop(int(chat_id), None)

    def forget_chat(self, chat_id: int) -> None:
        """Calls naming this chat fail with 400 "chat not found"."""
        with self._state:
            self._missing_chats.add(int(chat_id))

    def add_chat(
        self,
        chat_id: int,
        first_name: str = "Siti",
        *,
        username: str | None = None,
        last_name: str | None = None,
        title: str | None = None,
        type: str | None = None,
    ) -> None:
        """Describe a chat so Message results carry its real names (defaults otherwise)."""
        chat: dict[str, Any] = {"id": int(chat_id)}
        chat_type = type or ("private" if int(chat_id) > 0 else "supergroup")
        if chat_type == "private":
            chat["first_name"] = first_name
            if last_name:
                chat["last_name"] = last_name
        else:
            chat["title"] = title or "TPS group"
        if username:
            chat["username"] = username
        chat["type"] = chat_type
        with self._state:
            self._chats[int(chat_id)] = chat

    def seed_message(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        reply_markup: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Pretend the bot sent this message earlier, so it can be edited (e.g. a message a
        ``callback_update`` payload points at). Returns the stored Message."""
        chat = int(chat_id)
        with self._state:
            message = self._message_dict(chat, int(message_id), {"text": text}, reply_markup)
            self._messages[(chat, int(message_id))] = message
            self._last_message_id[chat] = max(self._last_message_id.get(chat, 0), int(message_id))
            return json.loads(json.dumps(message))

    def queue_update(self, update: dict[str, Any]) -> int:
        """Queue an Update for getUpdates (``update_id`` assigned when missing); returns its id."""
        with self._state:
            update = dict(update)
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
            self._updates.append(update)
            self._state.notify_all()
            return int(update["update_id"])

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by an ``offset``."""
        with self._state:
            return [dict(u) for u in self._updates]

    def polls_waiting(self) -> int:
        """How many getUpdates long polls are blocked right now, waiting for an update."""
        with self._state:
            return self._polls_waiting

    def add_file(
        self,
        content: bytes,
        file_path_hint: str = "photos/x.jpg",
        *,
        file_id: str | None = None,
        file_unique_id: str | None = None,
    ) -> str:
        """Host ``content`` for getFile + download; returns its file_id (pass ``file_id`` to
        match an id used in an update payload). The served file_path is
        ``<folder of hint>/file_<n><extension of hint>``."""
        folder, _, name = file_path_hint.rpartition("/")
        ext = name[name.rfind(".") :] if "." in name else ""
        with self._state:
            n = self._file_counter
            self._file_counter += 1
            digest = hashlib.sha256(content + str(n).encode()).hexdigest()
            fid = file_id or f"AgACAgUAAxkBAAI{digest[:40]}{n}"
            path = f"{folder or 'documents'}/file_{n}{ext}"
            self._files[fid] = {
                "file_id": fid,
                "file_unique_id": file_unique_id or f"AQAD{digest[40:56]}",
                "file_size": len(content),
                "file_path": path,
                "content": content,
            }
            self._file_paths[path] = fid
        return fid

    def clear(self) -> None:
        """Forget recorded requests, scripted failures and the recorded sends, edits, answers
        and chat actions; messages, files, chats, webhook and queued updates stay."""
        super().clear()
        with self._state:
            self._sent.clear()
            self._edits.clear()
            self._answers.clear()
            self._actions.clear()

    def set_webhook_error(self, message: str) -> None:
        """getWebhookInfo then reports ``last_error_date`` and ``last_error_message``."""
        with self._state:
            self._webhook_error = (int(time.time()), message)

    # inspection --------------------------------------------------------------
    def sent_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Successful sendMessage/sendPhoto calls, oldest first: the typed parameters
        (``reply_markup`` a dict, an uploaded ``photo`` as bytes) plus ``method`` and the
        ``message_id`` answered."""
        with self._state:
            return [dict(m) for m in self._sent if chat_id is None or m.get("chat_id") == chat_id]

    def edits(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Successful editMessageText/editMessageReplyMarkup calls (parameters + ``method``)."""
        with self._state:
            return [dict(m) for m in self._edits if chat_id is None or m.get("chat_id") == chat_id]

    def callback_answers(self) -> list[dict[str, Any]]:
        """Successful answerCallbackQuery parameters, oldest first."""
        with self._state:
            return [dict(a) for a in self._answers]

    def chat_actions(self) -> list[dict[str, Any]]:
        """Successful sendChatAction parameters, oldest first."""
        with self._state:
            return [dict(a) for a in self._actions]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The current state of a message the bot sent (after edits), or None."""
        with self._state:
            found = self._messages.get((int(chat_id), int(message_id)))
            return json.loads(json.dumps(found)) if found else None

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """Typed parameters of every request to ``method`` (or every method call), whatever
        it was answered, including scripted failures; ``method`` is added to each."""
        out = []
        for request in self.requests:
            name = method_of(request)
            if name is None or (method and name.lower() != method.lower()):
                continue
            out.append({"method": name, **request_params(request)})
        return out

    def wait_for_method(
        self, method: str, count: int = 1, timeout: float = 10.0
    ) -> list[RecordedRequest]:
        """Block until ``count`` calls of ``method`` arrived (any answer)."""
        return self.wait_for(_method_matcher(method), timeout=timeout, count=count)

    @property
    def webhook(self) -> dict[str, Any]:
        """The webhook as last set: ``url`` ("" when none) and, when given, ``secret_token``,
        ``allowed_updates``, ``max_connections``, ``ip_address``, ``drop_pending_updates``."""
        with self._state:
            return dict(self._webhook)

    def webhook_headers(self) -> dict[str, str]:
        """Headers Telegram sends with each webhook delivery for the current webhook."""
        headers = {"Content-Type": "application/json"}
        secret = self.webhook.get("secret_token")
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return headers

    # dispatch ----------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Reply:
        # PTB's download URL arrives with the token's ':' percent-encoded.
        found_file = _FILE_PATH.match(unquote(request.path))
        if found_file:
            if found_file["token"] != self.token:
                return Reply(401, error_body(401, "Unauthorized"))
            return self._download(found_file["path"])
        found = _METHOD_PATH.match(unquote(request.path))
        if found is None:
            return Reply(404, error_body(404, "Not Found"))
        if found["token"] != self.token:
            return Reply(401, error_body(401, "Unauthorized"))
        handler = self._handlers.get(found["method"].lower())
        if handler is None:
            return Reply(404, error_body(404, "Not Found"))
        try:
            result = handler(request_params(request))
        except TelegramApiError as err:
            return Reply(err.code, error_body(err.code, err.description, err.parameters))
        if isinstance(result, Reply):
            return result
        return Reply(200, {"ok": True, "result": result})

    def _download(self, path: str) -> Reply:
        with self._state:
            fid = self._file_paths.get(path)
            content = self._files[fid]["content"] if fid else None
        if content is None:
            return Reply(404, error_body(404, "Not Found"))
        ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return Reply(200, content, {"Content-Type": ctype})

    # methods -------------------------------------------------------------------
    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _get_me(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _set_webhook(self, params: dict[str, Any]) -> Reply:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise TelegramApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token")
        if secret is not None and not _WEBHOOK_SECRET.match(str(secret)):
            raise TelegramApiError(400, "Bad Request: secret token contains unallowed characters")
        with self._state:
            was = self._webhook.get("url")
            if not url:
                self._webhook = {"url": ""}
                return _described(
                    True, "Webhook was deleted" if was else "Webhook is already deleted"
                )
            webhook: dict[str, Any] = {"url": url}
            for key in (
                "secret_token",
                "allowed_updates",
                "max_connections",
                "ip_address",
                "drop_pending_updates",
            ):
                if params.get(key) is not None:
                    webhook[key] = params[key]
            same = was == url
            self._webhook = webhook
            if params.get("drop_pending_updates"):
                self._updates.clear()
            self._state.notify_all()  # a long poll in progress now conflicts
        return _described(True, "Webhook is already set" if same else "Webhook was set")

    def _delete_webhook(self, params: dict[str, Any]) -> Reply:
        with self._state:
            was = self._webhook.get("url")
            self._webhook = {"url": ""}
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return _described(True, "Webhook was deleted" if was else "Webhook is already deleted")

    def _get_webhook_info(self, _params: dict[str, Any]) -> dict[str, Any]:
        with self._state:
            info: dict[str, Any] = {
                "url": self._webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if info["url"]:
                info["max_connections"] = self._webhook.get("max_connections", 40)
                info["ip_address"] = self._webhook.get("ip_address", "203.0.113.10")
                if "allowed_updates" in self._webhook:
                    info["allowed_updates"] = self._webhook["allowed_updates"]
            if self._webhook_error:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
            return info

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        allowed = params.get("allowed_updates") or None
        deadline = time.monotonic() + wait
        with self._state:
            if self._webhook.get("url"):
                raise TelegramApiError(409, WEBHOOK_CONFLICT)
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            self._poll_generation += 1
            generation = self._poll_generation
            self._state.notify_all()  # an older long poll is terminated by this one
            while True:
                ready = [u for u in self._updates if _allowed(u, allowed)][:limit]
                left = deadline - time.monotonic()
                if ready or left <= 0 or self._closing:
                    return [json.loads(json.dumps(u)) for u in ready]
                self._polls_waiting += 1
                try:
                    self._state.wait(left)
                finally:
                    self._polls_waiting -= 1
                if self._poll_generation != generation:
                    raise TelegramApiError(409, POLL_CONFLICT)
                if self._webhook.get("url"):
                    raise TelegramApiError(409, WEBHOOK_CONFLICT)

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id")
        if not file_id:
            raise TelegramApiError(400, "Bad Request: file_id is empty")
        with self._state:
            found = self._files.get(str(file_id))
            if found is None:
                raise TelegramApiError(400, "Bad Request: invalid file_id")
            if found["file_size"] > MAX_DOWNLOAD:
                raise TelegramApiError(400, "Bad Request: file is too big")
            return {k: v for k, v in found.items() if k != "content"}

    def _chat_id(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise TelegramApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str) and not chat_id.lstrip("-").isdigit():
            raise TelegramApiError(400, "Bad Request: chat not found")
        chat = int(chat_id)
        if chat in self._missing_chats:
            raise TelegramApiError(400, "Bad Request: chat not found")
        return chat

    def _check_reachable(self, chat_id: int) -> None:
        reason = self._blocked.get(chat_id)
        if reason:
            raise TelegramApiError(403, reason)

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self._chats:
            return dict(self._chats[chat_id])
        if chat_id > 0:
            return {"id": chat_id, "first_name": "Siti", "type": "private"}
        return {"id": chat_id, "title": "TPS group", "type": "supergroup"}

    def _message_dict(
        self,
        chat_id: int,
        message_id: int,
        content: dict[str, Any],
        reply_markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **content,
        }
        # Telegram echoes only inline keyboards; reply keyboards are not part of a Message.
        if reply_markup and "inline_keyboard" in reply_markup:
            message["reply_markup"] = reply_markup
        return message

    def _new_message(
        self, chat_id: int, content: dict[str, Any], reply_markup: dict[str, Any] | None
    ) -> dict[str, Any]:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        message = self._message_dict(chat_id, message_id, content, reply_markup)
        self._messages[(chat_id, message_id)] = message
        return message

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text")
        with self._state:
            chat_id = self._chat_id(params)
            if text is None or str(text).strip() == "":
                raise TelegramApiError(400, "Bad Request: message text is empty")
            shown = _shown_text(str(text), params.get("parse_mode"))
            if len(shown) > MAX_TEXT:
                raise TelegramApiError(400, "Bad Request: message is too long")
            markup = _reply_markup(params)
            self._check_reachable(chat_id)
            message = self._new_message(chat_id, {"text": shown}, markup)
            self._sent.append(
                {
                    "method": "sendMessage",
                    **params,
                    "chat_id": chat_id,
                    "message_id": message["message_id"],
                }
            )
            return json.loads(json.dumps(message))

    def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = params.get("photo")
        with self._state:
            chat_id = self._chat_id(params)
            if photo in (None, b"", ""):
                raise TelegramApiError(400, "Bad Request: there is no photo in the request")
            caption = params.get("caption")
            content: dict[str, Any] = {}
            if caption:
                content["caption"] = _shown_text(str(caption), params.get("parse_mode"))
                if len(content["caption"]) > MAX_CAPTION:
                    raise TelegramApiError(400, "Bad Request: message caption is too long")
            markup = _reply_markup(params)
            self._check_reachable(chat_id)
        content["photo"] = self._photo_sizes(photo)
        with self._state:
            message = self._new_message(chat_id, content, markup)
            self._sent.append(
                {
                    "method": "sendPhoto",
                    **params,
                    "chat_id": chat_id,
                    "message_id": message["message_id"],
                }
            )
            return json.loads(json.dumps(message))

    def _photo_sizes(self, photo: bytes | str) -> list[dict[str, Any]]:
        if isinstance(photo, bytes):
            width, height = _image_size(photo)
            largest = self.add_file(photo, "photos/upload.jpg")
            size = len(photo)
        else:
            width, height, size = 1280, 960, 100_000
            largest = photo
        sizes = []
        for bound in (90, 320, 800):
            scale = bound / max(width, height)
            if scale >= 1:
                break
            sizes.append(
                {
                    "file_id": f"{largest}_{bound}",
                    "file_unique_id": "AQAD" + _digest(f"{largest}_{bound}")[:16],
                    "file_size": max(1, int(size * scale * scale)),
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                }
            )
        with self._state:
            unique = self._files.get(largest, {}).get("file_unique_id", f"AQAD{largest[-12:]}")
        sizes.append(
            {
                "file_id": largest,
                "file_unique_id": unique,
                "file_size": size,
                "width": width,
                "height": height,
            }
        )
        return sizes

    def _message_to_edit(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise TelegramApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        if message_id in (None, ""):
            raise TelegramApiError(400, "Bad Request: message identifier is not specified")
        found = self._messages.get((chat_id, int(message_id)))
        if found is None:
            raise TelegramApiError(400, "Bad Request: message to edit not found")
        self._check_reachable(chat_id)
        return chat_id, found

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._state:
            chat_id, message = self._message_to_edit(params)
            text = params.get("text")
            if text is None or str(text).strip() == "":
                raise TelegramApiError(400, "Bad Request: message text is empty")
            if "text" not in message:
                raise TelegramApiError(400, "Bad Request: there is no text in the message to edit")
            shown = _shown_text(str(text), params.get("parse_mode"))
            if len(shown) > MAX_TEXT:
                raise TelegramApiError(400, "Bad Request: message is too long")
            markup = _reply_markup(params)
            if shown == message["text"] and markup == message.get("reply_markup"):
                raise TelegramApiError(400, NOT_MODIFIED)
            return self._apply_edit(chat_id, message, "editMessageText", params, shown, markup)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._state:
            chat_id, message = self._message_to_edit(params)
            markup = _reply_markup(params)
            if markup == message.get("reply_markup"):
                raise TelegramApiError(400, NOT_MODIFIED)
            return self._apply_edit(
                chat_id, message, "editMessageReplyMarkup", params, None, markup
            )

    def _apply_edit(
        self,
        chat_id: int,
        message: dict[str, Any],
        method: str,
        params: dict[str, Any],
        text: str | None,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        if text is not None:
            message["text"] = text
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        self._edits.append({"method": method, **params, "chat_id": chat_id})
        return json.loads(json.dumps(message))

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id:
            raise TelegramApiError(400, "Bad Request: query is empty")
        with self._state:
            if str(query_id) in self._answered_ids:
                raise TelegramApiError(400, QUERY_TOO_OLD)
            if len(str(params.get("text") or "")) > 200:
                raise TelegramApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            self._answered_ids.add(str(query_id))
            self._answers.append(dict(params))
        return True

    def _send_chat_action(self, params: dict[str, Any]) -> bool:
        with self._state:
            chat_id = self._chat_id(params)
            if params.get("action") not in _CHAT_ACTIONS:
                raise TelegramApiError(400, "Bad Request: wrong parameter action in request")
            self._check_reachable(chat_id)
            self._actions.append({**params, "chat_id": chat_id})
        return True


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _described(result: Any, description: str) -> Reply:
    return Reply(200, {"ok": True, "result": result, "description": description})


def _allowed(update: dict[str, Any], allowed: list[str] | None) -> bool:
    if not allowed:
        return True
    return any(kind in update for kind in allowed)


def _shown_text(text: str, parse_mode: Any) -> str:
    """The text as Telegram stores it: HTML markup removed (entities are not modelled)."""
    return _strip_html(text) if str(parse_mode or "").upper() == "HTML" else text


def _reply_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    markup = params.get("reply_markup")
    if markup is None or markup == "":
        return None
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError as err:
            raise TelegramApiError(
                400, "Bad Request: can't parse reply keyboard markup JSON object"
            ) from err
    if not isinstance(markup, dict):
        raise TelegramApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise TelegramApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup
