"""The RQ worker class the Procfile runs (`rq worker -w jobs.worker.RelayWorker …`).

RQ's default Worker forks a work horse for every job, and the `rq worker` process imports
nothing of ours, so each horse imported the conversation, the channels, the Twilio client
and SQLAlchemy's models again, compiled every SQL statement again and opened new database
and Redis connections: ~0.5 s per job, then ~50 ms with the imports preloaded (measured on
one core). The short text jobs (a conversation turn, a send) therefore run in the worker
process itself, as RQ's SimpleWorker does: ~5 ms per job, warm caches, pooled connections.
Anything else (media download, OCR: big images, native code) still runs in a forked horse,
so a crash or a memory blow-up there takes only the horse down.

A worker killed in the middle of an in-process job leaves it "started" in RQ's registry;
the sweeper hands it back to the queue (jobs.sweeper.reclaim_abandoned). The jobs are
idempotent, so a job that runs again changes nothing twice.
"""

from __future__ import annotations

import twilio.rest.api.v2010.account.message  # the client imports it lazily, ~30 ms
from rq.job import Job
from rq.queue import Queue
from rq.worker import Worker, WorkerStatus
from sqlalchemy.orm import configure_mappers

import jobs.inbound
import jobs.media
import jobs.outbound
import jobs.photo
import ocr.hints
import ocr.reader
import ocr.templates
from ocr import classifier
from relay import logs

# Imported once here, so a forked horse starts with them: a photo's reading horse spent
# ~250 ms importing OpenCV and the reader before this (measured on this project's machine).
PRELOADED = (
    jobs.inbound,
    jobs.media,
    jobs.outbound,
    jobs.photo,
    ocr.hints,
    ocr.reader,
    ocr.templates,
    twilio.rest.api.v2010.account.message,
)
IN_PROCESS = frozenset({"jobs.inbound.process_inbound", "jobs.outbound.send_outbound"})
# An in-process job sends no heartbeats while it runs, so it must end well within the 60 s
# RQ keeps its deadline ahead (see jobs.sweeper.ABANDONED_HORIZON). A send gives up after
# 10 s and a conversation turn takes milliseconds: 30 s means stuck, and RQ stops it.
IN_PROCESS_TIMEOUT = 30

# Imported by `rq worker -w …` before RQ sets up its log handlers, which then use ours.
logs.configure()
configure_mappers()  # once here, not in every work horse
classifier.load()  # the digit model's weights, shared with every horse (copy on write)


class RelayWorker(Worker):
    """RQ's forking Worker, except that the short text jobs run without a fork."""

    def execute_job(self, job: Job, queue: Queue) -> None:
        if job.func_name not in IN_PROCESS:
            super().execute_job(job, queue)
            return
        # What rq.worker.SimpleWorker.execute_job does: the job runs here, under its job
        # timeout (SIGALRM), with the same failure handling and retries.
        job.timeout = min(job.timeout or IN_PROCESS_TIMEOUT, IN_PROCESS_TIMEOUT)
        self.prepare_execution(job)
        self.perform_job(job, queue)
        self.set_state(WorkerStatus.IDLE)
