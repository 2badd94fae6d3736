"""The RQ worker class the Procfile's `worker` runs (`rq worker -w jobs.worker.RelayWorker
inbound`): conversations, media downloads and photo readings; never a send (jobs.sender).

RQ's default Worker forks a work horse for every job, and the `rq worker` process imports
nothing of ours, so each horse imported the conversation, the channels, the Twilio client
and SQLAlchemy's models again, compiled every SQL statement again and opened new database
and Redis connections: ~0.5 s per job, then ~50 ms with the imports preloaded (measured on
one core). The short text jobs (a conversation turn, a send) therefore run in the worker
process itself, as RQ's SimpleWorker does: ~5 ms per job, warm caches, pooled connections.
So does a media download (network, and a size-capped write to the photo store). Reading a
photo (OpenCV's native code on big images) still runs in a forked horse, so a crash or a
memory blow-up there takes only the horse down; the horse inherits everything the reader
needs already imported and initialised, and leaves the inherited objects to the worker's
garbage collector (bench/photo_cpu.py: 363 → ~210 ms of worker CPU per photo tally, against
~90 ms were the reading not forked at all).

An in-process job whose result nobody keeps (all of ours) also skips most of RQ's Redis
bookkeeping (jobs.scheduling.SchedulingWorker.run_lean): 4 commands per job instead of ~55.

A worker killed in the middle of an in-process job leaves it "started" in RQ's registry;
the sweeper hands it back to the queue (jobs.sweeper.reclaim_abandoned). The jobs are
idempotent, so a job that runs again changes nothing twice.
"""

from __future__ import annotations

import gc
import os

import cv2
import numpy.ma  # numpy loads it lazily, on first use in a horse: ~40 ms
import PIL.Image
import pyzbar.pyzbar
import reedsolo
import twilio.rest.api.v2010.account.message  # the client imports it lazily, ~30 ms
from rq.job import Job
from sqlalchemy.orm import configure_mappers

import jobs.inbound
import jobs.media
import jobs.outbound
import jobs.photo
import ocr.annotate
import ocr.assemble
import ocr.hints
import ocr.quality
import ocr.reader
import ocr.strip
import ocr.templates
from bots import review
from jobs.scheduling import SchedulingWorker
from ocr import classifier
from relay import logs, media

# Imported once here, so a forked horse starts with them: a photo's reading horse spent
# ~250 ms importing OpenCV and the reader before this, and ~100 ms more importing what the
# reader imports lazily (numpy.ma, pyzbar, PIL's plugins, reedsolo; bench/photo_cpu.py).
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
    numpy.ma,
    pyzbar.pyzbar,  # the QR decoder, imported where a page is read
    reedsolo,  # the identity strip's decoder
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
PIL.Image.init()  # its image plugins, else loaded on first use in every horse
cv2.getTextSize("0", cv2.FONT_HERSHEY_SIMPLEX, 1.0, 2)  # OpenCV's fonts: ~27 ms on first use
classifier.load()  # the digit model's weights, shared with every horse (copy on write)
media.warm()  # photos in S3: boto3 and its service model, ~0.7 s per horse otherwise


class RelayWorker(SchedulingWorker):
    """RQ's forking Worker, except that the short text jobs run without a fork."""

    def runs_in_process(self, job: Job) -> bool:
        return job.func_name in IN_PROCESS
