"""Redis connection and the RQ queues, named for what they hold.

Jobs take ids, never objects, and get deterministic job ids with `unique=True`, so the
webhook, the sweeper and a redelivery can all enqueue the same work without doubling it.

Inbound work has its queue, photo work (media download, form reading) another, and each
channel's replies have theirs (`outbound-twilio`, …): the `worker` process takes `inbound`
and `photo` (in production, text and photo workers run apart: deploy/), the `sender`
process only the outbound queues, so a conversation never waits behind a send, nor one
provider's sends behind another's (see jobs.circuit for a provider that hangs).
"""

from __future__ import annotations

import logging
import os
import time

from flask import has_request_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError

from jobs import request_redis
from jobs.redis_client import client_from_url
from jobs.unique_enqueue import enqueue_unique
from relay.config import load_settings

log = logging.getLogger(__name__)

INBOUND = "inbound"
# Photo work (fetching the media, reading the form): its own queue, so text workers never wait
# behind a form being read and photo readers can be sized (and isolated) apart.
PHOTO = "photo"
OUTBOUND = "outbound"  # before per-channel queues; the sender still drains it after an upgrade
# Every stored channel name (channels.registry.ADAPTERS) has its own outbound queue.
OUTBOUND_CHANNELS = ("simulator", "sms-gateway", "telegram", "twilio", "whatsapp")
OUTBOUND_QUEUES = tuple(f"{OUTBOUND}-{channel}" for channel in OUTBOUND_CHANNELS)
# Messages from senders on no roster, and the replies to them: a worker (or sender) takes
# them only when no officer's message or reply waits, so a flood of outsiders delays no officer.
INBOUND_UNKNOWN = "inbound-unknown"
OUTBOUND_UNKNOWN = "outbound-unknown"
QUEUE_NAMES = (INBOUND, PHOTO, *OUTBOUND_QUEUES, OUTBOUND, OUTBOUND_UNKNOWN, INBOUND_UNKNOWN)

# Unexpected crashes (a bug, a killed work horse) are retried by RQ itself; provider
# errors are retried by the send job with its own backoff.
CRASH_RETRY = Retry(max=3, interval=[5, 30, 120])
# How long RQ keeps a failed job (its hash, its results). The database is the record: the
# sweeper copies the error to the message's row and drives it again (jobs.sweeper), so
# Redis needs to keep the job only until the sweeper has looked, not for a week.
FAILURE_TTL = 6 * 3600

_connections: dict[tuple[str, int], Redis] = {}
# RQ adds a queue's name to its set of queues (`rq:queues`, read by `rq info`) before every
# enqueue, in a round trip of its own (MULTI, SADD, EXEC); here once a minute per process
# and queue, which also re-registers it after Redis lost its data.
REGISTER_EVERY = 60.0
_registered: dict[tuple[int, str], float] = {}  # (connection, queue name) → next registration


class RelayQueue(Queue):
    """An RQ queue whose unique enqueue is one round trip (RQ's Lua script) most times."""

    def enqueue_job(self, job, pipeline=None, at_front=False, unique=False):  # type: ignore[no-untyped-def]
        if not unique or pipeline is not None or job._dependency_ids:
            return super().enqueue_job(job, pipeline=pipeline, at_front=at_front, unique=unique)
        job.origin = self.name
        register(self.connection, self.name)
        return self._enqueue_job(job, at_front=at_front, unique=True)


def register(connection: Redis, queue_name: str) -> None:
    """Add the queue to RQ's set of queues (`rq:queues`, read by `rq info` and the workers'
    bookkeeping) at most once a minute per process, as RQ's enqueue would before every job."""
    marker = (id(connection), queue_name)
    if _registered.get(marker, 0.0) < time.monotonic():
        connection.sadd(Queue.redis_queues_keys, Queue.redis_queue_namespace_prefix + queue_name)
        _registered[marker] = time.monotonic() + REGISTER_EVERY


class RedisNotConfigured(RuntimeError):
    pass


def _for_a_request() -> bool:
    """Serving an HTTP request: through Flask, or webhooks.hot's fast path without it."""
    return request_redis.serving() or has_request_context()


def redis_connection(url: str | None = None) -> Redis:
    """This process's client; while serving an HTTP request, the bounded one of
    jobs.request_redis (0.25 s, no retries, skipped for a few seconds after a failure)."""
    url = url or load_settings().redis_url
    if not url:
        raise RedisNotConfigured("REDIS_URL is not set")
    if _for_a_request():
        return request_redis.connection(url)
    key = (url, os.getpid())
    if key not in _connections:
        _connections[key] = client_from_url(url, socket_timeout=5, socket_connect_timeout=2)
    return _connections[key]


def queue(name: str, connection: Redis | None = None) -> Queue:
    return RelayQueue(name, connection=connection or redis_connection())


def enqueue_once(
    queue_name: str,
    func: str,
    object_id: int,
    job_prefix: str,
    redis_url: str | None = None,
    at_front: bool = False,
) -> bool:
    """Enqueue `func(object_id)` (at the queue's front with `at_front`) unless a job for that
    id already exists.

    Returns False when Redis cannot be reached: the row stays in the database and the
    sweeper enqueues it once Redis is back.
    """
    try:
        connection = redis_connection(redis_url)
        register(connection, queue_name)
        enqueue_unique(
            connection,
            queue_name,
            func,
            object_id,
            job_id=f"{job_prefix}-{object_id}",
            retry=CRASH_RETRY,
            # The database records every outcome and nothing reads RQ's results; kept 10
            # minutes they took ~11 KiB of Redis per message (~20 GB at 3,000 messages/s).
            result_ttl=0,
            failure_ttl=FAILURE_TTL,
            at_front=at_front,
        )
    except DuplicateJobError:
        return True
    except (RedisError, RedisNotConfigured, OSError) as exc:
        if _for_a_request():  # the next requests skip Redis for a few seconds
            request_redis.failed(redis_url or load_settings().redis_url, exc)
        log.warning("could not enqueue %s-%s, the sweeper will: %s", job_prefix, object_id, exc)
        return False
    return True


def enqueue_inbound(inbound_id: int, redis_url: str | None = None) -> bool:
    return enqueue_once(INBOUND, "jobs.inbound.process_inbound", inbound_id, "inbound", redis_url)


def enqueue_inbound_unknown(inbound_id: int, redis_url: str | None = None) -> bool:
    """The same job as enqueue_inbound, behind every officer's message."""
    return enqueue_once(
        INBOUND_UNKNOWN, "jobs.inbound.process_inbound", inbound_id, "inbound", redis_url
    )


def enqueue_media(inbound_id: int) -> bool:
    return enqueue_once(PHOTO, "jobs.media.fetch_media", inbound_id, "media")


def enqueue_photo_reading(inbound_id: int) -> bool:
    """At the front of the photo queue: a photo just downloaded is read next, not after the
    downloads of every photo that came in meanwhile (bench/e2e.py: the first reading began
    30 s into a 15 s burst of 300 photos, behind all their downloads)."""
    return enqueue_once(PHOTO, "jobs.photo.read_photos", inbound_id, "photo", at_front=True)


def outbound_queue(channel: str) -> str:
    return f"{OUTBOUND}-{channel}"


def enqueue_outbound(outbound_id: int, channel: str | None = None) -> bool:
    """Enqueue a reply's send on its channel's queue (looked up when not given)."""
    if channel is None:
        channel = _outbound_channel(outbound_id)
        if channel is None:
            log.warning("outbound %s does not exist", outbound_id)
            return True  # nothing to send
    return enqueue_once(
        outbound_queue(channel), "jobs.outbound.send_outbound", outbound_id, "outbound"
    )


def _outbound_channel(outbound_id: int) -> str | None:
    from relay.db import session_scope
    from relay.models import OutboundMessage

    with session_scope() as session:
        message = session.get(OutboundMessage, outbound_id)
        return message.channel if message else None


def enqueue_outbound_unknown(outbound_id: int) -> bool:
    """A reply to a sender on no roster: sent after every officer's."""
    return enqueue_once(OUTBOUND_UNKNOWN, "jobs.outbound.send_outbound", outbound_id, "outbound")
