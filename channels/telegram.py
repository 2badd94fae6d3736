"""Telegram through python-telegram-bot: webhook updates in, Bot API calls out.

The Bot is async-only; RQ forks a work horse per job, so each send runs in its own
`asyncio.run` with a fresh Bot and an HTTPXRequest we shut down ourselves (no getMe).
"""

from __future__ import annotations

import asyncio
import hmac
import io
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from channels.base import (
    CONNECTION,
    FAILED,
    SEND_CONNECT_TIMEOUT,
    STOPPED,
    THROTTLED,
    Channel,
    Incoming,
    Media,
    MediaError,
    Outgoing,
    Rejected,
    SendError,
    SendResult,
)
from channels.telegram_updates import from_update
from relay import media as media_store
from relay.config import Settings

T = TypeVar("T")
log = logging.getLogger(__name__)
MAX_PAYLOAD = 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


def run_with_bot(
    settings: Settings, action: Callable[[Bot], Awaitable[T]], read_timeout: float = 15
) -> T:
    """Run one Bot API conversation in a fresh event loop with a fresh connection pool."""

    async def _run() -> T:
        request = HTTPXRequest(
            connect_timeout=SEND_CONNECT_TIMEOUT,
            read_timeout=read_timeout,
            write_timeout=read_timeout,
        )
        bot = Bot(
            settings.telegram_bot_token,
            base_url=f"{settings.telegram_api_url}/bot",
            base_file_url=f"{settings.telegram_api_url}/file/bot",
            request=request,
        )
        try:
            return await action(bot)
        finally:
            await request.shutdown()

    return asyncio.run(_run())


def _send_error(exc: TelegramError) -> SendError:
    if isinstance(exc, RetryAfter):
        retry_after = exc.retry_after
        seconds = (
            retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else retry_after
        )
        return SendError(THROTTLED, str(exc), float(seconds))  # type: ignore[arg-type]
    if isinstance(exc, Forbidden):
        return SendError(STOPPED, str(exc))
    if isinstance(exc, BadRequest):
        return SendError(FAILED, str(exc))
    if isinstance(exc, NetworkError):  # includes TimedOut and 5xx answers
        return SendError(CONNECTION, str(exc))
    return SendError(FAILED, str(exc))


def _markup(extras: dict[str, Any]) -> Any:
    if extras.get("buttons"):
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(label, callback_data=data[:64])
                    for label, data in extras["buttons"]
                ]
            ]
        )
    if extras.get("request_contact"):
        return ReplyKeyboardMarkup(
            [[KeyboardButton(extras["request_contact"], request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if extras.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    return None


class TelegramChannel(Channel):
    name = "telegram"
    sends_per_second = 25  # Telegram allows about 30 per second per bot

    def enabled(self, settings: Settings) -> bool:
        return bool(settings.telegram_bot_token)

    def receive(self, request: Any, settings: Settings) -> list[Incoming]:
        if not settings.telegram_bot_token or not settings.telegram_webhook_secret:
            raise Rejected(404, "telegram channel is not configured")
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), settings.telegram_webhook_secret.encode()):
            raise Rejected(403, f"missing or wrong {SECRET_HEADER}")
        try:
            data = request.get_json(silent=True)
        except RecursionError as exc:  # absurdly deep nesting: no Update looks like that
            raise Rejected(400, "body is not a Telegram Update") from exc
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise Rejected(400, "body is not a Telegram Update")
        return [self.parse(data)]

    @staticmethod
    def parse(data: dict[str, Any]) -> Incoming:
        """A well-formed update, or — for one that breaks Telegram's own schema — the raw
        update kept as ignored: stored (nothing is lost) and acknowledged, so Telegram does
        not hold up later updates retrying it."""
        try:
            return from_update(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("malformed Telegram update %s: %r", data.get("update_id"), exc)
            return Incoming(
                channel="telegram",
                provider_id=str(data["update_id"]),
                sender="unknown",
                text="",
                event={"type": "ignored"},
                payload=json.dumps(data, ensure_ascii=False)[:MAX_PAYLOAD],
            )

    def acknowledge(self) -> tuple[str, int, dict[str, str]]:
        return "", 200, {}

    def send(self, message: Outgoing, settings: Settings) -> SendResult:
        extras = message.extras or {}
        chat_id = int(message.to)

        async def deliver(bot: Bot) -> SendResult:
            if extras.get("callback_id"):
                try:
                    await bot.answer_callback_query(extras["callback_id"])
                except BadRequest:
                    pass  # too old or answered by an earlier try: the edit still matters
            if extras.get("edit_message_id"):
                try:
                    await bot.edit_message_text(
                        extras.get("edit_text") or message.text,
                        chat_id=chat_id,
                        message_id=extras["edit_message_id"],
                        reply_markup=None,
                    )
                except BadRequest as exc:
                    if "not modified" not in str(exc).lower():
                        raise
                return SendResult(provider_id=f"{chat_id}:{extras['edit_message_id']}")
            markup = _markup(extras)
            if extras.get("photo"):
                photo = io.BytesIO(media_store.load(extras["photo"]))
                sent = await bot.send_photo(
                    chat_id, photo=photo, caption=message.text[:1024], reply_markup=markup
                )
            else:
                sent = await bot.send_message(chat_id, message.text[:4096], reply_markup=markup)
            return SendResult(provider_id=f"{chat_id}:{sent.message_id}")

        try:
            return run_with_bot(settings, deliver, read_timeout=settings.send_timeout)
        except TelegramError as exc:
            raise _send_error(exc) from exc

    def fetch_media(self, item: dict[str, Any], settings: Settings, max_bytes: int) -> Media:
        declared = int(item.get("file_size") or 0)
        if declared > max_bytes:
            raise MediaError("too_large", f"{declared} bytes declared", size=declared)

        async def download(bot: Bot) -> bytes:
            telegram_file = await bot.get_file(item["file_id"])
            if (telegram_file.file_size or 0) > max_bytes:
                raise MediaError("too_large", "file_size", size=telegram_file.file_size)
            return bytes(await telegram_file.download_as_bytearray())

        try:
            content = run_with_bot(settings, download)
        except TelegramError as exc:
            raise MediaError("download_failed", str(exc)) from exc
        if len(content) > max_bytes:
            raise MediaError("too_large", "downloaded", size=len(content))
        return Media(content, str(item.get("content_type", "")))
