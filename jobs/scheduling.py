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

import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq.job import Job
from rq.queue import Queue
from rq.scheduler import RQScheduler
from rq.worker import Worker, WorkerStatus

MAX_WAIT = 5.0
SCHEDULER_CHECK_EVERY = 10.0
DEQUEUE_TIMEOUT = 30
# An in-process job sends no heartbeats while it runs, so it must end well within the 60 s
# RQ keeps its deadline ahead (see jobs.sweeper.ABANDONED_HORIZON). A send gives up after
# SEND_TIMEOUT (8 s) and a conversation turn takes milliseconds: 30 s means stuck.
IN_PROCESS_TIMEOUT = 30


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

    @property
    def dequeue_timeout(self) -> int:
        return DEQUEUE_TIMEOUT

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
        self.keep_scheduler_running()
        return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)

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
                super().execute_job(job, queue)
        except RedisConnectionError as exc:
            self.log.warning("Worker %s: Redis lost around job %s: %s", self.name, job.id, exc)
            self.wait_for_redis()

    # The other Redis calls of RQ's work loop outside its dequeue, where an error ends it.
    def heartbeat(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        try:
            super().heartbeat(*args, **kwargs)
        except RedisConnectionError as exc:
            self.log.warning("Worker %s: heartbeat lost: %s", self.name, exc)
            self.wait_for_redis()

    def check_for_suspension(self, burst: bool) -> None:
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
        retries."""
        job.timeout = min(job.timeout or IN_PROCESS_TIMEOUT, IN_PROCESS_TIMEOUT)
        self.prepare_execution(job)
        self.perform_job(job, queue)
        self.set_state(WorkerStatus.IDLE)
