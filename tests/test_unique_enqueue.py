"""jobs.unique_enqueue writes the job RQ's own `Queue.enqueue(unique=True)` writes (the
same hash, the same queue entry) and refuses a job id that exists, as RQ does; so an RQ
upgrade that changes its job format fails here, not in production."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from rq import Queue
from rq.exceptions import DuplicateJobError
from rq.job import Job
from rq.utils import utcparse

from jobs.queues import CRASH_RETRY, FAILURE_TTL, INBOUND, OUTBOUND_QUEUES, enqueue_once
from jobs.unique_enqueue import enqueue_unique

TIMESTAMPS = ("created_at", "enqueued_at")


@pytest.mark.parametrize(
    ("queue_name", "func"),
    [
        (INBOUND, "jobs.inbound.process_inbound"),
        (OUTBOUND_QUEUES[0], "jobs.outbound.send_outbound"),
    ],
)
def test_the_hash_and_the_queue_entry_are_rqs_own(redis_conn, queue_name: str, func: str) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    queue = Queue(queue_name, connection=redis_conn)
    queue.enqueue(
        func, 41, job_id="by-rq", unique=True, retry=CRASH_RETRY, result_ttl=0,
        failure_ttl=FAILURE_TTL,
    )  # fmt: skip
    enqueue_unique(redis_conn, queue_name, func, 41, "lean", CRASH_RETRY, 0, FAILURE_TTL)
    enqueue_unique(redis_conn, queue_name, func, 42, "lean-2", CRASH_RETRY, 0, FAILURE_TTL)

    by_rq = redis_conn.hgetall(Job.key_for("by-rq"))
    lean = redis_conn.hgetall(Job.key_for("lean"))
    assert {k: v for k, v in lean.items() if k.decode() not in TIMESTAMPS} == {
        k: v for k, v in by_rq.items() if k.decode() not in TIMESTAMPS
    }
    for name in TIMESTAMPS:
        assert before <= utcparse(lean[name.encode()].decode()) <= datetime.now(UTC)
    assert redis_conn.ttl(Job.key_for("lean")) == redis_conn.ttl(Job.key_for("by-rq")) == -1
    assert queue.job_ids == ["by-rq", "lean", "lean-2"]

    job = Job.fetch("lean-2", connection=redis_conn)  # as a worker reads it
    assert (job.func_name, job.args, job.kwargs, job.origin) == (func, (42,), {}, queue_name)
    assert job.description == f"{func}(42)"
    assert (job.retries_left, job.retry_intervals) == (CRASH_RETRY.max, CRASH_RETRY.intervals)
    assert (job.result_ttl, job.failure_ttl, job.get_status()) == (0, FAILURE_TTL, "queued")


def test_an_existing_job_id_is_refused_and_not_queued_again(redis_conn) -> None:
    func = "jobs.inbound.process_inbound"
    enqueue_unique(redis_conn, INBOUND, func, 7, "inbound-7", CRASH_RETRY, 0, FAILURE_TTL)
    with pytest.raises(DuplicateJobError):
        enqueue_unique(redis_conn, INBOUND, func, 7, "inbound-7", CRASH_RETRY, 0, FAILURE_TTL)
    assert enqueue_once(INBOUND, func, 7, "inbound")  # enqueued already: nothing to do
    assert Queue(INBOUND, connection=redis_conn).job_ids == ["inbound-7"]


def test_a_redis_that_lost_its_scripts_gets_them_again(redis_conn) -> None:
    """A restarted (or failed-over) Redis has no scripts cached: the next enqueue loads it."""
    func = "jobs.inbound.process_inbound"
    enqueue_unique(redis_conn, INBOUND, func, 8, "inbound-8", CRASH_RETRY, 0, FAILURE_TTL)
    redis_conn.script_flush()
    enqueue_unique(redis_conn, INBOUND, func, 9, "inbound-9", CRASH_RETRY, 0, FAILURE_TTL)
    assert Queue(INBOUND, connection=redis_conn).job_ids == ["inbound-8", "inbound-9"]


def test_a_pooled_connection_redis_dropped_does_not_fail_the_next_enqueue(redis_url) -> None:
    """The EVALSHA is written by hand on a pooled socket: one Redis closed (a restart, its
    timeout, CLIENT KILL) is found at checkout by the pool, which connects again — even
    for the requests' client, which retries nothing."""
    from jobs.request_redis import connection

    client = connection(redis_url)
    func = "jobs.inbound.process_inbound"
    enqueue_unique(client, INBOUND, func, 10, "inbound-10", CRASH_RETRY, 0, FAILURE_TTL)
    killer = Redis.from_url(redis_url)
    assert killer.client_kill_filter(_type="normal", skipme=True) >= 1
    enqueue_unique(client, INBOUND, func, 11, "inbound-11", CRASH_RETRY, 0, FAILURE_TTL)
    assert Queue(INBOUND, connection=killer).job_ids == ["inbound-10", "inbound-11"]


def test_a_photo_reading_goes_before_the_downloads_queued_before_it(redis_conn) -> None:
    """A photo just downloaded is read next, not after every download queued meanwhile; the
    job at the front is still RQ's own, and a second enqueue of it changes nothing."""
    from jobs.queues import PHOTO, enqueue_media, enqueue_photo_reading

    for inbound_id in (1, 2, 3):
        assert enqueue_media(inbound_id)
    assert enqueue_photo_reading(1)
    assert enqueue_photo_reading(1)  # already queued: not again
    queue = Queue(PHOTO, connection=redis_conn)
    assert queue.job_ids == ["photo-1", "media-1", "media-2", "media-3"]
    job = Job.fetch("photo-1", connection=redis_conn)
    assert (job.func_name, job.args, job.origin) == ("jobs.photo.read_photos", (1,), PHOTO)
