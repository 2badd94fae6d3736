"""The RQ worker class the Procfile's `worker` runs (`rq worker -w jobs.worker.RelayWorker
inbound`): conversations, media downloads and photo readings; never a send (jobs.sender).

RQ's default Worker forks a work horse for every job, and the `rq worker` process imports
nothing of ours, so each horse imported the conversation, the channels, the Twilio client
and SQLAlchemy's models again, compiled every SQL statement again and opened new database
and Redis connections: ~0.5 s per job, then ~50 ms with the imports preloaded (measured on
one core). The jobs therefore run in the worker process itself, as RQ's SimpleWorker does:
~5 ms per text job, warm caches, pooled connections. So does a media download (network, and
a size-capped write to the photo store); with a reader process it reads the photos it kept
in the same job (jobs.media), as a photo job would next.

A photo job runs in the worker process too, but the reading itself (OpenCV's native code on
big images) goes to the worker's long-lived reader process (jobs.reader_process): started
once, warm, fed one photo after another, so a crash, a runaway reading or a memory blow-up
takes only the reader down (that attempt fails and is retried like a killed horse's, and
the next photo goes to a fresh reader) and never the worker. A forked horse per photo job
cost ~120 ms more per photo (bench/photo_cpu.py, docs/CAPACITY.md); PHOTO_READER=fork
brings it back. While the reader works, the worker keeps the job's deadline in RQ's
registry ahead (jobs.scheduling.SchedulingWorker.keep_job_alive), as RQ's heartbeats do for
a horse, so the job may take RQ's job timeout (180 s by default), not IN_PROCESS_TIMEOUT.

A job of a function not listed here would still run in a forked horse (RQ's default).

An in-process job whose result nobody keeps (all of ours) also skips most of RQ's Redis
bookkeeping (jobs.scheduling.SchedulingWorker.run_lean), and is taken off its queue, read and
marked started by one script (jobs.lean_dequeue): 2 round trips per job instead of ~15.

A worker killed in the middle of an in-process job leaves it "started" in RQ's registry;
the sweeper hands it back to the queue (jobs.sweeper.reclaim_abandoned). The jobs are
idempotent, so a job that runs again changes nothing twice.
"""

from __future__ import annotations

import gc
import os

import twilio.rest.api.v2010.account.message  # the client imports it lazily, ~30 ms
from rq.job import Job
from rq.queue import Queue
from sqlalchemy.orm import configure_mappers

import jobs.inbound
import jobs.media
import jobs.outbound
import jobs.photo
import jobs.reader_process
import ocr.annotate
import ocr.assemble
import ocr.hints
import ocr.quality
import ocr.reader
import ocr.strip
import ocr.templates
from bots import review
from jobs.queues import PHOTO
from jobs.scheduling import SchedulingWorker
from relay import logs, media

# Imported once here: the jobs' code, and what a photo job read in a forked horse needed
# (PHOTO_READER=fork): a horse spent ~250 ms importing OpenCV and the reader before this, and
# ~100 ms more importing what the reader imports lazily (numpy.ma, pyzbar, PIL's plugins,
# reedsolo; bench/photo_cpu.py). The reader process warms itself (jobs.reader_process).
PRELOADED = (
    jobs.inbound,
    jobs.media,
    jobs.outbound,
    jobs.photo,
    ocr.annotate,
    ocr.assemble,
    ocr.hints,
    ocr.quality,
    ocr.reader,
    ocr.strip,
    ocr.templates,
    review,
    twilio.rest.api.v2010.account.message,
)
# A media download is network and a size-capped write to the store: no native code to isolate.
IN_PROCESS = frozenset(
    {"jobs.inbound.process_inbound", "jobs.media.fetch_media", "jobs.outbound.send_outbound"}
)

# Imported by `rq worker -w …` before RQ sets up its log handlers, which then use ours.
logs.configure()
configure_mappers()  # once here, not in every work horse
# A forked horse shares the worker's memory until it writes to it. Its first garbage
# collection walked every object it inherited (~300 ms per photo job, and a copy of each page
# it touched); frozen, they are left to the worker, and the horse collects only its own.
os.register_at_fork(after_in_child=gc.freeze)
# What a reading imports lazily and initialises on first use (numpy.ma ~40 ms, pyzbar,
# reedsolo, PIL's plugins, OpenCV's fonts ~27 ms, the digit model's weights): done once here,
# shared with every horse forked per photo (PHOTO_READER=fork; copy on write).
jobs.reader_process.warm_up()
media.warm()  # photos in S3: boto3 and its service model, ~0.7 s per horse otherwise


# Jobs that run in the worker process and read photos in its reader process.
READER_JOBS = frozenset({"jobs.photo.read_photos"})
# Jobs that run in the worker process whatever PHOTO_READER says and, with a reader process,
# also read the photos they keep (jobs.media: the download reads its photos next). They keep
# IN_PROCESS_TIMEOUT: a reading cut by it is queued as a reading job of its own, which has
# the job's whole timeout (a download must not outlive its deadline in RQ's registry).
READS_AFTER = frozenset({"jobs.media.fetch_media"})


class RelayWorker(SchedulingWorker):
    """RQ's forking Worker, except that our jobs run without a fork and photos are read in
    the worker's reader process."""

    def runs_in_process(self, job: Job) -> bool:
        if job.func_name in READER_JOBS:
            return jobs.reader_process.mode() == "process"
        return job.func_name in IN_PROCESS

    def work(self, *args, **kwargs) -> bool:  # type: ignore[no-untyped-def]
        """RQ's work loop; a photo worker starts its reader first, so that it warms up while
        the worker waits (a burst run starts it at its first photo), and stops it at the end."""
        if (
            not kwargs.get("burst")
            and PHOTO in self.queue_names()
            and jobs.reader_process.mode() == "process"
        ):
            jobs.reader_process.start_reader()
        try:
            return super().work(*args, **kwargs)
        finally:
            jobs.reader_process.stop_reader()

    def in_process_timeout(self, job: Job) -> int:
        if job.func_name in READER_JOBS:  # the deadline is kept ahead while the reader reads
            return job.timeout or Queue.DEFAULT_TIMEOUT
        return super().in_process_timeout(job)

    def execute_in_process(self, job: Job, queue: Queue) -> None:
        if not _reads(job):
            super().execute_in_process(job, queue)
            return
        reader = jobs.reader_process.start_reader()
        reader.set_keepalive(lambda: self.keep_job_alive(queue))
        try:
            super().execute_in_process(job, queue)
        finally:
            reader.set_keepalive(None)


def _reads(job: Job) -> bool:
    """Whether the job reads photos in this worker's reader process: the reader is started
    for it, and its deadline in RQ's registry is kept ahead while it waits for a reading."""
    return job.func_name in READER_JOBS or (
        job.func_name in READS_AFTER and jobs.reader_process.mode() == "process"
    )
