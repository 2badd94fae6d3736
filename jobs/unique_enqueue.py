"""RQ's unique enqueue with the per-call Python work cut to what changes from job to job.

`Queue.enqueue(..., unique=True)` builds a Queue, a Job, the job's dict and ~46 Redis
arguments, each encoded by redis-py, for every call: ~130 µs of a webhook's ~800 µs of CPU.
Our jobs (one function, one id argument, fixed options) differ from one another only in the
job id, the pickled call (`data`), its `description` and two timestamps. So once per
process, queue and kind of job, RQ builds a sample job the way its own unique enqueue does,
and its hash becomes a Lua script doing what RQ's script does (rq.scripts: nothing if the
job exists, else HSET the hash and RPUSH the id; one round trip), with every value that does
not change written into the script; a call sends only the job id and the four values that
change, filled in with RQ's own functions. The hash a worker reads is the one `Queue.enqueue`
would have written: tests/test_unique_enqueue.py compares them field by field.
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
from rq.scripts import _build_hset_args
from rq.utils import get_call_string, now, utcformat

# The fields that change from job to job, in the order the script takes them (ARGV[2]…);
# ARGV[1] is the job id.
VARYING = ("created_at", "enqueued_at", "data", "description")


@dataclass(frozen=True)
class _Sample:
    script: Script
    queue_key: bytes
    serializer: Any


_samples: dict[tuple[Any, ...], _Sample] = {}


def _lua_string(value: bytes) -> str:
    """A Lua string literal of `value`: letters and digits as they are, every other byte as
    a decimal escape, so no value can end the literal early."""
    return '"' + "".join(chr(b) if chr(b).isalnum() else f"\\{b:03d}" for b in value) + '"'


def _script(fields: list[bytes], push: str = "RPUSH") -> str:
    """RQ's unique enqueue script for one job layout: the values of `fields` (HSET field,
    value, …) written in, but those of VARYING, taken from ARGV; `push` LPUSH puts the job
    at the front of its queue (RQ's `at_front`)."""
    values = []
    for name, value in zip(fields[0::2], fields[1::2], strict=True):
        given = name.decode() in VARYING
        argument = f"ARGV[{VARYING.index(name.decode()) + 2}]" if given else _lua_string(value)
        values += [_lua_string(name), argument]
    return (
        'if redis.call("EXISTS", KEYS[1]) == 1 then return 0 end\n'
        f'redis.call("HSET", KEYS[1], {", ".join(values)})\n'
        f'redis.call("{push}", KEYS[2], ARGV[1])\n'
        "return 1\n"
    )


def _sample(
    queue: Queue, func: str, retry: Retry, result_ttl: int, failure_ttl: int, at_front: bool
) -> _Sample:
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
    fields = [v.encode() if isinstance(v, str) else v for v in _build_hset_args(job)]
    missing = set(VARYING) - {name.decode() for name in fields[0::2]}
    if missing:
        raise ValueError(f"RQ's job has no {sorted(missing)}")
    return _Sample(
        script=queue.connection.register_script(_script(fields, "LPUSH" if at_front else "RPUSH")),
        queue_key=queue.key.encode(),
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
    at_front: bool = False,
) -> None:
    """Enqueue `func(object_id)` as job `job_id` on `queue_name` (at its front with
    `at_front`) unless that job exists (then DuplicateJobError, as Queue.enqueue(unique=True)
    raises)."""
    key = (queue_name, func, retry.max, tuple(retry.intervals), result_ttl, failure_ttl, at_front)
    sample = _samples.get(key)
    if sample is None:
        queue = Queue(queue_name, connection=connection)
        sample = _samples[key] = _sample(queue, func, retry, result_ttl, failure_ttl, at_front)
    args = (object_id,)
    stamp = utcformat(now())
    saved = sample.script(
        keys=[Job.key_for(job_id), sample.queue_key],
        args=[
            job_id,
            stamp,
            stamp,
            zlib.compress(sample.serializer.dumps((func, None, args, {}))),
            get_call_string(func, args, {}, max_length=75),
        ],
        client=connection,
    )
    if saved == 0:
        raise DuplicateJobError(f"Job with ID '{job_id}' already exists")
