"""The photo worker's long-lived reader process (jobs.reader_process): photos are read there one
after another, with the isolation a forked horse per photo gave. A reader killed mid-read fails
only that reading (the worker lives and retries the job, a fresh reader reads); a runaway
reading is killed; the reader's memory is capped; and it is replaced after N readings or
above a resident size."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from rq.registry import StartedJobRegistry
from rq.timeouts import JobTimeoutException, UnixSignalDeathPenalty
from sqlalchemy import func, select, update

from jobs.photo import READ_SEQUENCE
from jobs.queues import PHOTO
from jobs.reader_process import (
    KEEPALIVE_EVERY,
    Limits,
    ReaderCrashed,
    ReaderProcess,
    ReaderTimeout,
    _from_reader,
    _send,
)
from ocr.reader import ReadResult, read_photo
from ocr.templates import DbLookup, FormTemplate, StaticLookup
from relay.db import session_scope
from relay.loaders.election import load_election
from relay.models import Candidate, OutboundMessage
from tests.fakes import telegram_updates as tu
from tests.live import RqWorker, children_of, process_env
from tests.ocr_support import demo_lookup, photo
from tests.test_catalogue_cache import four_pairs
from tests.test_photo_flow import PHONE, USER, post

CLEAN = photo("ppwp_clean.jpg")


def _same_reading(a: ReadResult, b: ReadResult) -> None:
    left, right = a.to_json(), b.to_json()
    left.pop("timings_ms")
    right.pop("timings_ms")
    assert left == right
    assert a.annotated_jpeg == b.annotated_jpeg


def _gone(pid: int) -> bool:
    """No such process any more (reaped, not a zombie left behind)."""
    return not Path(f"/proc/{pid}").exists()


@pytest.fixture
def reader():
    readers: list[ReaderProcess] = []

    def make(**limits: float) -> ReaderProcess:
        readers.append(ReaderProcess(Limits(**limits)))  # type: ignore[arg-type]
        return readers[-1]

    yield make
    for one in readers:
        one.stop()


def test_the_reader_reads_photo_after_photo_as_the_worker_would(reader) -> None:
    lookup = demo_lookup()
    process = reader()
    first = process.read(CLEAN, lookup)
    pid = process.pid
    second = process.read(CLEAN, lookup, expect_contest="PPWP", expect_tps=["3576011001002"])
    assert process.pid == pid != os.getpid()  # one long-lived reader, not one per photo
    _same_reading(first, read_photo(CLEAN, lookup))
    assert first.error is None and first.contest == "PPWP" and len(first.fields) == 20
    assert second.error == "wrong_tps"  # what the officer may send goes along


class KillsTheReader:
    """The election (a FormLookup), answered by the worker; the reader is killed while it
    waits for the answer, in the middle of its reading."""

    def __init__(self, base: StaticLookup, process: ReaderProcess, how: int) -> None:
        self.base, self.process, self.how = base, process, how
        self.killed: int | None = None

    def template(self, contest_code: str, tps_code: str | None = None) -> FormTemplate | None:
        self.killed = self.process.pid
        assert self.killed is not None
        os.kill(self.killed, self.how)
        time.sleep(0.2)
        return self.base.template(contest_code, tps_code)

    def registered_voters(self, tps_code: str) -> int | None:
        return self.base.registered_voters(tps_code)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGSEGV])
def test_a_reader_that_dies_mid_read_fails_that_reading_only(reader, how: int) -> None:
    process = reader()
    killer = KillsTheReader(demo_lookup(), process, how)
    with pytest.raises(ReaderCrashed):
        process.read(CLEAN, killer)
    dead = killer.killed
    result = process.read(CLEAN, demo_lookup())  # the next photo: a fresh reader
    assert process.pid != dead and dead is not None and _gone(dead)
    assert result.error is None and process.restarts == 1


def test_a_reader_that_died_while_idle_is_replaced_before_the_next_photo(reader) -> None:
    process = reader()
    process.read(CLEAN, demo_lookup())
    dead = process.pid
    assert dead is not None
    os.kill(dead, signal.SIGKILL)  # as the OOM killer between two photos
    _wait_until(lambda: process.proc is not None and process.proc.poll() is not None)
    result = process.read(CLEAN, demo_lookup())  # read, not failed for a retry
    assert result.error is None and process.pid != dead and _gone(dead)
    assert process.restarts == 1


def _wait_until(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("when", ["before_its_first_photo", "during_a_reading"])
def test_a_reader_whose_worker_goes_away_exits_quietly(when: str) -> None:
    """A worker stopped (make run's Ctrl-C) before it read the reader's "ready" leaves the
    reader a reset socket, not an EOF; one gone during a reading, a broken pipe for its
    question or answer. Either is the reader's cue to go, without a traceback in the log."""
    import select

    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    env = {**os.environ, "PHOTO_READER_FD": str(theirs.fileno())}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobs.reader_process"], cwd=Path(__file__).parent.parent,
        env=env, pass_fds=(theirs.fileno(),), stderr=subprocess.PIPE,
    )
    theirs.close()
    try:
        assert select.select([mine], [], [], 120)[0], "the reader never got ready"
        if when == "during_a_reading":
            assert _from_reader(mine) == ("ready",)
            _send(mine, ("read", CLEAN, None, None))
        mine.close()  # "ready" unread, or the reading under way
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert b"Traceback" not in err, err.decode()
    assert proc.returncode == 0


def test_a_reading_that_takes_too_long_is_killed_and_the_reader_replaced(reader) -> None:
    process = reader(timeout=3.0)
    process.read(CLEAN, demo_lookup())
    stuck = process.pid
    assert stuck is not None
    os.kill(stuck, signal.SIGSTOP)  # as a reading stuck in native code
    began = time.monotonic()
    with pytest.raises(ReaderTimeout):
        process.read(CLEAN, demo_lookup())
    assert time.monotonic() - began < 10
    assert _gone(stuck)  # killed and reaped
    assert process.read(CLEAN, demo_lookup()).error is None
    assert process.pid != stuck


def test_the_job_timeout_kills_the_reader_it_interrupts(reader) -> None:
    """RQ's job timeout (SIGALRM in the worker) ends the wait; the reader, whose answer would
    otherwise be taken for the next photo's, goes with it."""
    process = reader(timeout=60.0)
    process.read(CLEAN, demo_lookup())
    stuck = process.pid
    assert stuck is not None
    os.kill(stuck, signal.SIGSTOP)
    with pytest.raises(JobTimeoutException), UnixSignalDeathPenalty(2, JobTimeoutException):
        process.read(CLEAN, demo_lookup())
    assert _gone(stuck)
    assert process.read(CLEAN, demo_lookup()).error is None and process.pid != stuck


@pytest.mark.slow
def test_the_worker_is_kept_alive_across_readings_each_shorter_than_the_interval(reader) -> None:
    """A job's photos, each read in less than KEEPALIVE_EVERY but all together in more: the
    job's deadline is still moved ahead (else the sweeper would take a live job)."""
    process = reader()
    process.read(CLEAN, demo_lookup())  # warm
    calls: list[float] = []
    process.set_keepalive(lambda: calls.append(time.monotonic()))
    began = time.monotonic()
    slow = KEEPALIVE_EVERY * 0.4
    while time.monotonic() - began < KEEPALIVE_EVERY * 1.3:
        pid = process.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # this reading takes `slow` seconds
        threading.Timer(slow, os.kill, (pid, signal.SIGCONT)).start()
        assert process.read(CLEAN, demo_lookup()).error is None
    process.set_keepalive(None)
    assert calls and calls[0] - began <= KEEPALIVE_EVERY + slow


def _huge_png() -> bytes:
    """A legitimate photo at the limits (39 MP, 19 MB of PNG): ~120 MB once decoded."""
    image = cv2.imdecode(np.frombuffer(CLEAN, np.uint8), cv2.IMREAD_COLOR)
    return cv2.imencode(".png", cv2.resize(image, (5400, 7300)))[1].tobytes()


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field}")


def _resident_mb(pid: int) -> float:
    return _status_mb(pid, "VmRSS")


def test_the_readers_memory_is_capped_and_the_worker_never_holds_the_image(reader) -> None:
    huge = _huge_png()
    uncapped = reader(memory_mb=0)
    assert uncapped.read(CLEAN, demo_lookup()).error is None
    assert uncapped.pid is not None
    needs = _status_mb(uncapped.pid, "VmPeak")  # a phone photo's reading: ~650-700 MB
    assert uncapped.read(huge, demo_lookup()).error is None  # what the cap will prevent
    assert _status_mb(uncapped.pid, "VmPeak") > needs + 60  # its decoding: +120 MB at once
    # A cap above what a phone photo's reading needs and below what the huge one's decoding
    # needs: the blow-up stops in the reader.
    process = reader(memory_mb=int(needs) + 40)
    assert process.read(CLEAN, demo_lookup()).error is None
    worker_before = _resident_mb(os.getpid())
    refused = process.read(huge, demo_lookup())
    assert refused.error == "too_many_pixels" and "Insufficient memory" in refused.error_detail
    assert _resident_mb(os.getpid()) - worker_before < 60  # the photo's bytes, not its pixels
    assert process.read(CLEAN, demo_lookup()).error is None  # the next photo is read


def test_the_reader_is_replaced_after_max_reads_and_above_max_rss(reader) -> None:
    lookup = demo_lookup()
    counted = reader(max_reads=2, max_rss_mb=0)
    pids = []
    for _ in range(3):
        counted.read(CLEAN, lookup)
        pids.append(counted.pid)
    assert pids[0] != pids[1] == pids[2]  # replaced after its second reading
    assert _gone(pids[0])
    big = reader(max_reads=0, max_rss_mb=1)  # every reader is above 1 MB after a reading
    big.read(CLEAN, lookup)
    after_first = big.pid
    big.read(CLEAN, lookup)
    assert big.pid != after_first and big.restarts == 0  # replaced, not crashed


def test_a_template_crosses_to_the_reader_once_per_catalogue_token(
    reader, demo: str, tmp_path: Path
) -> None:
    """The reader keeps the templates it was sent, per catalogue token: the next photos of
    the same form are read with it, unsent; a changed catalogue (a renamed pair: the same
    layout; a fourth pair: a new one) sends the new template, and the reader reads with it."""
    process = reader()

    def read_now() -> ReadResult:
        with session_scope() as session:
            result = process.read(CLEAN, DbLookup(session))
            _same_reading(result, read_photo(CLEAN, DbLookup(session)))  # as read here, now
        return result

    first = read_now()
    assert first.error is None and first.contest == "PPWP"
    read_now()
    read_now()
    assert process.templates_sent == 1
    with session_scope() as session:  # a new token, the same layout
        session.execute(
            update(Candidate)
            .where(Candidate.contest_code == "PPWP", Candidate.ballot_number == 1)
            .values(name="Pasangan Baru")
        )
    read_now()
    read_now()
    assert process.templates_sent == 2
    report = load_election(four_pairs(tmp_path))  # a fourth pair's box: a new version
    assert not report.errors, report.errors
    with session_scope() as session:
        now = DbLookup(session).template("PPWP", first.tps_code)
    assert now is not None and now.version != first.template_version
    fourth = read_now()  # the photo's form is now outdated: read with the new template
    assert fourth.error == "outdated_form" and now.version in fourth.error_detail
    assert process.templates_sent == 3
    process.stop()  # a new reader keeps nothing
    read_now()
    assert process.templates_sent == 4


def test_the_worker_takes_only_plain_data_and_readings_from_the_reader() -> None:
    """The reader parses untrusted images: what it sends back cannot make the worker run
    anything (a pickle naming another callable is refused)."""
    reading, worker = socket.socketpair()
    with reading, worker:
        _send(reading, ("done", ReadResult(error="blurred", fields=[]), False))
        assert _from_reader(worker)[1].error == "blurred"
        _send(reading, ("done", os.system, False))
        with pytest.raises(pickle.UnpicklingError, match="system"):
            _from_reader(worker)


# --- the worker, as the Procfile runs it -------------------------------------------------------


def _reader_pid(worker: RqWorker, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in children_of(worker.pid):
            try:
                if b"jobs.reader_process" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return pid
            except OSError:
                continue
        time.sleep(0.05)
    raise AssertionError("the worker started no reader")


def _readings() -> int:
    with session_scope() as session:
        return session.scalar(
            select(func.count()).where(OutboundMessage.sequence == READ_SEQUENCE)
        ) or 0


def _wait(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.slow
def test_worker_survives_its_reader_killed_mid_read_and_reads_once(
    client, redis_conn, telegram, media_dir, tmp_path: Path
) -> None:
    with (tmp_path / "worker.log").open("wb") as log, RqWorker(process_env(), log=log) as worker:
        first_reader = _reader_pid(worker)
        os.kill(first_reader, signal.SIGSTOP)  # the reading will hang until it is killed
        post(client, tu.contact_update(9800, USER, PHONE))
        file_id = telegram.add_file(CLEAN, "photos/ppwp_clean.jpg")
        post(client, tu.photo_update(9801, USER, file_id=file_id, file_size=len(CLEAN)))
        started = StartedJobRegistry(PHOTO, connection=redis_conn)
        # The download job reads the photo it keeps (jobs.media); a retry is a reading job.
        _wait(lambda: any(j.startswith(("media-", "photo-"))
                          for j in started.get_job_ids(cleanup=False)),
              60, "the photo job never started")
        [(execution, deadline)] = redis_conn.zrange(started.key, 0, -1, withscores=True)
        # While the reader reads, the worker keeps the job's deadline ahead (every 10 s), so
        # the sweeper never takes a job from a worker that is alive, only waiting.
        threading.Event().wait(KEEPALIVE_EVERY + 2)
        assert redis_conn.zscore(started.key, execution) > deadline + KEEPALIVE_EVERY / 2
        os.kill(first_reader, signal.SIGKILL)

        _wait(lambda: _readings() == 1, 90, "the photo was never read")  # the retry, 5 s on
        second_reader = _reader_pid(worker)
        threading.Event().wait(1.0)
        assert worker.proc is not None and worker.proc.poll() is None  # the worker lived
        assert second_reader != first_reader and _gone(first_reader)
        assert _readings() == 1  # answered once
    text = (tmp_path / "worker.log").read_text()
    assert "ReaderCrashed" in text or "the reader died" in text


def test_the_reader_reads_on_one_thread(reader, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader reads one photo at a time on one core: neither OpenBLAS nor OpenCV starts a
    thread pool in it (they only added CPU per photo), whatever the worker's environment."""
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    process = reader()
    assert process.read(CLEAN, demo_lookup()).error is None
    status = Path(f"/proc/{process.pid}/status").read_text()
    [threads] = [line.split()[1] for line in status.splitlines() if line.startswith("Threads:")]
    assert threads == "1"
