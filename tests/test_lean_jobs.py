"""The lean in-process path of jobs.scheduling (run_lean) keeps what RQ's full path gave the
guarantees: a running job sits in its queue's StartedJobRegistry with RQ's deadline (so a
killed worker's job is handed back), a finished one leaves nothing behind, and a failing one
is retried and then kept in the failed registry — with a real redis-server and RQ."""

from __future__ import annotations

import time

import redis
from rq import Queue, Retry, get_current_job
from rq.job import JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry

from jobs.queues import CRASH_RETRY, FAILURE_TTL, queue
from jobs.scheduling import IN_PROCESS_TIMEOUT, SchedulingWorker

QUEUE = "lean-test"


def look_at_own_registry() -> str:
    """A job that writes down how RQ sees it while it runs."""
    job = get_current_job()
    assert job is not None
    connection = job.connection
    entries = connection.zrange(f"rq:wip:{QUEUE}", 0, -1, withscores=True)
    connection.rpush("lean-test:seen", *[f"{key.decode()}|{score}" for key, score in entries])
    connection.set("lean-test:status", connection.hget(job.key, "status") or b"")
    return "done"


def always_fails() -> None:
    raise RuntimeError("this job always fails")


def _enqueue(conn: redis.Redis, func: str, job_id: str, retry: Retry) -> None:
    queue(QUEUE, conn).enqueue(
        func, job_id=job_id, unique=True, retry=retry, result_ttl=0, failure_ttl=FAILURE_TTL
    )


def test_a_running_lean_job_is_in_the_started_registry_with_rqs_deadline(
    redis_conn: redis.Redis,
) -> None:
    _enqueue(redis_conn, "tests.test_lean_jobs.look_at_own_registry", "lean-1", CRASH_RETRY)
    before = time.time()
    SchedulingWorker([QUEUE], connection=redis_conn).work(burst=True)

    [entry] = [e.decode() for e in redis_conn.lrange("lean-test:seen", 0, -1)]
    key, score = entry.rsplit("|", 1)
    assert key.startswith("lean-1:")  # job id : execution id, as RQ's cleanup parses it
    # The deadline jobs.sweeper.reclaim_abandoned and RQ's cleanup read: the in-process
    # timeout plus RQ's 60 s, so a live worker's job is never taken from it.
    assert float(score) >= before + IN_PROCESS_TIMEOUT + 60 - 2
    assert redis_conn.get("lean-test:status") == JobStatus.STARTED.value.encode()
    # Done: nothing left of it (its result is not kept).
    assert StartedJobRegistry(QUEUE, connection=redis_conn).count == 0
    assert not redis_conn.exists("rq:job:lean-1")
    assert QUEUE.encode() in {q.name.encode() for q in Queue.all(connection=redis_conn)}


def test_a_failing_lean_job_is_retried_then_failed(redis_conn: redis.Redis) -> None:
    _enqueue(redis_conn, "tests.test_lean_jobs.always_fails", "lean-2", Retry(max=2))
    SchedulingWorker([QUEUE], connection=redis_conn).work(burst=True)

    failed = FailedJobRegistry(QUEUE, connection=redis_conn)
    assert failed.get_job_ids() == ["lean-2"]
    job = failed.get_queue().fetch_job("lean-2")
    assert job is not None
    assert job.get_status() == JobStatus.FAILED
    assert job.retries_left == 0  # ran three times: once, then its two retries
    result = job.latest_result()
    assert result is not None and "this job always fails" in (result.exc_string or "")
    assert StartedJobRegistry(QUEUE, connection=redis_conn).count == 0
