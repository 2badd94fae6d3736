"""Job: send one queued reply through its channel, retrying what may succeed later.

Runs in the `sender` process, from its channel's queue; a provider that keeps failing to
answer is left alone for a while (jobs.circuit) instead of costing a timeout per message.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any, NamedTuple

from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from channels.base import FAILED, STOPPED, Channel, Outgoing, SendError
from channels.registry import adapter_for
from jobs import circuit, fallback, rate_limit
from jobs.fallback import NO_TEMPLATE_CODE
from jobs.queues import enqueue_outbound, redis_connection
from relay import whatsapp
from relay.audit import record
from relay.config import Settings, load_settings
from relay.db import autocommit, session_scope
from relay.direct import DirectStatement
from relay.fields import fit
from relay.models import Officer, OutboundMessage

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 3600


# The send's own reads and writes, as Core statements each committing on its own (no BEGIN
# and COMMIT around them): the ORM's session, identity map and unit of work cost more than
# the statements themselves.
_OUTBOUND = OutboundMessage.__table__
# A queued reply's attempt counted and the reply read, in one statement.
_CLAIM = DirectStatement(
    update(_OUTBOUND)
    .where(_OUTBOUND.c.id == bindparam("row_id"), _OUTBOUND.c.status == "queued")
    .values(attempts=_OUTBOUND.c.attempts + 1)
    .returning(
        _OUTBOUND.c.channel,
        _OUTBOUND.c.to_address,
        _OUTBOUND.c.text,
        _OUTBOUND.c.extras,
        _OUTBOUND.c.officer_id,
    )
)
# A claim taken back: the send was told to wait, so no attempt was made.
_UNCLAIM = (
    update(_OUTBOUND)
    .where(_OUTBOUND.c.id == bindparam("row_id"))
    .values(attempts=_OUTBOUND.c.attempts - 1)
)
_STATUS = select(_OUTBOUND.c.status).where(_OUTBOUND.c.id == bindparam("row_id"))
_SENT = DirectStatement(
    update(_OUTBOUND)
    .where(_OUTBOUND.c.id == bindparam("row_id"))
    .values(
        status="sent",
        sent_at=bindparam("sent_at"),
        provider_id=bindparam("provider_id"),
        error_kind=None,
        last_error=None,
    )
)


class Claimed(NamedTuple):
    """The columns of a claimed reply that its send reads (_CLAIM's RETURNING)."""

    channel: str
    to_address: str
    text: str
    extras: dict[str, Any] | None
    officer_id: int | None


def send_outbound(outbound_id: int) -> str | Retry:
    settings = load_settings()
    with autocommit() as connection:
        # Counted before the attempt, so a worker killed mid-send still uses up a try; in the
        # statement that reads the reply, and taken back when no attempt is made now.
        row = _CLAIM.run(connection, {"row_id": outbound_id}).row
        if row is None:
            status = connection.scalar(_STATUS, {"row_id": outbound_id})
            return "missing" if status is None else f"already {status}"
        message = Claimed(*row)
        attempting = False
        try:
            adapter = adapter_for(message.channel)
            wait, clean = _wait_before_sending(adapter, outbound_id, settings)
            if wait:  # not an attempt: nothing counted
                return Retry(max=1000, interval=wait)
            extras, missing = _whatsapp_extras(connection, outbound_id, message)
            attempting = True
        finally:  # told to wait, or failed before the provider (Redis down): not a try
            if not attempting:
                connection.execute(_UNCLAIM, {"row_id": outbound_id})
        outgoing = Outgoing(outbound_id, message.channel, message.to_address, message.text, extras)
    if missing:  # outside WhatsApp's window with no template: it could not arrive
        error = SendError(
            FAILED,
            f"WhatsApp 24-hour window closed and no approved template configured ({missing})",
            code=NO_TEMPLATE_CODE,
        )
        return _record_failure(outbound_id, error, settings)
    if not adapter.enabled(settings):
        error = SendError(FAILED, f"channel {outgoing.channel} is not configured")
        return _record_failure(outbound_id, error, settings)
    try:
        result = adapter.send(outgoing, settings)
    except SendError as error:
        _count_for_circuit(adapter.name, settings, error, clean)
        return _record_failure(outbound_id, error, settings)
    with autocommit() as connection:  # one UPDATE: the row need not be read again
        _SENT.run(
            connection,
            {
                "row_id": outbound_id,
                "sent_at": datetime.now(UTC),
                "provider_id": fit(result.provider_id, OutboundMessage.provider_id),
            },
        )
    log.info("outbound %s sent via %s as %s", outbound_id, outgoing.channel, result.provider_id)
    _count_for_circuit(adapter.name, settings, None, clean)
    return "sent"


def _wait_before_sending(
    adapter: Channel, outbound_id: int, settings: Settings
) -> tuple[int | None, bool]:
    """Seconds to wait before calling the provider (its account's rate, its circuit), or
    None; and whether its circuit was clean (jobs.circuit.Gate)."""
    if adapter.sends_per_second:  # the provider's budget for the whole account
        wait = rate_limit.send_wait(redis_connection(), adapter.name, adapter.sends_per_second)
        if wait:
            return wait, False
    gate = circuit.check(redis_connection(), adapter.name, settings)
    if gate.wait:  # the provider is failing: not called
        log.info("outbound %s: %s circuit open, again in %ss", outbound_id, adapter.name, gate.wait)
    return gate.wait, gate.clean


def _whatsapp_extras(
    connection: Connection, outbound_id: int, message: Claimed
) -> tuple[dict[str, Any] | None, str | None]:
    """A WhatsApp help-desk message outside the 24-hour window goes as its approved
    template (kept on the row, for the console); (extras, missing template variable)."""
    if message.channel != "whatsapp" or not whatsapp.may_need_template(message.extras):
        return message.extras, None  # free text: no officer, no window to read
    with Session(bind=connection) as session:
        officer = session.get(Officer, message.officer_id) if message.officer_id else None
        planned = whatsapp.plan(
            session, message.to_address, message.extras, officer.language if officer else None
        )
    if planned.extras and planned.extras.get("content_sid"):
        connection.execute(
            update(_OUTBOUND).where(_OUTBOUND.c.id == outbound_id).values(extras=planned.extras)
        )
    return planned.extras, planned.missing


def _count_for_circuit(
    provider: str, settings: Settings, error: SendError | None, clean: bool
) -> None:
    """Tell the circuit breaker; a Redis hiccup here must not fail (and repeat) a send."""
    try:
        circuit.record(redis_connection(), provider, settings, error, clean)
    except RedisError as exc:
        log.warning("circuit breaker for %s not updated: %s", provider, exc)


def retry_delay(error: SendError, attempts: int, intervals: tuple[int, ...]) -> int | None:
    """Seconds to wait before the next try, or None when the message should fail now."""
    if not error.retryable or attempts > len(intervals):
        return None
    if error.retry_after is not None:  # the provider said when: believe it
        return max(1, math.ceil(min(error.retry_after, MAX_RETRY_AFTER)))
    return intervals[attempts - 1]


def _record_failure(outbound_id: int, error: SendError, settings: Settings) -> str | Retry:
    fallback_id = None
    with session_scope() as session:
        message = session.get_one(OutboundMessage, outbound_id)
        message.error_kind, message.last_error = error.kind, error.detail
        delay = retry_delay(error, message.attempts, settings.send_retry_intervals)
        if delay is not None:
            log.warning(
                "outbound %s attempt %d failed (%s), retry in %ss",
                outbound_id,
                message.attempts,
                error,
                delay,
            )
            return Retry(max=len(settings.send_retry_intervals) + 1, interval=delay)
        message.status = "failed"
        log.error(
            "outbound %s failed for good after %d attempts: %s",
            outbound_id,
            message.attempts,
            error,
        )
        if error.kind == STOPPED and message.officer_id is not None:
            officer = session.get_one(Officer, message.officer_id)
            officer.reachable = False
            record(
                session,
                "system",
                "officer_unreachable",
                "officer",
                officer.id,
                {"channel": message.channel, "error": error.detail},
            )
        copy = fallback.fall_back(
            session, message, fallback.reason_for(message.channel, error), settings
        )
        fallback_id = copy.id if copy is not None else None
    if fallback_id is not None:
        enqueue_outbound(fallback_id)
        return "failed, sent by SMS"
    return "failed"
