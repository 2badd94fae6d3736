"""Make sure every stored message that still waits gets its job: enqueue what was stored
but never enqueued (Redis was down, a worker died between commit and enqueue), drive again
with a backoff what failed (the database was down for longer than RQ's own retries), mark
failed what keeps failing so that the console shows it, and hand back jobs whose worker
died in the middle of them. Safe to run any time: jobs have fixed ids and are idempotent."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from redis import Redis
from redis.exceptions import RedisError
from rq.job import Job
from rq.queue import Queue
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import or_, select

from jobs.queues import (
    QUEUE_NAMES,
    RedisNotConfigured,
    enqueue_inbound,
    enqueue_media,
    enqueue_outbound,
    enqueue_photo_reading,
    redis_connection,
)
from jobs.redrive import backoff, cause, discard, job_states
from relay.config import Settings, load_settings
from relay.db import session_scope
from relay.models import INBOUND_PENDING, InboundMessage, OutboundMessage

log = logging.getLogger(__name__)

BATCH = 1000
# While its worker lives, a started job's deadline in RQ's StartedJobRegistry stays at least
# 60 s ahead: RQ adds 60 s to every heartbeat (each job-monitoring interval, 30 s by default),
# and jobs.worker caps in-process jobs at 30 s of their 90 s deadline (a photo job moves its
# deadline to 90 s ahead every 10 s while the worker's reader reads). A deadline nearer than
# this means the heartbeats stopped: the worker was killed (kill -9, OOM, the machine died).
# 10 s of margin for the clocks of different machines.
ABANDONED_HORIZON = 50.0


@dataclass
class Counts:
    """What one sweep did with the rows that still wait for one kind of job."""

    enqueued: int = 0  # no job in Redis (never taken, or lost with Redis): queued now
    already_queued: int = 0  # its job waits, is scheduled or runs: left alone
    failed: int = 0  # its job had failed: error recorded, driven again after a backoff
    redriven: int = 0  # its backoff over: queued again
    gave_up: int = 0  # its job failed REDRIVE_LIMIT times: marked failed, needs attention

    def __str__(self) -> str:
        done = [f"{v} {k.replace('_', ' ')}" for k, v in dataclasses.asdict(self).items() if v]
        return ", ".join(done) or "nothing"

    @property
    def acted(self) -> bool:
        return bool(self.enqueued or self.failed or self.redriven or self.gave_up)


@dataclass
class SweepResult:
    inbound: Counts = field(default_factory=Counts)  # conversations
    media: Counts = field(default_factory=Counts)  # photo downloads
    photo: Counts = field(default_factory=Counts)  # photo readings
    outbound: Counts = field(default_factory=Counts)  # sends
    reclaimed: int = 0
    unreachable: bool = False

    def counts(self) -> dict[str, Counts]:
        return {name: getattr(self, name) for name in STAGES}

    def __str__(self) -> str:
        text = "; ".join(f"{name}: {counts}" for name, counts in self.counts().items())
        if self.reclaimed:
            text += f"; {self.reclaimed} abandoned jobs reclaimed"
        return text + ("; redis unreachable" if self.unreachable else "")


@dataclass(frozen=True)
class _Stage:
    """Rows of one table that wait for one kind of job, and how to (re)queue one."""

    model: type[InboundMessage] | type[OutboundMessage]
    column: str  # the column saying what the row waits for
    waiting: tuple[str, ...]  # its values while the job has not done its work
    gave_up: str  # its value once the job failed REDRIVE_LIMIT times
    stored_at: str  # the column saying since when the row waits
    job_prefix: str
    enqueue: Callable[[int], bool]


STAGES = {
    "inbound": _Stage(
        InboundMessage,
        "status",
        INBOUND_PENDING,  # received, or deferred by the rate limit (a lost schedule)
        "failed",
        "received_at",
        "inbound",
        enqueue_inbound,
    ),
    # Photos of a processed message: downloaded from the provider, then read.
    "media": _Stage(
        InboundMessage,
        "follow_up",
        ("media",),
        "media_failed",
        "processed_at",
        "media",
        enqueue_media,
    ),
    "photo": _Stage(
        InboundMessage,
        "follow_up",
        ("photo",),
        "photo_failed",
        "processed_at",
        "photo",
        enqueue_photo_reading,
    ),
    "outbound": _Stage(
        OutboundMessage, "status", ("queued",), "failed", "created_at", "outbound", enqueue_outbound
    ),
}


class _RedisUnreachable(Exception):
    pass


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


def sweep(min_age_seconds: float = 10.0, now: datetime | None = None) -> SweepResult:
    """Look at every row that still waits for its job (in batches, by id) and make sure it
    gets one: queued when Redis has none, left alone while one waits or runs, and driven
    again after a backoff when its job failed, until REDRIVE_LIMIT failed jobs mark it
    failed ("needs attention" in the console). The database is the record, Redis the to-do
    list this rebuilds. `now` is for tests that must not wait for a backoff."""
    result = SweepResult()
    now = now or datetime.now(UTC)
    settings = load_settings()
    try:
        result.reclaimed = reclaim_abandoned()
        connection = redis_connection()
        for name, counts in result.counts().items():
            _sweep_stage(STAGES[name], connection, settings, now, min_age_seconds, counts)
    except (RedisError, RedisNotConfigured, OSError, _RedisUnreachable):
        result.unreachable = True
    return result


def _sweep_stage(
    stage: _Stage,
    connection: Redis,
    settings: Settings,
    now: datetime,
    min_age_seconds: float,
    counts: Counts,
) -> None:
    model = stage.model
    stored_at = getattr(model, stage.stored_at)
    cutoff = now - timedelta(seconds=min_age_seconds)
    after = 0
    while True:  # keyset pagination: every waiting row, BATCH at a time
        with session_scope() as session:
            rows = session.execute(
                select(model.id, model.job_failures)
                .where(
                    getattr(model, stage.column).in_(stage.waiting),
                    stored_at <= cutoff,
                    or_(model.retry_at.is_(None), model.retry_at <= now),
                    model.id > after,
                )
                .order_by(model.id)
                .limit(BATCH)
            ).all()
        if not rows:
            return
        after = rows[-1].id
        job_ids = [f"{stage.job_prefix}-{row.id}" for row in rows]
        states = job_states(connection, job_ids)
        failed = {
            row.id: _Failure(row.job_failures, state.error or "")
            for row, state in zip(rows, states, strict=True)
            if state.failed
        }
        if failed:  # into the database first: the job (and its error) is deleted next
            _record_failures(stage, failed, settings, now, counts)
        for row, job_id, state in zip(rows, job_ids, states, strict=True):
            if state.alive:
                counts.already_queued += 1
                continue
            if state.exists:
                discard(connection, job_id)
            if state.failed:
                continue  # driven again once its backoff is over
            if not stage.enqueue(row.id):
                raise _RedisUnreachable
            if row.job_failures:
                counts.redriven += 1
            else:
                counts.enqueued += 1
        if len(rows) < BATCH:
            return


@dataclass(frozen=True)
class _Failure:
    seen: int  # the row's job_failures when the sweep read it
    error: str


def _record_failures(
    stage: _Stage, failures: dict[int, _Failure], settings: Settings, now: datetime, counts: Counts
) -> None:
    """Count a failed job on each row and keep its error; wait before the next drive, or
    give up after REDRIVE_LIMIT failed jobs. A row counted meanwhile (a second sweeper saw
    the same failed job) is left alone: its lock, then its count, tell."""
    model = stage.model
    with session_scope() as session:
        for row in session.scalars(
            select(model)
            .where(model.id.in_(failures), getattr(model, stage.column).in_(stage.waiting))
            .with_for_update()
        ):
            if row.job_failures != failures[row.id].seen:
                continue
            error = failures[row.id].error
            row.job_failures += 1
            if isinstance(row, InboundMessage):
                row.error = error
            else:
                row.last_error = error
            if row.job_failures >= settings.redrive_limit:
                setattr(row, stage.column, stage.gave_up)
                row.retry_at = None
                if isinstance(row, OutboundMessage):
                    row.error_kind = "crashed"
                counts.gave_up += 1
                log.error(
                    "%s %s: job failed %d times, needs attention: %s",
                    stage.job_prefix,
                    row.id,
                    row.job_failures,
                    cause(error),
                )
                continue
            row.retry_at = now + backoff(settings.redrive_intervals, row.job_failures)
            counts.failed += 1
            log.warning(
                "%s %s: job failed (%d of %d), driven again at %s: %s",
                stage.job_prefix,
                row.id,
                row.job_failures,
                settings.redrive_limit,
                row.retry_at.isoformat(timespec="seconds"),
                cause(error),
            )


def run_forever(every_seconds: float, min_age_seconds: float) -> None:
    log.info("sweeper: every %ss, rows older than %ss", every_seconds, min_age_seconds)
    while True:
        try:
            result = sweep(min_age_seconds)
            if any(c.acted for c in result.counts().values()) or result.reclaimed:
                log.info("sweeper: %s", result)
            elif result.unreachable:
                log.warning("sweeper: %s", result)
        except Exception:  # the database may be down; try again next round
            log.exception("sweep failed")
        time.sleep(every_seconds)
