"""Take the next job off a worker's queues, read it and mark it started, in one script.

RQ's worker takes a job in three round trips before it runs: BLPOP (or LMOVE) of its id,
HGETALL of its hash (Job.fetch), then the started registry entry and the hash's status
(jobs.scheduling.SchedulingWorker._mark_started). Between the first and the last, a worker
killed leaves the job in no queue and no registry: only the database's sweeper finds it
again, later. While jobs wait, the script does the three at once (take_started: LMPOP of
the first job of the worker's queues, in their order), so the job is always either in its
queue or in its queue's StartedJobRegistry (with RQ's deadline, which RQ's cleanup and
jobs.sweeper.reclaim_abandoned read). A script cannot block: a worker whose queues were
empty waits in BLPOP, then reads and marks the job BLPOP took with the same script
(start_popped: two round trips, and RQ's window between them), which also says whether
that queue holds more jobs (the worker then takes them the one-round-trip way again).

A job whose hash says it keeps a result or has callbacks (RQ's full path runs it) is only
taken and read, not marked: RQ's path marks it itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis
from redis.commands.core import Script
from rq.job import JobStatus
from rq.queue import Queue
from rq.utils import current_timestamp

# KEYS: the queue keys in the order to take them, then their StartedJobRegistry keys.
# ARGV: now (RQ's integer timestamp), the started stamp, the worker's name, the execution id,
# the longest an in-process job may run (its deadline is that + 60 s), the started status,
# then either "pop" (take the first job: LMPOP, one command for any number of queues; "lpop"
# on a Redis before 7.0) or the index (1-based) and id of a job BLPOP took.
# Returns {index (0-based), id, the hash's fields and values (packed: _fields), marked started
# (1/0), jobs left in that queue (counted only for a job BLPOP took)}, or false when the
# queues are empty.
_SCRIPT = """
local n = #KEYS / 2
local function take(i, id)
  local job_key = 'rq:job:' .. id
  local fields = redis.call('HGETALL', job_key)
  if #fields == 0 then return nil end  -- expired or deleted: RQ's dequeue passes over it too
  local hash = {}
  for f = 1, #fields, 2 do hash[fields[f]] = fields[f + 1] end
  local lean = hash['result_ttl'] == '0'
    and (hash['success_callback_name'] or '') == ''
    and (hash['failure_callback_name'] or '') == ''
    and (hash['stopped_callback_name'] or '') == ''
  if lean then
    local cap = tonumber(ARGV[5])
    local timeout = tonumber(hash['timeout'] or '')
    if timeout == nil or timeout == 0 or timeout > cap then timeout = cap end
    redis.call('ZADD', KEYS[n + i], tonumber(ARGV[1]) + timeout + 60, id .. ':' .. ARGV[4])
    redis.call('HSET', job_key, 'status', ARGV[6], 'started_at', ARGV[2],
               'last_heartbeat', ARGV[2], 'worker_name', ARGV[3])
  end
  -- one string, each field and value as <length>:<bytes>: redis-py reads a reply of 40
  -- strings in ~70 µs of CPU, one string in ~20 (and _fields splits it in ~10)
  local packed = {}
  for f = 1, #fields do packed[f] = #fields[f] .. ':' .. fields[f] end
  return {i - 1, id, table.concat(packed), lean and 1 or 0}
end
if ARGV[7] == 'pop' then
  local lmpop = {'LMPOP', n}
  for i = 1, n do lmpop[i + 2] = KEYS[i] end
  lmpop[n + 3] = 'LEFT'
  while true do
    local popped = redis.call(unpack(lmpop))
    if not popped then return false end
    local i = 1
    while KEYS[i] ~= popped[1] do i = i + 1 end
    local taken = take(i, popped[2][1])
    if taken then taken[5] = 1; return taken end
  end
elseif ARGV[7] == 'lpop' then
  for i = 1, n do
    while true do
      local id = redis.call('LPOP', KEYS[i])
      if not id then break end
      local taken = take(i, id)
      if taken then taken[5] = 1; return taken end
    end
  end
  return false
end
local i = tonumber(ARGV[7])
local taken = take(i, ARGV[8]) or {i - 1, ARGV[8], '', 0}
taken[5] = redis.call('LLEN', KEYS[i])
return taken
"""

_script: list[Script] = []  # registered once per process (the sha is the same on every client)


@dataclass(frozen=True)
class Taken:
    """A job taken off `queue`: its id, its hash as read (empty: the job is gone), whether
    it was marked started (in the registry as `<id>:<execution_id>`, the hash's status
    STARTED), and whether more jobs may wait (False: that queue was empty after it)."""

    queue: Queue
    job_id: str
    data: dict[bytes, bytes]
    started: bool
    more: bool


@dataclass(frozen=True)
class Taker:
    """What marks a job started for one worker and one take."""

    worker_name: str
    execution_id: str
    stamp: str
    in_process_timeout: int
    lmpop: bool  # the server has LMPOP (Redis 7.0)


def take_started(connection: Redis, queues: list[Queue], taker: Taker) -> Taken | None:
    """The first job of `queues` (in that order), read and, where it runs lean, marked
    started; None when every queue is empty."""
    return _run(connection, queues, taker, ["pop" if taker.lmpop else "lpop"])


def start_popped(
    connection: Redis, queues: list[Queue], queue_key: bytes, job_id: bytes, taker: Taker
) -> Taken:
    """What take_started does, for a job that BLPOP took off `queue_key` (one of `queues`)."""
    index = [q.key.encode() for q in queues].index(queue_key) + 1
    result = _run(connection, queues, taker, [index, job_id])
    assert result is not None
    return result


def _run(
    connection: Redis, queues: list[Queue], taker: Taker, how: list[str | int | bytes]
) -> Taken | None:
    if not _script:
        _script.append(connection.register_script(_SCRIPT))
    keys = [q.key for q in queues] + [q.started_job_registry.key for q in queues]
    args = [
        current_timestamp(),
        taker.stamp,
        taker.worker_name,
        taker.execution_id,
        taker.in_process_timeout,
        JobStatus.STARTED.value,
        *how,
    ]
    result = _script[0](keys=keys, args=args, client=connection)
    if not result:
        return None
    index, job_id, packed, started, more = result
    return Taken(queues[index], job_id.decode(), _fields(packed), bool(started), bool(more))


def _fields(packed: bytes) -> dict[bytes, bytes]:
    """The hash the script packed: fields and values in turn, each as <length>:<bytes>."""
    items = []
    at, end = 0, len(packed)
    while at < end:
        colon = packed.index(b":", at)
        at = colon + 1 + int(packed[at:colon])
        items.append(packed[colon + 1 : at])
    return dict(zip(items[0::2], items[1::2], strict=True))
