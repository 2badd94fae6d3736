"""What became of a stored message's job in RQ, and clearing a dead one so that the same
job id can be enqueued again.

Jobs have fixed ids and are enqueued with `unique=True`: while a failed job's hash sits in
RQ's failed registry, enqueueing the same id again is refused as a duplicate. The sweeper
asks `job_states` first, copies a failure's error to the database, then `discard`s the job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from redis import Redis
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from rq.results import Result

# A job in one of these states will still run (or is running): leave it alone.
ALIVE = frozenset(
    {
        JobStatus.CREATED,
        JobStatus.QUEUED,
        JobStatus.STARTED,
        JobStatus.DEFERRED,
        JobStatus.SCHEDULED,
    }
)
MAX_ERROR = 4000  # characters of a traceback kept on the row (its last lines: the cause)


@dataclass(frozen=True)
class JobState:
    exists: bool
    alive: bool = False
    failed: bool = False
    error: str | None = None  # the last failure's traceback (tail), when it failed


ABSENT = JobState(exists=False)


def job_states(connection: Redis, job_ids: Sequence[str]) -> list[JobState]:
    """One state per id, fetched together (a sweep looks at a thousand at a time)."""
    jobs = Job.fetch_many(list(job_ids), connection=connection)
    return [_state(job) for job in jobs]


def _state(job: Job | None) -> JobState:
    if job is None:
        return ABSENT
    status = job.get_status(refresh=False)
    if status in ALIVE:
        return JobState(exists=True, alive=True)
    if status != JobStatus.FAILED:  # finished, stopped or canceled while the row still waits
        return JobState(exists=True)
    result = job.latest_result()
    error = (result.exc_string if result is not None else None) or "job failed (no traceback)"
    return JobState(exists=True, failed=True, error=error[-MAX_ERROR:])


def discard(connection: Redis, job_id: str) -> None:
    """Delete a dead job (its hash, results and registry entries): the id is free again."""
    job = Job.fetch_many([job_id], connection=connection)[0]
    if job is None:
        return
    FailedJobRegistry(job.origin, connection=connection).remove(job)
    Result.delete_all(job)  # else the next job's latest result could be this one's failure
    job.delete(remove_from_queue=True)


def cause(error: str | None) -> str:
    """The exception line of a traceback: the last line that is not a frame, not indented
    and not one of SQLAlchemy's trailers ("[SQL: …]", "(Background on this error …)")."""
    lines = [line for line in (error or "").splitlines() if line.strip()]
    for line in reversed(lines):
        if not line[0].isspace() and not line.startswith(("(Background", "[", "Traceback")):
            return line
    return lines[-1].strip() if lines else ""


def backoff(intervals: Sequence[int], failures: int) -> timedelta:
    """The wait before driving a message again after its `failures`-th failed job."""
    if not intervals:
        return timedelta(0)
    return timedelta(seconds=intervals[min(max(failures, 1), len(intervals)) - 1])
