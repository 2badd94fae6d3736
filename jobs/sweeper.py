"""Enqueue what was stored but never enqueued (Redis was down, a worker died between
commit and enqueue), and hand back jobs whose worker died in the middle of them.
Safe to run any time: jobs have fixed ids and are idempotent."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError
from rq.job import Job
from rq.queue import Queue
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import select

from jobs.queues import (
    QUEUE_NAMES,
    RedisNotConfigured,
    enqueue_inbound,
    enqueue_outbound,
    redis_connection,
)
from relay.db import session_scope
from relay.models import INBOUND_PENDING, InboundMessage, OutboundMessage

log = logging.getLogger(__name__)

BATCH = 1000
# While its worker lives, a started job's deadline in RQ's StartedJobRegistry stays at least
# 60 s ahead: RQ adds 60 s to every heartbeat (each job-monitoring interval, 30 s by default),
# and jobs.worker caps in-process jobs at 30 s of their 90 s deadline. A deadline nearer than
# this means the heartbeats stopped: the worker was killed (kill -9, OOM, the machine died).
# 10 s of margin for the clocks of different machines.
ABANDONED_HORIZON = 50.0


@dataclass
class SweepResult:
    inbound: int = 0
    outbound: int = 0
    reclaimed: int = 0
    unreachable: bool = False


def reclaim_abandoned(horizon: float = ABANDONED_HORIZON) -> int:
    """Put the jobs of dead workers back on their queues now; returns how many.

    RQ itself does this only once a deadline has passed, in some worker's maintenance round
    (every 10 minutes): up to ~11 minutes without a reply. This runs the same RQ cleanup
    with a deadline `horizon` seconds ahead, at every sweep: ~40 s after the last heartbeat.
    The cleanup counts it as a crash retry (jobs.queues.CRASH_RETRY: a job that kills its
    worker every time ends in the failed registry) and schedules it; it is queued at once
    instead, since the dead worker may have held the scheduler's lock for another minute.
    """
    connection = redis_connection()
    limit = time.time() + horizon
    reclaimed = 0
    for name in QUEUE_NAMES:
        registry = StartedJobRegistry(name, connection=connection)
        abandoned = registry.get_expired_job_ids(limit)
        if not abandoned:
            continue
        log.warning("reclaiming abandoned jobs from %s: %s", name, abandoned)
        registry.cleanup(limit)
        scheduled = ScheduledJobRegistry(name, connection=connection)
        queue = Queue(name, connection=connection)
        for job in Job.fetch_many(abandoned, connection=connection):
            if job is not None and scheduled.remove(job):  # retried, not failed for good
                queue.enqueue_job(job)
        reclaimed += len(abandoned)
    return reclaimed


def sweep(min_age_seconds: float = 10.0) -> SweepResult:
    result = SweepResult()
    try:
        result.reclaimed = reclaim_abandoned()
    except (RedisError, RedisNotConfigured, OSError):
        result.unreachable = True
        return result
    cutoff = datetime.now(UTC) - timedelta(seconds=min_age_seconds)
    with session_scope() as session:
        inbound_ids = list(
            session.scalars(
                select(InboundMessage.id)
                .where(
                    InboundMessage.status.in_(INBOUND_PENDING),
                    InboundMessage.received_at <= cutoff,
                )
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
            if result.inbound or result.outbound or result.reclaimed or result.unreachable:
                log.info("sweeper: %s", result)
        except Exception:  # the database may be down; try again next round
            log.exception("sweep failed")
        time.sleep(every_seconds)
