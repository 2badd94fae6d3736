"""Enqueue what was stored but never enqueued (Redis was down, a worker died between
commit and enqueue). Safe to run any time: jobs have fixed ids and are idempotent."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from jobs.queues import enqueue_inbound, enqueue_outbound
from relay.db import session_scope
from relay.models import InboundMessage, OutboundMessage

log = logging.getLogger(__name__)

BATCH = 1000


@dataclass
class SweepResult:
    inbound: int = 0
    outbound: int = 0
    unreachable: bool = False


def sweep(min_age_seconds: float = 10.0) -> SweepResult:
    cutoff = datetime.now(UTC) - timedelta(seconds=min_age_seconds)
    with session_scope() as session:
        inbound_ids = list(
            session.scalars(
                select(InboundMessage.id)
                .where(InboundMessage.status == "received", InboundMessage.received_at <= cutoff)
                .order_by(InboundMessage.id)
                .limit(BATCH)
            )
        )
        outbound_ids = list(
            session.scalars(
                select(OutboundMessage.id)
                .where(OutboundMessage.status == "queued", OutboundMessage.created_at <= cutoff)
                .order_by(OutboundMessage.id)
                .limit(BATCH)
            )
        )
    result = SweepResult()
    for inbound_id in inbound_ids:
        if not enqueue_inbound(inbound_id):
            result.unreachable = True
            return result
        result.inbound += 1
    for outbound_id in outbound_ids:
        if not enqueue_outbound(outbound_id):
            result.unreachable = True
            return result
        result.outbound += 1
    return result


def run_forever(every_seconds: float, min_age_seconds: float) -> None:
    log.info("sweeper: every %ss, rows older than %ss", every_seconds, min_age_seconds)
    while True:
        try:
            result = sweep(min_age_seconds)
            if result.inbound or result.outbound or result.unreachable:
                log.info("sweeper: %s", result)
        except Exception:  # the database may be down; try again next round
            log.exception("sweep failed")
        time.sleep(every_seconds)
