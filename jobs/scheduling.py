"""RQ workers whose scheduler outlives a Redis outage.

Send retries and rate-limit waits are RQ scheduled jobs: they run only when some worker's
scheduler moves them from the ScheduledJobRegistry to their queue. RQ 2.12 runs that
scheduler in a child process that exits on the first Redis error, and a worker restarts it
only in its maintenance round, every 10 minutes; a worker that did not win the scheduler's
lock at start never looks again before then either. After a Redis restart, 60 replies due
2 s later waited 4 minutes.

Here the scheduler process rides out Redis errors (it waits and tries again, at most
MAX_WAIT seconds apart), and every worker checks at least every SCHEDULER_CHECK_EVERY
seconds that a scheduler runs for its queues, starting one when the lock is free (the
holder died). Idle workers come back from waiting for a job every DEQUEUE_TIMEOUT seconds
to make that check. A worker's own Redis reconnection backoff is capped at MAX_WAIT too
(RQ's grows to 60 s). And a worker that loses Redis around a job (RQ's bookkeeping after
it) waits for Redis to come back instead of exiting, as RQ's work loop would: the job, if
unfinished, is handed back by the sweeper (jobs.sweeper.reclaim_abandoned).
"""

from __future__ import annotations

import math
import sys
import time
import traceback
from datetime import datetime
from uuid import uuid4

from redis.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq import Retry
from rq.executions import Execution
from rq.job import Job, JobStatus, _job_stack
from rq.queue import Queue
from rq.registry import StartedJobRegistry
from rq.scheduler import RQScheduler
from rq.timeouts import JobTimeoutException
from rq.utils import now, utcformat
from rq.worker import Worker, WorkerStatus

from jobs.lean_dequeue import Taker, start_popped, take_started
from relay.config import settings_frozen

MAX_WAIT = 5.0
SCHEDULER_CHECK_EVERY = 10.0
DEQUEUE_TIMEOUT = 30
# An in-process job sends no heartbeats while it runs, so it must end well within the 60 s
# RQ keeps its deadline ahead (see jobs.sweeper.ABANDONED_HORIZON). A send gives up after
# SEND_TIMEOUT (8 s) and a conversation turn takes milliseconds: 30 s means stuck. (A job that
# keeps its deadline ahead while it waits, a photo job of jobs.worker, may take longer.)
IN_PROCESS_TIMEOUT = 30
# RQ writes the worker's heartbeat (2 commands) three times per job, its state twice and
# checks for `rq suspend` once (5 commands): ~15 Redis commands per job, more than the job
# itself. The worker's key lives 8 minutes; a heartbeat every few seconds keeps it, and a
# suspension is noticed within a second.
WORKER_HEARTBEAT_EVERY = 5.0
SUSPENSION_CHECK_EVERY = 1.0


class ResilientScheduler(RQScheduler):
    """RQ's scheduler loop, except that a Redis error means "wait and try again"."""

    def work(self) -> None:
        self._install_signal_handlers()
        born = False
        wait = float(self.interval)
        while not self._stop_requested:
            try:
                if not born:
                    self.register_birth()
                    born = True
                if self.should_reacquire_locks:
                    self.acquire_locks()
                self.heartbeat()  # re-takes a lock that expired while Redis was away
                self.enqueue_scheduled_jobs()
                wait = float(self.interval)
            except (RedisError, OSError) as exc:
                self.log.warning("Scheduler: Redis unreachable (%s); again in %.0fs", exc, wait)
                wait = min(wait * 2, MAX_WAIT)
            time.sleep(wait)
        try:
            self.stop()
        except (RedisError, OSError):  # Redis is gone: the locks expire by themselves
            pass


class SchedulingWorker(Worker):
    """A forking RQ Worker that keeps a ResilientScheduler running (with --with-scheduler)."""

    max_connection_wait_time = MAX_WAIT
    _keep_scheduler = False
    _next_scheduler_check = 0.0
    _next_heartbeat = 0.0
    _next_suspension_check = 0.0
    _written_state: str | None = None
    _unreported_jobs = 0  # lean jobs done since the last heartbeat (the worker's statistics)
    _unreported_seconds = 0.0
    _prestarted: Execution | None = None  # the job take_next marked started, not yet run
    _queues_empty = True  # the last take left them empty: wait for the next job (BLPOP)

    @property
    def dequeue_timeout(self) -> int:
        return DEQUEUE_TIMEOUT

    def work(self, *args, **kwargs) -> bool:  # type: ignore[no-untyped-def]
        """RQ's work loop, with the settings read once for all its jobs (not per job)."""
        with settings_frozen():
            return super().work(*args, **kwargs)

    @property
    def connection_timeout(self) -> int:
        """RQ's socket timeout for the worker (dequeue timeout + 10 s by default): kept at its
        default 415 s, since RQ stops a worker on a Redis timeout, e.g. Redis frozen 40 s."""
        return 415

    def _start_scheduler(self, burst: bool = False, logging_level=None, *args, **kwargs) -> None:  # type: ignore[no-untyped-def, override]
        """rq.worker.Worker._start_scheduler with a ResilientScheduler."""
        self.scheduler = ResilientScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if burst:
            if self.scheduler.acquired_locks:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            return
        self._keep_scheduler = True
        if self.scheduler.acquired_locks:
            self.scheduler.start()

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):  # type: ignore[no-untyped-def]
        """The next job, taken, read and (a lean job) marked started by one script
        (jobs.lean_dequeue): in one round trip while jobs wait (take_next), in two when the
        worker waited for it (BLPOP, then the script: wait_for_job). RQ's own dequeue for a
        burst run's last look at empty queues."""
        self.keep_scheduler_running()
        self.set_state(WorkerStatus.IDLE)  # written only when it changed (set_state)
        if timeout is not None and self._queues_empty:
            return self.wait_for_job(timeout, max_idle_time)
        taken = self.take_next()
        if taken is not None:
            return taken
        if timeout is None:
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
        self._queues_empty = True
        return self.wait_for_job(timeout, max_idle_time)

    def take_next(self, popped: tuple[bytes, bytes] | None = None) -> tuple[Job, Queue] | None:
        """The first job of this worker's queues (in RQ's order for its dequeue strategy), or
        the one BLPOP `popped` (its queue key and id), read and, for a lean job, marked
        started (jobs.lean_dequeue); None when the queues are empty, the popped job is gone,
        or Redis does not answer before the script ran."""
        started = now()
        taker = Taker(
            self.name,
            uuid4().hex,
            utcformat(started),
            IN_PROCESS_TIMEOUT,
            self.get_redis_server_version() >= (7, 0, 0),
        )
        queues = self._ordered_queues
        if popped is None:
            try:
                taken = take_started(self.connection, queues, taker)
            except RedisConnectionError:
                return None
        else:
            taken = start_popped(self.connection, queues, *popped, taker)
        if taken is None:
            return None
        self._queues_empty = not taken.more
        if not taken.data:
            return None
        queue = taken.queue
        job = self.job_class(taken.job_id, connection=self.connection, serializer=self.serializer)
        job.restore(taken.data)
        if taken.started:
            job.started_at, job.worker_name = started, self.name
            job._status = JobStatus.STARTED
            self._prestarted = Execution(taker.execution_id, job.id, self.connection, self.name)
        self.reorder_queues(reference_queue=queue)
        job.redis_server_version = self.get_redis_server_version()
        # RQ's own line (rq.worker.base's dequeue): operators grep the logs for "(<job id>)"
        if self.log_job_description:
            self.log.info("Worker %s: %s: %s (%s)", self.name, queue.name, job.description, job.id)
        else:
            self.log.info("Worker %s: %s: %s", self.name, queue.name, job.id)
        return job, queue

    def wait_for_job(self, timeout: int, max_idle_time: int | None) -> tuple[Job, Queue] | None:
        """RQ's dequeue loop (rq.worker.base.BaseWorker.dequeue_job_and_maintain_ttl: the
        heartbeat and maintenance between waits, `max_idle_time`, a Redis outage waited out)
        with BLPOP's job taken by take_next's script instead of RQ's Job.fetch."""
        self.procline("Listening on " + ",".join(self.queue_names()))
        connection_wait = 1.0
        idle_since = time.monotonic()
        while True:
            try:
                self.heartbeat()
                if self.should_run_maintenance_tasks:
                    self.run_maintenance_tasks()
                wait = timeout
                if max_idle_time is not None:
                    left = math.ceil(max_idle_time - (time.monotonic() - idle_since))
                    if left <= 0:
                        return None
                    wait = min(wait, left)
                popped = self.connection.blpop([q.key for q in self._ordered_queues], wait)
                if popped is None:
                    continue
                taken = self.take_next(popped)
                if taken is not None:
                    return taken
            except RedisConnectionError as exc:
                self.log.error(
                    "Worker %s: could not connect to Redis: %s; again in %.0f s",
                    self.name,
                    exc,
                    connection_wait,
                )
                time.sleep(connection_wait)
                connection_wait = min(
                    connection_wait * self.exponential_backoff_factor,
                    self.max_connection_wait_time,
                )

    def drop_prestarted(self, queue: Queue) -> None:
        """Take back take_next's started mark of a job that RQ's own path runs (it marks the
        job itself): RQ's registry would otherwise hold an entry that nobody removes."""
        execution, self._prestarted = self._prestarted, None
        if execution is not None:
            queue.connection.zrem(queue.started_job_registry.key, execution.composite_key)

    def keep_scheduler_running(self) -> None:
        """Start this worker's scheduler if none runs for its queues (the lock is free)."""
        scheduler = self.scheduler
        if not self._keep_scheduler or scheduler is None:
            return
        if scheduler._process is not None and scheduler._process.is_alive():
            return
        if time.monotonic() < self._next_scheduler_check:
            return
        self._next_scheduler_check = time.monotonic() + SCHEDULER_CHECK_EVERY
        try:
            if scheduler.acquire_locks(auto_start=True):
                self.log.info("Worker %s: scheduler (re)started", self.name)
        except (RedisError, OSError) as exc:
            self.log.warning("Worker %s: cannot start the scheduler yet: %s", self.name, exc)

    def runs_in_process(self, job: Job) -> bool:
        """Whether `job` runs in this process (True) or in a forked work horse."""
        return True

    def execute_job(self, job: Job, queue: Queue) -> None:
        try:
            if self.runs_in_process(job):
                self.execute_in_process(job, queue)
            else:
                self.drop_prestarted(queue)
                super().execute_job(job, queue)
        except RedisConnectionError as exc:
            self.log.warning("Worker %s: Redis lost around job %s: %s", self.name, job.id, exc)
            self.wait_for_redis()

    # The other Redis calls of RQ's work loop outside its dequeue, where an error ends it.
    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        """RQ's worker heartbeat, at most every WORKER_HEARTBEAT_EVERY seconds when RQ's
        loop asks for one on its own (not when it goes with a job's, in a pipeline).

        An idle worker's loop comes back here after every dequeue timeout, never to
        dequeue_job_and_maintain_ttl (RQ's loop retries the dequeue inside it), so this is
        where an idle worker looks for a dead scheduler."""
        if pipeline is not None:
            super().heartbeat(timeout, pipeline=pipeline)
            return
        self.keep_scheduler_running()
        if timeout is None and time.monotonic() < self._next_heartbeat:
            return
        try:
            with self.connection.pipeline() as pipe:
                super().heartbeat(timeout, pipeline=pipe)
                if self._unreported_jobs:
                    pipe.hincrby(self.key, "successful_job_count", self._unreported_jobs)
                    pipe.hincrbyfloat(self.key, "total_working_time", self._unreported_seconds)
                pipe.execute()
            self._unreported_jobs, self._unreported_seconds = 0, 0.0
            self._next_heartbeat = time.monotonic() + WORKER_HEARTBEAT_EVERY
        except RedisConnectionError as exc:
            self.log.warning("Worker %s: heartbeat lost: %s", self.name, exc)
            self.wait_for_redis()

    def set_state(self, state: str, pipeline: Pipeline | None = None) -> None:
        """RQ's, without writing a state the worker's hash already holds."""
        if pipeline is None and state == self._written_state:
            self._state = state
            return
        super().set_state(state, pipeline=pipeline)
        self._written_state = state

    def check_for_suspension(self, burst: bool) -> None:
        if not burst and time.monotonic() < self._next_suspension_check:
            return
        self._next_suspension_check = time.monotonic() + SUSPENSION_CHECK_EVERY
        try:
            super().check_for_suspension(burst)
        except RedisConnectionError as exc:
            self.log.warning("Worker %s: Redis lost: %s", self.name, exc)
            self.wait_for_redis()

    def run_maintenance_tasks(self) -> None:
        try:
            super().run_maintenance_tasks()
        except RedisConnectionError as exc:  # done at the next round
            self.log.warning("Worker %s: maintenance skipped, Redis lost: %s", self.name, exc)
            self.wait_for_redis()

    def wait_for_redis(self) -> None:
        """Return once Redis answers again (or a stop is requested)."""
        wait = 1.0
        while not self._stop_requested:
            try:
                self.connection.ping()
                return
            except RedisConnectionError:
                time.sleep(wait)
                wait = min(wait * 2, MAX_WAIT)

    def execute_in_process(self, job: Job, queue: Queue) -> None:
        """What rq.worker.SimpleWorker.execute_job does: the job runs here, under its job
        timeout (SIGALRM, capped at IN_PROCESS_TIMEOUT), with the same failure handling and
        retries; a job whose result nobody keeps takes the lean path (run_lean)."""
        cap = self.in_process_timeout(job)
        job.timeout = min(job.timeout or cap, cap)
        if _lean(job):
            self.run_lean(job, queue)
            return
        self.drop_prestarted(queue)
        self.prepare_execution(job)
        self.perform_job(job, queue)
        self.set_state(WorkerStatus.IDLE)

    def in_process_timeout(self, job: Job) -> int:
        """The longest an in-process job may run: IN_PROCESS_TIMEOUT, unless it keeps its
        deadline ahead itself while it runs (keep_job_alive)."""
        return IN_PROCESS_TIMEOUT

    def keep_job_alive(self, queue: Queue) -> None:
        """Move the running in-process job's deadline in RQ's StartedJobRegistry to
        IN_PROCESS_TIMEOUT + 60 s from now, as RQ's heartbeat does for a horse's job."""
        if self.execution is None:
            return
        queue.connection.zadd(
            queue.started_job_registry.key,
            {self.execution.composite_key: time.time() + IN_PROCESS_TIMEOUT + 60},
            xx=True,
        )

    def run_lean(self, job: Job, queue: Queue) -> None:
        """Run `job` with the Redis bookkeeping that the guarantees need, one round trip
        before (none when take_next marked it started as it took it) and one after: RQ's
        prepare/perform/success path costs ~55 commands in ~15 round trips per job (an
        execution hash and its index, the worker's current job, state, statistics and
        heartbeats, job heartbeats, a WATCH for dependents), this 4.

        Kept: the job in its queue's StartedJobRegistry with RQ's deadline (RQ's cleanup and
        jobs.sweeper.reclaim_abandoned hand a killed worker's job back and count the crash
        retry from it), the job hash's status; on a failure or a returned Retry, RQ's own
        handling (retries, the failed registry, `on_failure`). Not kept: an execution hash
        (nothing reads it for a job in process: the registry entry names the execution), the
        worker's current job and busy state in Redis (`rq info` shows the worker idle while
        it runs a job of a few milliseconds)."""
        # Busy for RQ's warm shutdown (SIGTERM waits for the job instead of interrupting it),
        # in this process only: not written to the worker's hash.
        self._state = WorkerStatus.BUSY
        try:
            self._run_lean(job, queue)
        finally:
            self._state = WorkerStatus.IDLE

    def _run_lean(self, job: Job, queue: Queue) -> None:
        registry = queue.started_job_registry
        prestarted, self._prestarted = self._prestarted, None
        if prestarted is not None and prestarted.job_id == job.id:
            # take_next marked it started as it took it (the same deadline as below)
            self.execution, started = prestarted, job.started_at
        else:
            self.execution = Execution(uuid4().hex, job.id, self.connection, self.name)
            started = now()
            self._mark_started(job, registry, started)
        job.started_at, job.worker_name = started, self.name
        job._status = JobStatus.STARTED
        try:
            with self.death_penalty_class(job.timeout, JobTimeoutException, job_id=job.id):
                _job_stack.push(job)  # what Job.perform does, less its PERSIST of the hash
                try:
                    value = job._execute()
                finally:
                    _job_stack.pop()
        except Exception:  # RQ's perform_job handles a job's failure the same way
            job.ended_at, job._status = now(), JobStatus.FAILED
            exc_info = sys.exc_info()
            self.handle_exception(job, *exc_info)
            exc_string = "".join(traceback.format_exception(*exc_info))
            self.handle_job_failure(job, queue, registry, exc_string)
            return
        job.ended_at = now()
        if isinstance(value, Retry):
            self.handle_job_retry(job, queue, value, registry, self.execution)
            self.execution = None
            return
        with self.connection.pipeline(transaction=False) as pipe:
            pipe.zrem(registry.key, self.execution.composite_key)
            pipe.delete(job.key, job.dependents_key, job.dependencies_key)  # result_ttl=0
            pipe.execute()
        self.execution = None
        self._unreported_jobs += 1
        self._unreported_seconds += (job.ended_at - started).total_seconds()
        self.log.info("Worker %s: %s: %s done", self.name, queue.name, job.id)

    def _mark_started(self, job: Job, registry: StartedJobRegistry, started: datetime) -> None:
        """The job in its queue's StartedJobRegistry (as `<id>:<execution id>`) and its hash's
        status STARTED, in one round trip: what take_next's script does as it takes a job."""
        with self.connection.pipeline(transaction=False) as pipe:
            # RQ's deadline for an in-process job: its timeout + 60 s (jobs.sweeper); a
            # longer one keeps it ahead while it runs (keep_job_alive).
            ttl = min(job.timeout, IN_PROCESS_TIMEOUT) + 60
            registry.add_execution(self.execution, pipeline=pipe, ttl=ttl)
            stamp = utcformat(started)
            pipe.hset(
                job.key,
                mapping={
                    "status": JobStatus.STARTED,
                    "started_at": stamp,
                    "last_heartbeat": stamp,
                    "worker_name": self.name,
                },
            )
            pipe.execute()


def _lean(job: Job) -> bool:
    """A job run_lean can run: its result is not kept, and it has no callbacks, dependents
    or repeats (which need RQ's full success path)."""
    return (
        job.result_ttl == 0
        and not job._success_callback_name
        and not job._failure_callback_name
        and not job._stopped_callback_name
        and not job.repeats_left
    )
