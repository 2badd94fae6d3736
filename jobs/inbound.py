"""Job: run the conversation for one stored inbound message and queue its replies."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from rq import Retry
from sqlalchemy import bindparam, exists, func, insert, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from bots.conversation import has_image, respond
from bots.helpdesk import HELD
from bots.identity import find_officer, found_by_stored_phone
from bots.messages import DEFAULT_LANGUAGE, text
from bots.reply import Reply
from jobs import rate_limit
from jobs.queues import (
    enqueue_media,
    enqueue_outbound,
    enqueue_outbound_unknown,
    redis_connection,
)
from jobs.replies import reply_values
from relay import catalogue
from relay.config import Settings, load_settings
from relay.db import session_scope
from relay.direct import DirectStatement
from relay.models import INBOUND_PENDING, InboundMessage, Officer, OutboundMessage, Tps

log = logging.getLogger(__name__)

# Waiting to be processed: just stored, or an officer's message held back by the rate limit
# until its window ends (the job is scheduled again; the sweeper re-drives a lost schedule).
RECEIVED, DEFERRED = INBOUND_PENDING
# An officer's messages may wait out many windows (a long burst); each wait is one retry.
MAX_DEFERRALS = 10_000
_INBOUND = InboundMessage.__table__
_OUTBOUND = OutboundMessage.__table__
_INSERT_REPLY = DirectStatement(insert(_OUTBOUND).returning(_OUTBOUND.c.id))
_INSERT_REPLIES = insert(_OUTBOUND).returning(_OUTBOUND.c.id, sort_by_parameter_order=True)
_EARLIER = aliased(InboundMessage)
# The message, with what the turn reads next in the same statement (each statement costs
# ~0.15 ms of client CPU on PostgreSQL): whether an earlier message of the same sender waits
# (the rate limit's order), the catalogue's stamp (relay.catalogue), the officer whose
# phone is the sender (bots.identity.found_by_stored_phone), and that officer's TPS (in the
# session for what the turn reads of it; a tally still reads it again, locked: bots.tallies).
# Built once.
_MESSAGE = (
    select(
        InboundMessage,
        exists()
        .where(
            _EARLIER.channel == InboundMessage.channel,
            _EARLIER.sender == InboundMessage.sender,
            _EARLIER.status == DEFERRED,
            _EARLIER.id < InboundMessage.id,
        )
        .label("earlier_waits"),
        catalogue.TOKEN.label("catalogue_token"),
        Officer,
        Tps,
    )
    .outerjoin(Officer, Officer.phone == InboundMessage.sender)
    .outerjoin(Tps, Tps.code == Officer.tps_code)
    .where(InboundMessage.id == bindparam("row_id"))
)


@dataclass
class Outcome:
    status: str
    replies: list[Reply] = field(default_factory=list)
    wait: int = 0  # seconds, when deferred


def process_inbound(inbound_id: int) -> str | Retry:
    """Idempotent: a message already processed is left alone, so a rerun sends nothing twice.
    A deferred message returns a Retry: RQ runs the job again when the sender's window ends."""
    settings = load_settings()
    with session_scope() as session:
        row = session.execute(_MESSAGE, {"row_id": inbound_id}).first()
        if row is None:
            log.warning("inbound %s does not exist", inbound_id)
            return "missing"
        message, earlier_waits, token, officer, _tps = row
        if message.status not in INBOUND_PENDING:
            return f"already {message.status}"
        catalogue.token_read(session, token)
        if not found_by_stored_phone(message.channel, message.sender):
            officer = find_officer(session, message.channel, message.sender)
        # Written with the outcome, in the statement that claims the message (_settle).
        set_committed_value(message, "officer_id", officer.id if officer else None)
        first = _next_sequence(session, message)
        outcome = _decide(session, settings, redis_connection(), message, officer, earlier_waits)
        outsider = message.officer_id is None
        fetch_media = not outsider and any(has_image(item) for item in message.media)
        follow_up = fetch_media and outcome.status == "processed"  # else the sweeper drives it
        outbound_ids = _settle(session, message, outcome, first, follow_up)
        if outbound_ids is None:  # another run of this job settled it first: keep nothing
            session.rollback()
            log.info("inbound %s: processed by another run at the same time", message.id)
            return "already processed"
        log.info(
            "inbound %s from %s/%s: %s, %d replies",
            message.id,
            message.channel,
            message.sender,
            outcome.status,
            len(outbound_ids),
        )
    for outbound_id in outbound_ids:
        if outsider:
            enqueue_outbound_unknown(outbound_id)
        else:
            enqueue_outbound(outbound_id, message.channel)
    if outcome.status == DEFERRED:
        return Retry(max=MAX_DEFERRALS, interval=outcome.wait)
    if follow_up:
        enqueue_media(inbound_id)
    return outcome.status


def _settle(
    session: Session, message: InboundMessage, outcome: Outcome, first: int, follow_up: bool
) -> list[int] | None:
    """The turn's fixed writes, as two Core statements in the session's transaction (one on
    PostgreSQL for the usual single reply: _claim_and_reply): the message's officer, status
    and follow-up, and the replies' rows (their ids back). The ORM's unit of work cost more
    than the statements (a flush each, ~0.3 ms).

    The message is claimed first, on condition it is still unprocessed: None when another
    run of the same job (a job handed back while its worker was frozen, not dead) settled
    it meanwhile. The caller then rolls back: a turn whose writes no unique constraint
    catches (an outsider's help request whose answer the budget refuses) is not stored twice."""
    changes: dict[str, Any] = {"officer_id": message.officer_id, "status": outcome.status}
    if outcome.status != DEFERRED:
        changes["processed_at"] = datetime.now(UTC)
    if follow_up:
        changes.update(follow_up="media", job_failures=0, retry_at=None)
    connection = session.connection()
    if len(outcome.replies) == 1 and connection.dialect.name == "postgresql":
        row = reply_values(message, outcome.replies[0], first)
        reply_id = _claim_and_reply(tuple(changes), tuple(row)).run(
            connection, _claim_and_reply_params(message.id, changes, row)
        )
        if reply_id.row is None:  # not claimed: nothing inserted either
            return None
        for name, value in changes.items():
            set_committed_value(message, name, value)
        return [reply_id.row[0]]
    claimed = _message_update(tuple(changes)).run(connection, {"row_id": message.id, **changes})
    if claimed.rowcount != 1:
        return None
    ids: list[int] = []
    if len(outcome.replies) == 1:
        row = reply_values(message, outcome.replies[0], first)
        ids = [_INSERT_REPLY.run(connection, row).scalar_one()]
    elif outcome.replies:
        rows = [reply_values(message, r, first + i) for i, r in enumerate(outcome.replies)]
        ids = list(connection.scalars(_INSERT_REPLIES, rows))
    for name, value in changes.items():  # the object says what the row says
        set_committed_value(message, name, value)
    return ids


# The reply columns a Core INSERT fills from their Python-side defaults (created_at, status…):
# an INSERT … SELECT takes them as parameters of its own (_claim_and_reply).
_REPLY_DEFAULTS = tuple(
    (column.key, column.default)
    for column in _OUTBOUND.columns
    if column.default is not None and (column.default.is_scalar or column.default.is_callable)
)


@functools.cache
def _claim_and_reply(columns: tuple[str, ...], reply: tuple[str, ...]) -> DirectStatement:
    """PostgreSQL: _message_update's claim and the one reply's INSERT in one statement, one
    round trip (~0.15 ms of client CPU) fewer. The INSERT selects from the claim's RETURNING,
    so when the claim finds the message settled already, nothing is inserted and no id comes
    back: the same outcome as the two statements. (SQLite has no UPDATE in a WITH.)"""
    claimed = (
        update(_INBOUND)
        .where(_INBOUND.c.id == bindparam("row_id"), _INBOUND.c.processed_at.is_(None))
        .values({name: bindparam(f"claim_{name}") for name in columns})
        .returning(_INBOUND.c.id)
        .cte("claimed")
    )
    names = (*reply, *(name for name, _ in _REPLY_DEFAULTS if name not in reply))
    values = select(
        *(bindparam(f"reply_{name}", type_=_OUTBOUND.c[name].type) for name in names)
    ).select_from(claimed)
    return DirectStatement(
        insert(_OUTBOUND)
        .from_select(names, values, include_defaults=False)
        .returning(_OUTBOUND.c.id)
        .add_cte(claimed)
    )


def _claim_and_reply_params(
    message_id: int, changes: dict[str, Any], reply: dict[str, Any]
) -> dict[str, Any]:
    params: dict[str, Any] = {"row_id": message_id}
    params.update((f"claim_{name}", value) for name, value in changes.items())
    params.update((f"reply_{name}", value) for name, value in reply.items())
    for name, default in _REPLY_DEFAULTS:
        if name not in reply:
            params[f"reply_{name}"] = default.arg(None) if default.is_callable else default.arg
    return params


@functools.cache
def _message_update(columns: tuple[str, ...]) -> DirectStatement:
    """UPDATE inbound_messages SET <columns> WHERE id = :row_id AND processed_at IS NULL,
    built once per shape."""
    return DirectStatement(
        update(_INBOUND)
        .where(_INBOUND.c.id == bindparam("row_id"), _INBOUND.c.processed_at.is_(None))
        .values({name: bindparam(name) for name in columns})
    )


def _next_sequence(session: Session, message: InboundMessage) -> int:
    """0, unless a deferral already queued a notice for this message."""
    if message.status == RECEIVED:
        return 0
    last = session.scalar(
        select(func.max(OutboundMessage.sequence)).where(OutboundMessage.inbound_id == message.id)
    )
    return 0 if last is None else last + 1


def _decide(
    session: Session,
    settings: Settings,
    redis: Redis,
    message: InboundMessage,
    officer: Officer | None,
    earlier_waits: bool,
) -> Outcome:
    if officer is not None:
        deferral = _deferral(settings, redis, message, officer, earlier_waits)
        if deferral is not None:
            return deferral
    else:
        over = rate_limit.over_limit(
            redis,
            message.channel,
            message.sender,
            settings.sender_rate_limit,
            settings.sender_rate_window,
        )
        if over is not None:  # no tally can come from a sender on no roster: stored only
            log.warning(
                "rate limit: unknown %s/%s is %d over", message.channel, message.sender, over
            )
            return Outcome("rate_limited")
    replies = respond(session, message, officer)
    status = HELD if message.status == HELD else "processed"
    if message.officer_id is None and replies:  # still no officer (no contact bound now)
        refused = _unknown_sender_refused(redis, settings, message, replies)
        if refused is not None:  # the global budget spent means a flood: worth a warning
            log.log(
                logging.WARNING if refused == "global" else logging.INFO,
                "unknown sender %s/%s not answered (%s budget): %d repl%s dropped",
                message.channel,
                message.sender,
                refused,
                len(replies),
                "y" if len(replies) == 1 else "ies",
            )
            return Outcome(status)
    return Outcome(status, replies)


def _unknown_sender_refused(
    redis: Redis, settings: Settings, message: InboundMessage, replies: list[Reply]
) -> str | None:
    """Why the answer to a sender on no roster must not go out, or None (see rate_limit).
    The "not on the roster" notice itself is not repeated within UNKNOWN_REPLY_EVERY."""
    channel, sender = message.channel, message.sender
    if replies == [Reply(text("unknown_sender", DEFAULT_LANGUAGE))] and not (
        rate_limit.first_notice(redis, "unknown", channel, sender, settings.unknown_reply_every)
    ):
        return "repeated notice"
    return rate_limit.unknown_reply_refused(
        redis,
        channel,
        sender,
        (settings.unknown_sender_replies, settings.unknown_reply_every),
        (settings.unknown_reply_limit, settings.unknown_reply_window),
    )


def _deferral(
    settings: Settings,
    redis: Redis,
    officer_message: InboundMessage,
    officer: Officer,
    earlier_waits: bool,
) -> Outcome | None:
    """None when the officer's message may be processed now; else an Outcome deferring it.

    A sender's messages are processed in the order they arrived: while an earlier one
    waits, so does this one (without using up the window). Over the limit, the message
    waits for the window's end; the officer is told once per window."""
    channel, sender = officer_message.channel, officer_message.sender
    limit, window = settings.sender_rate_limit, settings.sender_rate_window
    if earlier_waits:
        full = rate_limit.window_full(redis, channel, sender, limit)
        wait = rate_limit.seconds_left_in_window(redis, channel, sender) if full else 1
        return Outcome(DEFERRED, _notice(redis, settings, officer_message, officer, wait), wait)
    over = rate_limit.over_limit(redis, channel, sender, limit, window)
    if over is None:
        return None
    wait = rate_limit.seconds_left_in_window(redis, channel, sender)
    log.warning(
        "rate limit: %s/%s is %d over, inbound %s deferred %ss",
        channel,
        sender,
        over,
        officer_message.id,
        wait,
    )
    return Outcome(DEFERRED, _notice(redis, settings, officer_message, officer, wait), wait)


def _notice(
    redis: Redis, settings: Settings, message: InboundMessage, officer: Officer, wait: int
) -> list[Reply]:
    """The "handled in N seconds" notice: once per window, on a message's first deferral."""
    if message.status != RECEIVED or not rate_limit.first_notice(
        redis, "deferred", message.channel, message.sender, settings.sender_rate_window
    ):
        return []
    language = officer.language or DEFAULT_LANGUAGE
    return [Reply(text("rate_deferred", language, seconds=wait))]
