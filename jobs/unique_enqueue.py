"""RQ's unique enqueue with the per-call Python work cut to what changes from job to job.

`Queue.enqueue(..., unique=True)` builds a Queue, a Job, the job's dict and ~46 Redis
arguments, each encoded by redis-py, for every call: ~130 µs of a webhook's ~800 µs of CPU.
Our jobs (one function, one id argument, fixed options) differ from one another only in the
job id, the pickled call (`data`), its `description` and two timestamps. So once per
process, queue and kind of job, RQ builds a sample job the way its own unique enqueue
does; every call then copies its Redis arguments (kept as bytes, which redis-py sends as
they are), fills in those five values with RQ's own functions, and runs the same Lua
script RQ runs (check, save, push: one round trip). The hash a worker reads is the one
`Queue.enqueue` would have written: tests/test_unique_enqueue.py compares them field by field.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.commands.core import Script
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import Job
from rq.scripts import _build_hset_args, get_unique_enqueue_script
from rq.utils import get_call_string, now, utcformat

# The fields that change from job to job; every other value is the sample's.
VARYING = ("created_at", "data", "description", "enqueued_at")
PUSH_TO_BACK = b"R"  # the script's ARGV[2]: RPUSH, as Queue.enqueue without at_front
NO_TTL = b"-1"  # the script's ARGV[3]: the job hash does not expire (Job.ttl is None)


@dataclass(frozen=True)
class _Sample:
    script: Script
    queue_key: bytes
    fields: tuple[Any, ...]  # HSET field, value, field, value, … as RQ builds them
    slots: dict[str, int]  # where each VARYING value sits in `fields`
    serializer: Any


_samples: dict[tuple[Any, ...], _Sample] = {}


def _sample(queue: Queue, func: str, retry: Retry, result_ttl: int, failure_ttl: int) -> _Sample:
    job = queue.create_job(
        func,
        args=(0,),
        job_id="sample",
        retry=retry,
        result_ttl=result_ttl,
        failure_ttl=failure_ttl,
    )
    queue._prepare_for_queue(job)  # what Queue.enqueue sets before saving: origin, timeout, …
    if job.ttl is not None or job._dependency_ids:
        raise ValueError("only jobs without a TTL or dependencies")
    fields = tuple(v.encode() if isinstance(v, str) else v for v in _build_hset_args(job))
    names = fields[0::2]
    return _Sample(
        script=get_unique_enqueue_script(queue.connection),
        queue_key=queue.key.encode(),
        fields=fields,
        slots={name: 2 * names.index(name.encode()) + 1 for name in VARYING},
        serializer=job.serializer,
    )


def enqueue_unique(
    connection: Redis,
    queue_name: str,
    func: str,
    object_id: int,
    job_id: str,
    retry: Retry,
    result_ttl: int,
    failure_ttl: int,
) -> None:
    """Enqueue `func(object_id)` as job `job_id` on `queue_name` unless that job exists
    (then DuplicateJobError, as Queue.enqueue(unique=True) raises)."""
    key = (queue_name, func, retry.max, tuple(retry.intervals), result_ttl, failure_ttl)
    sample = _samples.get(key)
    if sample is None:
        queue = Queue(queue_name, connection=connection)
        sample = _samples[key] = _sample(queue, func, retry, result_ttl, failure_ttl)
    args = (object_id,)
    fields = list(sample.fields)
    slots = sample.slots
    stamp = utcformat(now())
    fields[slots["created_at"]] = fields[slots["enqueued_at"]] = stamp
    fields[slots["data"]] = zlib.compress(sample.serializer.dumps((func, None, args, {})))
    fields[slots["description"]] = get_call_string(func, args, {}, max_length=75)
    saved = sample.script(
        keys=[Job.key_for(job_id), sample.queue_key],
        args=[job_id, PUSH_TO_BACK, NO_TTL, *fields],
        client=connection,
    )
    if saved == 0:
        raise DuplicateJobError(f"Job with ID '{job_id}' already exists")
