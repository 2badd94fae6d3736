"""The pool hands a job no connection the server has already ended (relay.db)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import NullPool, create_engine, event, make_url, text

from relay import db as relay_db
from relay.db import get_engine, session_scope


def _backend_pid() -> int:
    with session_scope() as session:
        return int(session.scalar(text("SELECT pg_backend_pid()")))


def _end_backend(url: str, pid: int) -> None:
    """pg_terminate_backend, then wait until the backend has exited (as after a restart)."""
    other = create_engine(url, poolclass=NullPool)
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(500):
            gone = connection.execute(
                text("SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = :pid)"),
                {"pid": pid},
            ).scalar()
            connection.rollback()
            if gone:
                break
            time.sleep(0.01)
    other.dispose()


@pytest.fixture
def postgres(db: str) -> str:
    if make_url(db).get_backend_name() != "postgresql":
        pytest.skip("SQLite has no server to end the connection")
    return db


@pytest.mark.parametrize("idle_for", [0.0, 3600.0], ids=["pinged when idle", "used just now"])
def test_a_connection_the_server_ended_in_the_pool_is_replaced(
    postgres: str, idle_for: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ended while it sat in the pool (a restart, an idle timeout): the next transaction gets
    a new connection instead of failing, whether the pooled one was idle long enough to be
    pinged or was used a moment ago (the server's goodbye is waiting on its socket)."""
    monkeypatch.setattr(relay_db, "PING_WHEN_IDLE_FOR", idle_for)
    get_engine().dispose()
    first = _backend_pid()
    _end_backend(postgres, first)
    second = _backend_pid()
    assert second != first
    assert _backend_pid() == second  # and the new one stays in the pool


def _autocommit_backend_pid() -> tuple[int, bool]:
    with relay_db.autocommit() as connection:
        pid = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
        return pid, connection.connection.driver_connection.autocommit


def test_the_send_jobs_autocommit_pool_replaces_an_ended_connection_too(postgres: str) -> None:
    """autocommit() has its own pool, in autocommit from each connection's start (no switch
    per checkout): it gets the same check at checkout, and the other pool stays in
    transactions."""
    first, in_autocommit = _autocommit_backend_pid()
    assert in_autocommit
    assert _autocommit_backend_pid()[0] == first  # kept in its pool
    _end_backend(postgres, first)
    second, in_autocommit = _autocommit_backend_pid()
    assert second != first and in_autocommit
    raw = get_engine().raw_connection()
    try:
        assert raw.driver_connection.autocommit is False
    finally:
        raw.close()


def test_statements_in_an_autocommit_block_commit_on_their_own(postgres: str) -> None:
    """No transaction stays open after a statement (a send's claim must survive a worker
    killed during the provider's call), and the block takes nothing from the other pool."""
    checkouts: list[object] = []
    engine = get_engine()

    def checked_out(*args: object) -> None:
        checkouts.append(args)

    event.listen(engine, "checkout", checked_out)
    try:
        with relay_db.autocommit() as connection:
            connection.execute(text("SELECT 1"))
            status = connection.connection.driver_connection.info.transaction_status
    finally:
        event.remove(engine, "checkout", checked_out)
    assert status.name == "IDLE"
    assert checkouts == []
