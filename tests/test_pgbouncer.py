"""The app behind PgBouncer in transaction pooling, the production shape for many web and
worker processes on one PostgreSQL (docs/PRODUCTION.md): officers' conversations from several
threads through a pool of two server connections. With DATABASE_POOLER=pgbouncer it works;
without, PgBouncer refuses the connection (startup `options`) — the trap the setting exists for.
Needs PostgreSQL on 127.0.0.1:5432 (skipped without) and Debian's pgbouncer (`make test`)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from relay.config import ROOT
from relay.migrate import upgrade
from tests.support import ThrowawayDatabase, throwaway_postgres

pytestmark = pytest.mark.slow

SERVER = os.environ.get("PGBOUNCER_TEST_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
WORKLOAD = """
import sys, threading
from sqlalchemy import func, select
from relay.db import session_scope
from relay.models import Officer, Submission
from tests.support import converse, load_demo

load_demo(sys.argv[1])
with session_scope() as session:
    officers = session.execute(
        select(Officer.phone, Officer.tps_code).where(Officer.tps_code.is_not(None))
    ).all()[:8]
errors = []

def officer_evening(phone, tps):
    try:
        for votes in (100, 101, 102):
            converse(phone, f"PPWP {tps} 01={votes} 02=50 03=30 SAH={votes + 80} TS=2")
            converse(phone, "STATUS")
        converse(phone, "YA")
    except Exception as exc:  # reported below, with its type
        errors.append(f"{type(exc).__name__}: {exc}")

threads = [threading.Thread(target=officer_evening, args=o) for o in officers]
for thread in threads: thread.start()
for thread in threads: thread.join()
with session_scope() as session:
    confirmed = session.scalar(
        select(func.count()).where(Submission.status == "confirmed")
    )
print(f"officers={len(officers)} confirmed={confirmed} errors={len(errors)}")
for error in errors[:3]: print(error)
sys.exit(1 if errors else 0)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_answers() -> bool:
    url = make_url(SERVER)
    try:
        socket.create_connection((url.host or "127.0.0.1", url.port or 5432), 2).close()
    except OSError:
        return False
    return True


@pytest.fixture
def database() -> Iterator[ThrowawayDatabase]:
    if not _postgres_answers():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    with throwaway_postgres(SERVER, prefix="relay_bouncer") as urls:
        upgrade(urls.owner_url, urls.url)
        yield urls


@pytest.fixture
def bouncer(database: ThrowawayDatabase, tmp_path: Path) -> Iterator[int]:
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        pytest.fail("pgbouncer is not installed: run `make test`, which installs it")
    port = _free_port()
    workdir = tmp_path / "pgbouncer"
    workdir.mkdir()
    # auth_type=trust: PgBouncer takes the listed users; the server (trust on 127.0.0.1 here,
    # as on the development machines) checks them again.
    roles = {make_url(url).username for url in (database.url, database.owner_url)}
    (workdir / "users.txt").write_text("".join(f'"{role}" ""\n' for role in sorted(roles)))
    (workdir / "pgbouncer.ini").write_text(
        "[databases]\n* = host=127.0.0.1 port=5432\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        "auth_type = trust\nauth_file = users.txt\n"
        "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 100\n"
        "server_reset_query =\nlogfile = pgbouncer.log\n"
    )
    command = [binary, "pgbouncer.ini"]
    if os.geteuid() == 0:  # pgbouncer refuses to run as root
        user = pwd.getpwnam("postgres")
        for path in (tmp_path, workdir, *workdir.iterdir()):
            os.chown(path, user.pw_uid, user.pw_gid)
        command = [binary, "-u", "postgres", "pgbouncer.ini"]
    proc = subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "pgbouncer did not listen"
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _through(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def _workload(app_url: str, pooler: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": app_url, "DATABASE_POOLER": pooler}
    env.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-c", WORKLOAD, app_url], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=240,
    )


def test_officers_through_a_transaction_pooling_pgbouncer(database, bouncer: int) -> None:
    app_url = _through(database.url, bouncer)
    done = _workload(app_url, "pgbouncer")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "officers=8 confirmed=8 errors=0" in done.stdout, done.stdout
    # The lock timeout reaches connections that could not ask for it at startup.
    engine = create_engine(app_url, connect_args={"prepare_threshold": None})
    with engine.connect() as conn:
        assert conn.scalar(text("SHOW lock_timeout")) == "10s"
    engine.dispose()


def test_without_the_setting_pgbouncer_refuses_the_app(database, bouncer: int) -> None:
    done = _workload(_through(database.url, bouncer), "")
    assert done.returncode != 0
    assert "unsupported startup parameter" in done.stdout + done.stderr
