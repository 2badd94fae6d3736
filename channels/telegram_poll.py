"""Long polling for deployments without a public HTTPS address: getUpdates feeds the same
store-and-enqueue path as the webhook. An update is confirmed to Telegram (by the next
offset) only after it was stored, so a crash between the two loses nothing."""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError
from telegram import Bot
from telegram.error import Conflict, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from channels.telegram import ALLOWED_UPDATES
from channels.telegram_updates import from_update
from jobs.queues import redis_connection
from relay import intake
from relay.config import Settings

log = logging.getLogger(__name__)
OFFSET_KEY = "relay:telegram:offset"


def _load_offset() -> int | None:
    try:
        raw = redis_connection().get(OFFSET_KEY)
    except RedisError:
        return None
    return int(raw) if raw else None


def _save_offset(offset: int) -> None:
    try:
        redis_connection().set(OFFSET_KEY, offset)
    except RedisError:
        log.warning("could not remember the Telegram offset; Telegram remembers it too")


async def poll_once(bot: Bot, offset: int | None, timeout: int) -> tuple[int | None, int]:
    """One getUpdates round: store every update, return the next offset and the count."""
    updates = await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES)
    if not updates:
        return offset, 0
    intake.accept([from_update(update.to_dict()) for update in updates])
    next_offset = updates[-1].update_id + 1
    _save_offset(next_offset)
    return next_offset, len(updates)


async def poll(settings: Settings, *, once: bool = False, timeout: int = 25) -> int:
    """Poll until stopped (or one round with `once`); returns how many updates were taken."""
    request = HTTPXRequest(connect_timeout=5, read_timeout=timeout + 10)
    bot = Bot(
        settings.telegram_bot_token,
        base_url=f"{settings.telegram_api_url}/bot",
        base_file_url=f"{settings.telegram_api_url}/file/bot",
        request=request,
        get_updates_request=request,
    )
    offset, total = _load_offset(), 0
    try:
        while True:
            try:
                offset, count = await poll_once(bot, offset, 0 if once else timeout)
                total += count
            except Conflict:
                log.error(
                    "a webhook is set or another poller runs: "
                    "run `telegram webhook delete` or stop the other poller"
                )
                await asyncio.sleep(10)
            except (NetworkError, TelegramError) as exc:
                log.warning("getUpdates failed (%s); retrying", exc)
                await asyncio.sleep(3)
            except intake.StorageError as exc:
                # The offset did not move: Telegram hands the same updates over next round.
                log.error("could not store Telegram updates (%s); fetching them again", exc)
                if not once:
                    await asyncio.sleep(5)
            if once:
                return total
    finally:
        await request.shutdown()
