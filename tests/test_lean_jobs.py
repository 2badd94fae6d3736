"""The lean in-process path of jobs.scheduling (run_lean) keeps what RQ's full path gave the
guarantees: a running job sits in its queue's StartedJobRegistry with RQ's deadline (so a
killed worker's job is handed back), a finished one leaves nothing behind, and a failing one
is retried and then kept in the failed registry — with a real redis-server and RQ."""

from __future__ import annotations

import time

import pytest
import redis
from rq import Callback, Queue, Repeat, Retry, get_current_job
from rq.job import JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry

from jobs.lean_dequeue import Taker, take_started
from jobs.queues import CRASH_RETRY, FAILURE_TTL, INBOUND, INBOUND_UNKNOWN, queue
from jobs.scheduling import IN_PROCESS_TIMEOUT, SchedulingWorker
from jobs.sweeper import reclaim_abandoned

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


def count_run(tag: str) -> None:
    """A job that counts its runs."""
    job = get_current_job()
    assert job is not None
    job.connection.incr(f"lean-test:runs:{tag}")


def test_a_taken_job_is_always_in_its_queue_or_the_started_registry(
    redis_conn: redis.Redis,
) -> None:
    """A worker killed right after taking a job (before it runs) leaves it in RQ's started
    registry with RQ's deadline, where jobs.sweeper.reclaim_abandoned finds it; RQ's own
    dequeue had taken it out of its queue without a trace in Redis."""
    queue(INBOUND, redis_conn).enqueue(
        count_run,
        "killed",
        job_id="lean-3",
        unique=True,
        retry=CRASH_RETRY,
        result_ttl=0,
        failure_ttl=FAILURE_TTL,
    )
    worker = SchedulingWorker([INBOUND, INBOUND_UNKNOWN], connection=redis_conn)
    before = time.time()
    taken = worker.dequeue_job_and_maintain_ttl(None)
    assert taken is not None and taken[0].id == "lean-3"
    # ... and the worker dies here.
    assert redis_conn.llen(f"rq:queue:{INBOUND}") == 0
    [(entry, deadline)] = redis_conn.zrange(f"rq:wip:{INBOUND}", 0, -1, withscores=True)
    assert entry.decode().startswith("lean-3:")
    assert deadline >= before + IN_PROCESS_TIMEOUT + 60 - 2
    assert redis_conn.hget("rq:job:lean-3", "status") == JobStatus.STARTED.value.encode()

    assert reclaim_abandoned(horizon=IN_PROCESS_TIMEOUT + 120) == 1
    SchedulingWorker([INBOUND, INBOUND_UNKNOWN], connection=redis_conn).work(burst=True)
    assert redis_conn.get("lean-test:runs:killed") == b"1"
    assert StartedJobRegistry(INBOUND, connection=redis_conn).count == 0
    assert not redis_conn.exists("rq:job:lean-3")


def test_queues_are_taken_in_the_workers_order(redis_conn: redis.Redis) -> None:
    """One job per queue, taken in the worker's queue order, each run once."""
    for name, tag in ((INBOUND_UNKNOWN, "second"), (INBOUND, "first")):
        queue(name, redis_conn).enqueue(count_run, tag, result_ttl=0)
    worker = SchedulingWorker([INBOUND, INBOUND_UNKNOWN], connection=redis_conn)
    first = worker.dequeue_job_and_maintain_ttl(None)
    assert first is not None and first[1].name == INBOUND
    worker.execute_job(*first)
    SchedulingWorker([INBOUND, INBOUND_UNKNOWN], connection=redis_conn).work(burst=True)
    assert redis_conn.get("lean-test:runs:first") == b"1"
    assert redis_conn.get("lean-test:runs:second") == b"1"


class ForkingWorker(SchedulingWorker):
    """Runs every job in a forked work horse (as RelayWorker does a photo job with
    PHOTO_READER=fork), through RQ's own path."""

    def runs_in_process(self, job) -> bool:  # type: ignore[no-untyped-def]
        return False


@pytest.mark.parametrize(
    ("worker_class", "options"),
    [
        (SchedulingWorker, {"result_ttl": 500}),  # its result kept: RQ's full path
        (SchedulingWorker, {"result_ttl": 0, "on_success": Callback(count_run)}),
        (SchedulingWorker, {"result_ttl": 0, "repeat": Repeat(times=1, interval=60)}),
        (ForkingWorker, {"result_ttl": 0}),
    ],
)
def test_a_job_run_by_rqs_own_path_leaves_no_started_entry_behind(
    redis_conn: redis.Redis, worker_class: type[SchedulingWorker], options: dict[str, object]
) -> None:
    """The started mark of a job taken for the lean path is taken back when RQ's path runs
    it (RQ marks it itself); left there, the sweeper would hand the done job back."""
    queue(INBOUND, redis_conn).enqueue(count_run, "rq", job_id="lean-4", **options)
    worker_class([INBOUND, INBOUND_UNKNOWN], connection=redis_conn).work(burst=True)
    assert int(redis_conn.get("lean-test:runs:rq") or 0) >= 1
    assert StartedJobRegistry(INBOUND, connection=redis_conn).get_job_ids(cleanup=False) == []
    assert reclaim_abandoned(horizon=IN_PROCESS_TIMEOUT + 120) == 0


def test_a_waiting_worker_takes_each_job_once(redis_conn: redis.Redis) -> None:
    """A worker that waits for jobs (not a burst run: BLPOP, then the script) runs each job
    once, passes over an id whose job is gone, and leaves nothing in the registry."""
    for tag in ("a", "b"):
        queue(INBOUND, redis_conn).enqueue(count_run, tag, result_ttl=0)
    redis_conn.rpush(f"rq:queue:{INBOUND}", "gone")  # its hash expired or was deleted
    queue(INBOUND_UNKNOWN, redis_conn).enqueue(count_run, "c", result_ttl=0)
    queue(INBOUND, redis_conn).enqueue(count_run, "kept", result_ttl=500)  # RQ's full path

    SchedulingWorker([INBOUND, INBOUND_UNKNOWN], connection=redis_conn).work(max_idle_time=1)

    for tag in ("a", "b", "c", "kept"):
        assert redis_conn.get(f"lean-test:runs:{tag}") == b"1"
    assert redis_conn.llen(f"rq:queue:{INBOUND}") == 0
    assert redis_conn.llen(f"rq:queue:{INBOUND_UNKNOWN}") == 0
    assert StartedJobRegistry(INBOUND, connection=redis_conn).get_job_ids(cleanup=False) == []
    assert StartedJobRegistry(INBOUND_UNKNOWN, connection=redis_conn).count == 0


@pytest.mark.parametrize("lmpop", [True, False])  # Redis 7's LMPOP; an LPOP per queue before
def test_the_script_takes_the_first_job_in_queue_order(
    redis_conn: redis.Redis, lmpop: bool
) -> None:
    queues = [queue(INBOUND, redis_conn), queue(INBOUND_UNKNOWN, redis_conn)]
    queues[1].enqueue(count_run, "later", job_id="lean-5", result_ttl=0)
    redis_conn.rpush(queues[1].key, "gone")
    redis_conn.hset("rq:job:lean-5", "meta", b"\x00:12:\xff")  # any bytes come back as they were
    stored = redis_conn.hgetall("rq:job:lean-5")
    taker = Taker("w", "e1", "2026-12-04T00:00:00.000000Z", IN_PROCESS_TIMEOUT, lmpop)
    taken = take_started(redis_conn, queues, taker)
    assert taken is not None
    assert taken.data == stored  # the hash as it was read, before it was marked started
    assert (taken.queue.name, taken.job_id, taken.started) == (INBOUND_UNKNOWN, "lean-5", True)
    assert redis_conn.zscore(queues[1].started_job_registry.key, "lean-5:e1") is not None
    assert take_started(redis_conn, queues, taker) is None  # "gone" passed over: empty
