"""Take the next job off a worker's queues and mark it started, in one Redis round trip.

RQ's worker takes a job in three round trips before it runs: BLPOP (or LMOVE) of its id,
HGETALL of its hash (Job.fetch), then the started registry entry and the hash's status
(jobs.scheduling.SchedulingWorker.run_lean's first pipeline). Between the first and the
last, a worker killed leaves the job in no queue and no registry: only the database's
sweeper finds it again, later. This script does the three at once, so the job is always
either in its queue or in its queue's StartedJobRegistry (with RQ's deadline, which RQ's
cleanup and jobs.sweeper.reclaim_abandoned read).

It does not block: when every queue is empty, the worker waits in RQ's own BLPOP. A job
whose hash says it keeps a result or has callbacks (RQ's full path runs it) is only taken
and read, not marked: RQ's path marks it itself.
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
# the longest an in-process job may run (its deadline is that + 60 s), the started status.
_SCRIPT = """
local n = #KEYS / 2
for i = 1, n do
  while true do
    local id = redis.call('LPOP', KEYS[i])
    if not id then break end
    local job_key = 'rq:job:' .. id
    local fields = redis.call('HGETALL', job_key)
    if #fields > 0 then
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
      return {i - 1, id, fields, lean and 1 or 0}
    end
    -- no hash (expired or deleted): RQ's dequeue passes over such ids too
  end
end
return false
"""

_script: list[Script] = []  # registered once per process (the sha is the same on every client)


@dataclass(frozen=True)
class Taken:
    """A job taken off `queue`: its id, its hash as read, and whether it was marked started
    (in the registry as `<id>:<execution_id>`, the hash's status STARTED)."""

    queue: Queue
    job_id: str
    data: dict[bytes, bytes]
    started: bool


def take_started(
    connection: Redis,
    queues: list[Queue],
    worker_name: str,
    execution_id: str,
    stamp: str,
    in_process_timeout: int,
) -> Taken | None:
    """The first job of `queues` (in that order), read and, where it runs lean, marked
    started with `execution_id`; None when every queue is empty."""
    if not _script:
        _script.append(connection.register_script(_SCRIPT))
    script = _script[0]
    keys = [q.key for q in queues] + [q.started_job_registry.key for q in queues]
    args = [
        current_timestamp(),
        stamp,
        worker_name,
        execution_id,
        in_process_timeout,
        JobStatus.STARTED.value,
    ]
    result = script(keys=keys, args=args, client=connection)
    if not result:
        return None
    index, job_id, fields, started = result
    data = dict(zip(fields[0::2], fields[1::2], strict=True))
    return Taken(queues[index], job_id.decode(), data, bool(started))
