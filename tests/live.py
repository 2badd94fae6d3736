"""Real processes for fault tests and benchmarks: a redis-server that can be stopped and
started again at the same address, the Procfile's `web` (gunicorn with gunicorn.conf.py) and
`worker` (`rq worker`), each started and stopped by the caller.

Used by tests/test_faults.py and bench/*.py; nothing here is imported by the product.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Self

import redis
import requests

from relay.config import ROOT

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_group(proc: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after `grace` seconds."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def children_of(pid: int) -> list[int]:
    """Direct children of `pid`, read from /proc (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces, so split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def rss_kib(pid: int) -> int:
    """Resident memory of `pid` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class ChildProcess:
    """A process a test or a benchmark starts and stops: `with Server(...) as server:` starts
    it (start() returns it) and stops it however the block ends. stop() by default
    terminates the process and waits for it; processes with children stop their group."""

    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RedisServer(ChildProcess):
    """A private redis-server on a unix socket in `directory`; stop() and start() keep the
    address, like a Redis host going down and coming back. No persistence by default, as
    after a crash without an append-only file: whatever was queued is gone."""

    def __init__(self, directory: Path, appendonly: bool = False) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.appendonly = appendonly
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> Self:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed: scripts/install-system-deps.sh")
        self.proc = subprocess.Popen(
            [
                exe,
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--save", "",
                "--appendonly", "yes" if self.appendonly else "no",
                "--dir", str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                client.close()
                return self
            except redis.exceptions.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)


class Gunicorn(ChildProcess):
    """The `web` process exactly as the Procfile starts it (gunicorn with gunicorn.conf.py).

    `app` overrides the WSGI app (e.g. a bare Flask app for a ceiling); `pythonpath` is
    added for it. The access log goes where gunicorn.conf.py sends it unless `env` says.
    """

    def __init__(
        self,
        env: dict[str, str],
        log: IO[bytes] | int = subprocess.DEVNULL,
        app: str | None = None,
        pythonpath: str | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.env = {**env, "PORT": str(self.port), "WEB_BIND": f"127.0.0.1:{self.port}"}
        self.log = log
        self.app = app
        self.pythonpath = pythonpath
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/healthz", timeout: float = 30.0) -> Self:
        extra = ["--pythonpath", self.pythonpath] if self.pythonpath else []
        extra += [self.app] if self.app else []
        command = " ".join([procfile_command("web"), *map(shlex.quote, extra)])
        self.proc = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(self.url + ready_path, timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                if self.proc.poll() is not None:
                    raise RuntimeError("gunicorn exited at start") from None
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("gunicorn did not answer") from None
                time.sleep(0.1)
        # Wait until every worker is up, so the first measurements are not of boot time.
        workers = int(self.env.get("WEB_CONCURRENCY", "2"))
        while len(children_of(self.proc.pid)) < workers and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def worker_pids(self) -> list[int]:
        return children_of(self.proc.pid) if self.proc else []

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc)
        self.proc = None


def procfile_command(name: str) -> str:
    """The command line of process `name` in the Procfile, as honcho would run it."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        key, sep, command = line.partition(":")
        if sep and key.strip() == name:
            return command.strip()
    raise KeyError(f"no {name!r} process in the Procfile")


class RqWorker(ChildProcess):
    """An RQ process exactly as the Procfile starts it (plus `extra_args`): `worker`
    (inbound) by default, or `sender` (the outbound queues)."""

    def __init__(
        self,
        env: dict[str, str],
        log: IO[bytes] | int = subprocess.DEVNULL,
        extra_args: tuple[str, ...] = (),
        process: str = "worker",
    ) -> None:
        self.env = env
        self.log = log
        self.extra_args = extra_args
        self.process = process
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self) -> str:
        """The shell command this worker runs: its Procfile line and the extra arguments."""
        return " ".join([procfile_command(self.process), *map(shlex.quote, self.extra_args)])

    def start(self) -> Self:
        command = self.command()
        self.proc = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill_hard(self) -> None:
        """kill -9 the worker and its work horse (which runs in its own process group), as
        when the machine or container dies in the middle of a job."""
        if self.proc is None:
            return
        horses = children_of(self.proc.pid)
        for pid in [self.proc.pid, *horses]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(5)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc, grace=20)
        self.proc = None


def process_env(**overrides: str) -> dict[str, str]:
    """This environment with the venv's bin first on PATH, plus `overrides`."""
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "RELAY_ENV": os.environ.get("RELAY_ENV", "development"),  # the built-in SECRET_KEY
        **overrides,
    }
