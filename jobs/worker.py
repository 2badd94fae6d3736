"""The RQ worker class the Procfile's `worker` runs (`rq worker -w jobs.worker.RelayWorker
inbound`): conversations, media downloads and photo readings; never a send (jobs.sender).

RQ's default Worker forks a work horse for every job, and the `rq worker` process imports
nothing of ours, so each horse imported the conversation, the channels, the Twilio client
and SQLAlchemy's models again, compiled every SQL statement again and opened new database
and Redis connections: ~0.5 s per job, then ~50 ms with the imports preloaded (measured on
one core). The short text jobs (a conversation turn, a send) therefore run in the worker
process itself, as RQ's SimpleWorker does: ~5 ms per job, warm caches, pooled connections.
Anything else (media download, OCR: big images, native code) still runs in a forked horse,
so a crash or a memory blow-up there takes only the horse down.

An in-process job whose result nobody keeps (all of ours) also skips most of RQ's Redis
bookkeeping (jobs.scheduling.SchedulingWorker.run_lean): 4 commands per job instead of ~55.

A worker killed in the middle of an in-process job leaves it "started" in RQ's registry;
the sweeper hands it back to the queue (jobs.sweeper.reclaim_abandoned). The jobs are
idempotent, so a job that runs again changes nothing twice.
"""

from __future__ import annotations

import twilio.rest.api.v2010.account.message  # the client imports it lazily, ~30 ms
from rq.job import Job
from sqlalchemy.orm import configure_mappers

import jobs.inbound
import jobs.media
import jobs.outbound
import jobs.photo
import ocr.hints
import ocr.reader
import ocr.templates
from jobs.scheduling import SchedulingWorker
from ocr import classifier
from relay import logs, media

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

# Imported by `rq worker -w …` before RQ sets up its log handlers, which then use ours.
logs.configure()
configure_mappers()  # once here, not in every work horse
classifier.load()  # the digit model's weights, shared with every horse (copy on write)
media.warm()  # photos in S3: boto3 and its service model, ~0.7 s per horse otherwise


class RelayWorker(SchedulingWorker):
    """RQ's forking Worker, except that the short text jobs run without a fork."""

    def runs_in_process(self, job: Job) -> bool:
        return job.func_name in IN_PROCESS
