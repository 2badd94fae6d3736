"""Job: run the conversation for one stored inbound message and queue its replies."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from bots.conversation import has_image, respond
from bots.identity import find_officer
from bots.messages import DEFAULT_LANGUAGE, text
from bots.reply import Reply
from jobs import rate_limit
from jobs.queues import enqueue_media, enqueue_outbound, redis_connection
from jobs.replies import reply_row
from relay.config import Settings, load_settings
from relay.db import session_scope
from relay.models import InboundMessage, Officer

log = logging.getLogger(__name__)


def process_inbound(inbound_id: int) -> str:
    """Idempotent: a message already processed is left alone, so a rerun sends nothing twice."""
    settings = load_settings()
    with session_scope() as session:
        message = session.get(InboundMessage, inbound_id)
        if message is None:
            log.warning("inbound %s does not exist", inbound_id)
            return "missing"
        if message.status != "received":
            return f"already {message.status}"
        officer = find_officer(session, message.channel, message.sender)
        message.officer_id = officer.id if officer else None
        replies, status = _decide(session, settings, message, officer)
        outbound = [reply_row(message, reply, i) for i, reply in enumerate(replies)]
        session.add_all(outbound)
        message.status, message.processed_at = status, datetime.now(UTC)
        session.flush()
        outbound_ids = [(o.id, o.channel) for o in outbound]
        fetch_media = message.officer_id is not None and any(
            has_image(item) for item in message.media
        )
        log.info(
            "inbound %s from %s/%s: %s, %d replies",
            message.id,
            message.channel,
            message.sender,
            status,
            len(outbound_ids),
        )
    for outbound_id, channel in outbound_ids:
        enqueue_outbound(outbound_id, channel)
    if fetch_media and status == "processed":
        enqueue_media(inbound_id)
    return status


def _decide(
    session: Session, settings: Settings, message: InboundMessage, officer: Officer | None
) -> tuple[list[Reply], str]:
    redis = redis_connection()
    language = officer.language if officer else DEFAULT_LANGUAGE
    over = rate_limit.over_limit(
        redis,
        message.channel,
        message.sender,
        settings.sender_rate_limit,
        settings.sender_rate_window,
    )
    if over is not None:
        log.warning("rate limit: %s/%s is %d over", message.channel, message.sender, over)
        if over == 1:
            seconds = rate_limit.seconds_left_in_window(redis, message.channel, message.sender)
            return [Reply(text("rate_limited", language, seconds=seconds))], "rate_limited"
        return [], "rate_limited"
    replies = respond(session, message, officer)
    unknown_notice = [Reply(text("unknown_sender", language))]
    if (
        officer is None
        and replies == unknown_notice
        and not rate_limit.first_notice(
            redis, "unknown", message.channel, message.sender, rate_limit.UNKNOWN_SENDER_REPLY_EVERY
        )
    ):
        log.info("unknown sender %s/%s was told already", message.channel, message.sender)
        return [], "processed"
    return replies, "processed"
