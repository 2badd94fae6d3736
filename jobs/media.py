"""Job: fetch the photos of a stored message from the provider and keep them.

Sizes are capped before and while downloading; anything that is not an image is refused
with a reply. Reading the photo (OCR) is the next stage: a worker with a reader process
(jobs.reader_process) reads them in this same job, right after keeping them, instead of
queueing a reading job that it would dequeue next anyway (the reading goes to the front of
the photo queue); a reading that fails there is queued as its own job, retried as before.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import String, bindparam, case, select, update

from bots.conversation import has_image
from bots.messages import DEFAULT_LANGUAGE, text
from bots.reply import Reply
from channels.base import MediaError
from channels.registry import adapter_for
from jobs.queues import enqueue_outbound, enqueue_photo_reading
from jobs.replies import reply_row
from relay import media
from relay.config import load_settings
from relay.db import session_scope
from relay.models import InboundMessage, Officer

log = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 20 * 1024 * 1024  # Telegram's own download limit; Twilio caps at 5 MB
DOWNLOAD_TRIES = 3
FAILURE_SEQUENCE = 100  # reply sequence numbers for media failures: 100 + attachment index

_INBOUND = InboundMessage.__table__
_ITEMS = select(_INBOUND.c.channel, _INBOUND.c.media).where(_INBOUND.c.id == bindparam("row_id"))
_STAGE = bindparam("next_stage", type_=String)
_NEW_STAGE = _INBOUND.c.follow_up.is_distinct_from(_STAGE)  # the row's value before the SET
# The items kept and the message's next stage set, in one statement without reading the row
# again: a new stage starts with no failures and no retry time (the sweeper's count).
_SAVE = (
    update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("row_id"))
    .values(
        media=bindparam("media"),
        follow_up=_STAGE,
        job_failures=case((_NEW_STAGE, 0), else_=_INBOUND.c.job_failures),
        retry_at=case((_NEW_STAGE, None), else_=_INBOUND.c.retry_at),
    )
)


def fetch_media(inbound_id: int) -> str:
    settings = load_settings()
    with session_scope() as session:
        message = session.execute(_ITEMS, {"row_id": inbound_id}).first()
        if message is None:
            return "missing"
        items = [dict(item) for item in message.media]
        adapter = adapter_for(message.channel)
    failures: list[tuple[int, MediaError]] = []
    kept: dict[str, bytes] = {}  # what this run downloaded, by store key: read as it is
    for index, item in enumerate(items):
        if "key" in item or "error" in item or not has_image(item):
            continue
        try:
            fetched = adapter.fetch_media(item, settings, MAX_PHOTO_BYTES)
            content_type = media.sniff_type(fetched.content)
            if content_type is None:
                raise MediaError("not_an_image", fetched.content_type or "unknown")
            item["key"] = media.save(fetched.content, content_type)
            kept[item["key"]] = fetched.content
            item["content_type"] = content_type
            item["bytes"] = len(fetched.content)
        except MediaError as error:
            log.warning("inbound %s media %d: %s", inbound_id, index, error)
            if error.kind == "download_failed":
                item["tries"] = int(item.get("tries", 0)) + 1
                if item["tries"] < DOWNLOAD_TRIES:
                    _save(inbound_id, items)
                    raise  # RQ retries the job; fetched items are kept
            item["error"] = error.kind
            failures.append((index, error))
    read = any("key" in item for item in items)
    _save(inbound_id, items, next_stage="photo" if read else None)
    for index, error in failures:
        _reply_failure(inbound_id, index, error)
    if read:
        return "fetched, " + _read_or_queue(inbound_id, kept)
    return "fetched"


def _read_or_queue(inbound_id: int, kept: dict[str, bytes]) -> str:
    """Read the kept photos now when this process has a reader (a photo worker's: one job
    less per photo, and the bytes in hand, not fetched from the store again); else, or when
    the reading fails (the reader died or timed out, the job's own timeout cut it, the
    database was away), queue the reading job, which the sweeper and RQ's retries drive as
    before. The message waits at stage "photo" until it is read."""
    from jobs import reader_process

    if reader_process.current() is None:  # no reader here (a forked horse, PHOTO_READER=fork)
        enqueue_photo_reading(inbound_id)
        return "reading queued"
    from jobs.photo import read_photos

    try:
        return read_photos(inbound_id, kept)
    except Exception as exc:
        log.warning("inbound %s: reading after the download failed, queued: %r", inbound_id, exc)
        enqueue_photo_reading(inbound_id)
        return "reading queued"


def _save(inbound_id: int, items: list[dict[str, Any]], next_stage: str | None = "media") -> None:
    """Keep the items; `next_stage` is the job the message waits for next (the sweeper
    drives it if that job fails), None when its photos are done."""
    with session_scope() as session:
        session.connection().execute(
            _SAVE, {"row_id": inbound_id, "media": items, "next_stage": next_stage}
        )


def _failure_text(error: MediaError, language: str) -> str:
    if error.kind == "too_large":
        return text(
            "photo_too_large",
            language,
            size=round((error.size or 0) / 2**20, 1),
            limit=MAX_PHOTO_BYTES // 2**20,
        )
    if error.kind == "not_an_image":
        return text("not_an_image", language, content_type=error.detail)
    return text("photo_download_failed", language)


def _reply_failure(inbound_id: int, index: int, error: MediaError) -> None:
    with session_scope() as session:
        message = session.get_one(InboundMessage, inbound_id)
        officer = session.get(Officer, message.officer_id) if message.officer_id else None
        language = officer.language if officer else DEFAULT_LANGUAGE
        reply = reply_row(message, Reply(_failure_text(error, language)), FAILURE_SEQUENCE + index)
        session.add(reply)
        session.flush()
        reply_id = reply.id
    enqueue_outbound(reply_id)
