"""`make run` in a terminal, stopped with Ctrl-C the way a trainer stops it: the system comes
up, and the stop is quiet — no "Error 130" or "Interrupt" from make, no migration chatter, no
traceback — and the private redis-server it started is gone."""

from __future__ import annotations

import os
import pty
import select
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
import requests

from relay.config import ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read_available(fd: int, into: bytearray, seconds: float) -> bool:
    """Read what the terminal shows for up to `seconds`; False once it is closed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side of the terminal is gone
            return False
        if not chunk:
            return False
        into.extend(chunk)
    return True


def _redis_pid() -> int | None:
    try:
        return int((ROOT / "var" / "redis.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_run_starts_and_stops_quietly_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    # The embedded defaults, as on a fresh machine: none of the test session's own database,
    # Redis or provider settings (a MIGRATION_DATABASE_URL left from them would migrate the
    # session's database instead of this one).
    env = {
        key: value for key, value in os.environ.items()
        if key not in {
            "REDIS_URL", "TELEGRAM_BOT_TOKEN", "MAKEFLAGS", "MAKELEVEL", "MIGRATION_DATABASE_URL",
            "TEST_DATABASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SMS_GATEWAY_SECRET",
        }
    }
    database = f"sqlite:///{tmp_path / 'relay.db'}"
    env.update({
        "DATABASE_URL": database,
        "MIGRATION_DATABASE_URL": database,
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "VENV": str(Path(sys.executable).parent.parent),
        "WEB_ACCESS_LOG": "",
    })
    pid, fd = pty.fork()
    if pid == 0:  # the child: `make run` in the foreground of its own terminal
        os.chdir(ROOT)
        os.execvpe("make", ["make", "--no-print-directory", "run"], env)
    shown = bytearray()
    try:
        deadline = time.monotonic() + 120
        while b"Stop with Ctrl-C" not in shown:
            assert time.monotonic() < deadline, shown.decode(errors="replace")
            assert _read_available(fd, shown, 0.5), shown.decode(errors="replace")
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # not up yet
                pass
            assert time.monotonic() < deadline, shown.decode(errors="replace")
            _read_available(fd, shown, 0.3)
        redis_pid = _redis_pid()
        assert redis_pid is not None and _alive(redis_pid)

        os.write(fd, b"\x03")  # Ctrl-C typed at the terminal: SIGINT to the foreground group
        while _read_available(fd, shown, 1.0):
            assert time.monotonic() < deadline + 30, shown.decode(errors="replace")
        _, status = os.waitpid(pid, 0)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(fd)

    text = shown.decode(errors="replace")
    # A shell says nothing of a program stopped by Ctrl-C; make must not either.
    assert (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT) or (
        os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    ), (status, text)
    for noise in ("Error 130", "Interrupt", "make: ***", "Traceback", "INFO  [alembic"):
        assert noise not in text, text
    assert "TPS Relay is starting" in text
    stopped_by = time.monotonic() + 10  # redis-server takes a moment to exit after SIGTERM
    while _alive(redis_pid) and time.monotonic() < stopped_by:
        time.sleep(0.1)
    assert not _alive(redis_pid), "the private redis-server outlived make run"
    assert not (ROOT / "var" / "runtime.env").exists()
