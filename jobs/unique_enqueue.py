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

The EVALSHA itself is written by hand on a connection of the client's pool (its constant
part packed once per job layout): redis-py 8 wraps every command in a retry closure,
timings and counters, about half of the enqueue's CPU. Whatever is not a plain answer —
the script missing (Redis restarted), a dropped connection — goes through redis-py's own
call (which loads the script, reconnects and retries as the client is configured); a
timeout is raised as redis-py raises it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
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
    key_after: bytes  # the packed command between the job key and the job id: the queue key


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


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
    queue_key = queue.key.encode()
    return _Sample(
        script=queue.connection.register_script(_script(fields, "LPUSH" if at_front else "RPUSH")),
        queue_key=queue_key,
        serializer=job.serializer,
        key_after=_bulk(queue_key),
    )


def _evalsha(connection: Redis, sample: _Sample, job_key: bytes, args: list[bytes]) -> Any:
    """EVALSHA of the sample's script (2 keys, 5 arguments) on a pooled connection."""
    pool = connection.connection_pool
    if connection.connection is not None:  # a single-connection client: redis-py's way
        return sample.script(keys=[job_key, sample.queue_key], args=args, client=connection)
    packed = b"".join(
        (
            b"*10\r\n$7\r\nEVALSHA\r\n",
            _bulk(sample.script.sha.encode()),
            b"$1\r\n2\r\n",
            _bulk(job_key),
            sample.key_after,
            *map(_bulk, args),
        )
    )
    conn = pool.get_connection()
    try:
        conn.send_packed_command([packed])
        return conn.read_response()
    except (NoScriptError, RedisConnectionError):
        # The script is gone (Redis restarted) or the pooled socket was dead: redis-py loads
        # it again or reconnects, with the client's own retry policy.
        conn.disconnect()
        return sample.script(keys=[job_key, sample.queue_key], args=args, client=connection)
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


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
    stamp = utcformat(now()).encode()
    saved = _evalsha(
        connection,
        sample,
        Job.key_for(job_id).encode(),
        [
            job_id.encode(),
            stamp,
            stamp,
            zlib.compress(sample.serializer.dumps((func, None, args, {}))),
            get_call_string(func, args, {}, max_length=75).encode(),
        ],
    )
    if saved == 0:
        raise DuplicateJobError(f"Job with ID '{job_id}' already exists")
