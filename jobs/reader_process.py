"""A long-lived reader process per photo worker: photos are read there, one after another,
instead of in a work horse forked per photo job (the fork of a ~400 MB worker, RQ's horse
set-up and a cold statement cache cost ~120 ms per photo, the reading itself ~50 ms).

The worker (jobs.worker.RelayWorker) starts one reader, `python -m jobs.reader_process`,
warm once (OpenCV, the digit model, the reader's lazy imports), and talks to it over a
socket pair in frames (8-byte length + pickle): the worker sends a photo's bytes and what
the officer may send; the reader asks back for the election's templates and voter counts
(the worker answers from the job's own database session, so the reader holds no database or
Redis connection) and answers with the reading (ocr.reader.ReadResult).

The isolation a horse gave is kept:
- the reader dies (segfault, os._exit, kill -9, the OOM killer): that attempt fails with
  ReaderCrashed, which RQ retries like a killed horse (jobs.queues.CRASH_RETRY); the worker
  lives on and starts a fresh reader for the next photo;
- a reading that takes longer than PHOTO_READER_TIMEOUT: the reader is killed and restarted,
  the attempt fails with ReaderTimeout (retried the same way); the job's own timeout (RQ's
  SIGALRM) also kills a reader it interrupts;
- memory: the reader's address space is capped (PHOTO_READER_MEMORY_MB, RLIMIT_AS: a
  blow-up fails that reading with MemoryError in the reader, never grows the worker), and
  the reader is replaced after PHOTO_READER_MAX_READS readings or once its resident memory
  is above PHOTO_READER_MAX_RSS_MB.
Anything that leaves an exchange unfinished (an exception, a signal) kills the reader, so a
late answer can never be taken for the next photo's.

A process that did not start a reader (the CLI, a forked horse, a test's worker) reads in
process: `read` is ocr.reader.read_photo there.
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, ClassVar

from ocr.templates import FormLookup

log = logging.getLogger(__name__)

# How the worker reads a photo job: "process" (a long-lived reader, this module) or "fork"
# (a work horse forked per photo job, as before).
MODE_ENV = "PHOTO_READER"
HEADER = struct.Struct(">Q")
START_TIMEOUT = 120.0  # the reader's imports and warm-up, on a loaded machine
KEEPALIVE_EVERY = 10.0  # while waiting for a reading, `keepalive` is called this often
LOOKUPS = frozenset({"template", "registered_voters"})  # ocr.templates.FormLookup
# Templates a reader keeps (jobs.reader_process.TemplatesHeld): every contest × dapil or
# area of a national election fits, as in the worker (ocr.templates.MAX_BUILT).
MAX_HELD = 8192
# The reader's environment: each numeric library with one thread (set before numpy loads).
SINGLE_THREADED = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class ReaderError(RuntimeError):
    """The reading could not be done in the reader process (the attempt fails)."""


class ReaderCrashed(ReaderError):
    """The reader died in the middle of a reading."""


class ReaderTimeout(ReaderError):
    """The reading took longer than PHOTO_READER_TIMEOUT; the reader was killed."""


@dataclass(frozen=True)
class Limits:
    timeout: float = 60.0  # seconds for one reading
    memory_mb: int = 1536  # the reader's address space (RLIMIT_AS); 0: no cap
    max_reads: int = 2000  # readings before the reader is replaced; 0: never
    max_rss_mb: int = 700  # resident memory after a reading above which it is replaced; 0: never

    @classmethod
    def from_env(cls) -> Limits:
        env = os.environ
        return cls(
            timeout=float(env.get("PHOTO_READER_TIMEOUT") or cls.timeout),
            memory_mb=int(env.get("PHOTO_READER_MEMORY_MB") or cls.memory_mb),
            max_reads=int(env.get("PHOTO_READER_MAX_READS") or cls.max_reads),
            max_rss_mb=int(env.get("PHOTO_READER_MAX_RSS_MB") or cls.max_rss_mb),
        )


def mode() -> str:
    """"process" unless PHOTO_READER=fork (a forked horse per photo job)."""
    return "fork" if os.environ.get(MODE_ENV, "").strip().lower() == "fork" else "process"


# -- framing ---------------------------------------------------------------------------------


def _send(sock: socket.socket, message: object) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(HEADER.pack(len(payload)))
    sock.sendall(payload)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(min(size - len(chunks), 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the socket")
        chunks += chunk
    return bytes(chunks)


def _recv_payload(sock: socket.socket) -> bytes:
    (size,) = HEADER.unpack(_recv_exact(sock, HEADER.size))
    return _recv_exact(sock, size)


class _ReadingUnpickler(pickle.Unpickler):
    """What the worker accepts from the reader: plain data and the reading's own classes,
    nothing that could run code in the worker (the reader parses untrusted images)."""

    ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("ocr.reader", "ReadResult"),
        ("ocr.reader", "FieldReading"),
        ("ocr.arith", "Check"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"the reader sent a {module}.{name}")
        return super().find_class(module, name)


def _from_reader(sock: socket.socket) -> Any:
    import io

    return _ReadingUnpickler(io.BytesIO(_recv_payload(sock))).load()


# -- the worker's side -----------------------------------------------------------------------


class ReaderProcess:
    """The worker's handle on its reader: `read` sends one photo and waits for its reading."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits.from_env()
        self.owner = os.getpid()
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.ready = False
        self.reads = 0  # readings done by this handle, every reader counted
        self.restarts = 0  # readers replaced after a crash, a timeout or an error
        # Called at least every KEEPALIVE_EVERY seconds while readings are awaited (the
        # worker keeps its job's deadline in RQ's registry ahead with it): set_keepalive.
        self.keepalive: Callable[[], None] | None = None
        self._kept_alive = 0.0
        self.held = TemplatesHeld()  # what the current reader keeps
        self.templates_sent = 0  # templates pickled to a reader, every reader counted

    def set_keepalive(self, keepalive: Callable[[], None] | None) -> None:
        """Call `keepalive` every KEEPALIVE_EVERY seconds spent waiting for the reader from
        now on (a job's photos, one reading after another), or no more (None)."""
        self.keepalive, self._kept_alive = keepalive, time.monotonic()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        """Start a reader (it warms up while the worker goes on)."""
        if self.proc is not None:
            return
        from relay.config import ROOT

        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = {**os.environ, "PHOTO_READER_FD": str(theirs.fileno())}
        # One photo at a time on one core: the numeric libraries' thread pools only add work
        # (OpenBLAS's threads doubled a reading's CPU on a shared 2-core box; bench/e2e.py).
        for name in SINGLE_THREADED:
            env[name] = "1"
        limits = self.limits
        env.update(
            PHOTO_READER_MEMORY_MB=str(limits.memory_mb),
            PHOTO_READER_MAX_READS=str(limits.max_reads),
            PHOTO_READER_MAX_RSS_MB=str(limits.max_rss_mb),
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jobs.reader_process"],
            cwd=ROOT,
            env=env,
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            # Its own session: a Ctrl-C or a SIGTERM to the worker's group leaves a reading
            # to finish (as RQ's horse, in its own group); it ends when the worker's end of
            # the socket closes, or with the worker (PR_SET_PDEATHSIG).
            start_new_session=True,
        )
        theirs.close()
        self.sock, self.ready = mine, False
        self.held = TemplatesHeld()  # a new reader keeps nothing yet

    def stop(self) -> None:
        """Kill the reader (if any) and reap it."""
        proc, sock = self.proc, self.sock
        self.proc, self.sock, self.ready = None, None, False
        if sock is not None:
            sock.close()
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()

    def read(
        self,
        data: bytes,
        lookup: FormLookup,
        expect_contest: str | None = None,
        expect_tps: Collection[str] | None = None,
    ):  # type: ignore[no-untyped-def]  # -> ocr.reader.ReadResult
        """The reading of `data`, done in the reader. Raises ReaderError when the reader
        died, timed out or failed; it is then replaced, and the next photo goes to a new one.
        A reader found dead before the photo is sent (killed while idle, e.g. by the OOM
        killer) is replaced first: that photo is read, not failed and retried."""
        self._replace_if_dead()
        self.start()
        try:
            result, recycle = self._exchange(data, lookup, expect_contest, expect_tps)
        except ReaderError as exc:
            code = self._reap()
            self.restarts += 1
            log.warning("photo reader %s: %s (exit %s); starting a new one", self.pid, exc, code)
            self.stop()
            self.start()
            raise
        except BaseException:  # a job timeout, a lookup's database error, a stop: no half
            self.stop()  # exchange is left for the next photo
            raise
        self.reads += 1
        if recycle:
            self.stop()  # it exits by itself; the next starts warming now
            self.start()
        return result

    def _replace_if_dead(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is None:
            return
        self.restarts += 1
        log.warning("photo reader %s died while idle (exit %s); starting a new one",
                    proc.pid, proc.returncode)
        self.stop()

    def _reap(self) -> int | None:
        """The reader's exit code (negative: the signal) once it is gone; killed if not."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        return proc.wait()

    def _exchange(self, data, lookup, expect_contest, expect_tps):  # type: ignore[no-untyped-def]
        sock = self.sock
        assert sock is not None
        started = time.monotonic()
        if not self.ready:
            self._await(sock, started + START_TIMEOUT, "start")
            self.ready = True
        deadline = time.monotonic() + self.limits.timeout
        tps = None if expect_tps is None else list(expect_tps)
        self._send_by(sock, deadline, ("read", data, expect_contest, tps))
        while True:
            message = self._await(sock, deadline, "read")
            kind = message[0]
            if kind == "lookup":
                _, name, args = message
                if name not in LOOKUPS:
                    raise ReaderError(f"the reader asked for {name!r}")
                value = getattr(lookup, name)(*args)
                if name == "template" and value is not None:
                    answer = self.held.answer(_catalogue_token(lookup), value)
                    self.templates_sent += answer[0] == "template"
                else:
                    answer = ("value", value)
                self._send_by(sock, deadline, answer)
            elif kind == "done":
                return message[1], message[2]
            elif kind == "failed":
                raise ReaderError(f"the reading failed in the reader: {message[1]}")
            else:
                raise ReaderError(f"the reader sent {kind!r}")

    def _send_by(self, sock: socket.socket, deadline: float, message: object) -> None:
        """Send `message` to the reader before `deadline`; a closed socket or a send that
        times out is the reader's failure."""
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            _send(sock, message)
        except (OSError, EOFError) as exc:
            raise self._failure(exc) from exc

    def _await(self, sock: socket.socket, deadline: float, what: str) -> tuple:  # type: ignore[type-arg]
        """The reader's next message, calling `keepalive` while waiting."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                limit = START_TIMEOUT if what == "start" else self.limits.timeout
                raise ReaderTimeout(f"no answer to the {what} within {limit:.0f} s")
            try:
                readable = _readable(sock, min(left, KEEPALIVE_EVERY))
                self._keep_alive()
                if not readable:
                    continue
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                message = _from_reader(sock)
            except (OSError, EOFError) as exc:
                raise self._failure(exc) from exc
            if what == "start":
                if message != ("ready",):
                    raise ReaderError(f"the reader started with {message!r}")
            return message  # type: ignore[no-any-return]

    def _keep_alive(self) -> None:
        """Call `keepalive` if KEEPALIVE_EVERY seconds have passed since it last was."""
        if self.keepalive is None or time.monotonic() - self._kept_alive < KEEPALIVE_EVERY:
            return
        self._kept_alive = time.monotonic()
        try:
            self.keepalive()
        except Exception as exc:  # Redis away: the reading goes on
            log.warning("photo reader: keepalive failed: %s", exc)

    def _failure(self, exc: BaseException) -> ReaderError:
        if isinstance(exc, TimeoutError):
            return ReaderTimeout(f"no answer within {self.limits.timeout:.0f} s")
        return ReaderCrashed(f"the reader died ({type(exc).__name__}: {exc})")


class TemplatesHeld:
    """The worker's record of the templates its reader keeps, so that a template crosses the
    socket once per catalogue token (pickling one and unpickling it in the reader cost more
    than the rest of the exchange; a party contest's, hundreds of fields, far more).

    A template is known by its catalogue token, contest, dapil or area and version: the
    version hashes the layout, not the names, so a renamed candidate (a new token) sends it
    again. The worker alone decides what the reader keeps, and tells it (`clear`): a new
    token, or MAX_HELD reached, empties both sides. The record stays true because any
    exchange left unfinished replaces the reader, and a new reader starts with a new record
    (ReaderProcess.start). A lookup with no token (StaticLookup, nothing loaded since the
    tables were emptied) sends the template every time, keeping nothing."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.keys: set[tuple[str, str, str | None, str]] = set()

    def answer(self, token: str | None, template: Any) -> tuple:  # type: ignore[type-arg]
        """The reply to the reader's `template` lookup: ("held", key) when it keeps the
        template, ("template", key, template, clear) to keep it (after emptying what it
        keeps when `clear`), ("value", template) to use it once."""
        if token is None:
            return ("value", template)
        key = (token, template.contest_code, template.dapil, template.version)
        if token == self.token and key in self.keys:
            return ("held", key)
        clear = token != self.token or len(self.keys) >= MAX_HELD
        if clear:
            self.token, self.keys = token, set()
        self.keys.add(key)
        return ("template", key, template, clear)


def _catalogue_token(lookup: FormLookup) -> str | None:
    """The catalogue token the lookup's templates are built under (ocr.templates.DbLookup);
    None when it has none."""
    token = getattr(lookup, "catalogue_token", None)
    return token() if callable(token) else None


def _readable(sock: socket.socket, timeout: float) -> bool:
    import select

    ready, _, _ = select.select([sock], [], [], timeout)
    return bool(ready)


_reader: ReaderProcess | None = None


def start_reader(limits: Limits | None = None) -> ReaderProcess:
    """This process's reader, started if needed: from now on `read` reads there."""
    global _reader
    if _reader is None or _reader.owner != os.getpid():
        _reader = ReaderProcess(limits)
    _reader.start()
    return _reader


def current() -> ReaderProcess | None:
    """The reader this process started (not one inherited through a fork)."""
    if _reader is not None and _reader.owner == os.getpid():
        return _reader
    return None


def stop_reader() -> None:
    global _reader
    reader = current()
    if reader is not None:
        reader.stop()
    _reader = None


def read(
    data: bytes,
    lookup: FormLookup,
    expect_contest: str | None = None,
    expect_tps: Collection[str] | None = None,
):  # type: ignore[no-untyped-def]  # -> ocr.reader.ReadResult
    """Read a photo in this process's reader if it started one, else here."""
    reader = current()
    if reader is not None:
        return reader.read(data, lookup, expect_contest, expect_tps)
    from ocr.reader import read_photo

    return read_photo(data, lookup, expect_contest=expect_contest, expect_tps=expect_tps)


# -- the reader's side -----------------------------------------------------------------------


class _AskWorker:
    """A FormLookup answered by the worker, cached for one reading (as DbLookup is per job);
    templates are kept across readings in `held`, as the worker says (TemplatesHeld)."""

    def __init__(self, sock: socket.socket, held: dict[tuple[object, ...], object]) -> None:
        self.sock = sock
        self.held = held
        self.cache: dict[tuple[str, tuple[object, ...]], object] = {}

    def _ask(self, name: str, *args: object) -> Any:
        key = (name, args)
        if key not in self.cache:
            _send(self.sock, ("lookup", name, args))
            answer = pickle.loads(_recv_payload(self.sock))  # from the worker: trusted
            kind = answer[0]
            if kind == "held":
                value = self.held[answer[1]]  # missing: a bug; the reading fails, reader goes
            elif kind == "template":
                _, kept, value, clear = answer
                if clear:
                    self.held.clear()
                self.held[kept] = value
            else:
                value = answer[1]
            self.cache[key] = value
        return self.cache[key]

    def template(self, contest_code: str, tps_code: str | None = None):  # type: ignore[no-untyped-def]
        return self._ask("template", contest_code, tps_code)

    def registered_voters(self, tps_code: str) -> int | None:
        return self._ask("registered_voters", tps_code)  # type: ignore[no-any-return]


def warm_up() -> None:
    """What the first reading would otherwise import and initialise: done once by the reader
    before its first photo, and by the worker for the horses it forks (PHOTO_READER=fork)."""
    import cv2
    import numpy
    import numpy.ma
    import PIL.Image
    import pyzbar.pyzbar  # noqa: F401
    import reedsolo  # noqa: F401

    import ocr.annotate
    import ocr.reader
    import ocr.strip  # noqa: F401
    from ocr import classifier, formrules

    PIL.Image.init()
    # OpenCV's own thread pool (one thread per core) split each warp and filter across the
    # cores: on a box where every core has its worker, ~10% more CPU per photo, nothing faster
    # (and threads in a process that forks horses, PHOTO_READER=fork, can deadlock them).
    cv2.setNumThreads(1)
    cv2.getTextSize("0", cv2.FONT_HERSHEY_SIMPLEX, 1.0, 2)
    # The digit model's weights, and its first run (numpy's matrix code): ~150 ms.
    classifier.load().probabilities(numpy.zeros((12, 28, 28), numpy.float32))
    formrules.reserve_ballots(300)  # imports relay.ballots and with it SQLAlchemy: ~800 ms


def _resident_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _die_with_parent() -> None:
    """SIGKILL this process when the worker that started it dies (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(fd: int, limits: Limits) -> None:
    """The reader's loop: read photos until the worker closes its end or it is time to go."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides when a reading stops
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sock = socket.socket(fileno=fd)
    warm_up()
    if limits.memory_mb > 0:
        cap = limits.memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        _serve_photos(sock, limits)
    except (EOFError, ConnectionError):
        # The worker closed its end: between photos (EOF; a reset when it never read our
        # "ready", as a worker stopped before its first photo) or during a reading (a broken
        # pipe when the reading is sent). Its going is the reader's cue, not an error.
        return


def _serve_photos(sock: socket.socket, limits: Limits) -> None:
    from ocr.reader import read_photo

    _send(sock, ("ready",))
    reads = 0
    held: dict[tuple[object, ...], object] = {}  # templates, as the worker says
    while True:
        message = pickle.loads(_recv_payload(sock))  # from the worker: trusted
        _, data, expect_contest, expect_tps = message
        try:
            result = read_photo(
                data, _AskWorker(sock, held), expect_contest=expect_contest, expect_tps=expect_tps
            )
        except Exception as exc:  # a MemoryError under the cap, a bug: this reader goes
            _send(sock, ("failed", f"{type(exc).__name__}: {exc}"))
            return
        reads += 1
        recycle = (limits.max_reads > 0 and reads >= limits.max_reads) or (
            limits.max_rss_mb > 0 and _resident_mb() > limits.max_rss_mb
        )
        _send(sock, ("done", result, recycle))
        if recycle:
            return


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    serve(int(os.environ["PHOTO_READER_FD"]), Limits.from_env())
