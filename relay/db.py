"""Engine and session factory.

Engines are cached per (URL, process id): RQ forks a work horse per job, and a pooled
connection must never cross a fork.
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from relay.config import load_settings

# PostgreSQL fails a statement that waits more than 10 s for a lock, as SQLite's busy_timeout
# does, and gives up connecting after 5 s: a webhook then answers 503 within Twilio's 15 s
# (the provider delivers again) instead of holding a web worker until gunicorn kills it.
POSTGRES_CONNECT_ARGS = {"connect_timeout": 5, "options": "-c lock_timeout=10s"}
# Through PgBouncer in transaction pooling (DATABASE_POOLER=pgbouncer): consecutive
# transactions of one client run on different server connections, so psycopg must not prepare
# statements server-side (a prepared name would be missing, or already taken by another
# client), and PgBouncer refuses the `options` startup parameter. The lock timeout then comes
# from the database itself (`ALTER DATABASE … SET lock_timeout`, set by relay.db_roles).
PGBOUNCER_CONNECT_ARGS = {"connect_timeout": 5, "prepare_threshold": None}

# A pooled PostgreSQL connection back in the pool for less than this is used without a ping,
# unless the server has written to it since (see _check_on_checkout).
PING_WHEN_IDLE_FOR = 5.0  # seconds
_RETURNED_AT = "relay.returned_at"

_engines: dict[tuple[str, int], Engine] = {}
_autocommit_engines: dict[tuple[str, int], Engine] = {}
_factories: dict[Engine, sessionmaker[Session]] = {}


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: DATABASE_URL) in this process."""
    url = url or load_settings().database_url
    key = (url, os.getpid())
    engine = _engines.get(key)
    if engine is None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 10})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = _postgres_engine(url)
        _engines[key] = engine
    return engine


def _postgres_engine(url: str, **options: Any) -> Engine:
    pooled = load_settings().database_pooler == "pgbouncer"
    connect_args = PGBOUNCER_CONNECT_ARGS if pooled else POSTGRES_CONNECT_ARGS
    engine = create_engine(url, connect_args=connect_args, **options)
    _check_connections_on_checkout(engine)
    return engine


def _autocommit_engine(url: str | None = None) -> Engine:
    """PostgreSQL: a second engine of the process whose connections are in autocommit from
    the start (autocommit()'s). Switching a pooled connection to autocommit on checkout and
    back on return cost ~0.1 ms of client CPU per block, two blocks per send; the sender
    uses one connection of this pool, the other engine only when a send fails."""
    url = url or load_settings().database_url
    key = (url, os.getpid())
    engine = _autocommit_engines.get(key)
    if engine is None:
        engine = _autocommit_engines[key] = _postgres_engine(url, isolation_level="AUTOCOMMIT")
    return engine


def _check_connections_on_checkout(engine: Engine) -> None:
    """What pool_pre_ping is for (a connection the server dropped while it sat in the pool is
    replaced, not handed to a job that then fails), without its round trip on every checkout
    (~0.15 ms of client CPU, 2–3 per text message). A server that ends a connection (restart,
    pg_terminate_backend, idle timeout) writes the reason to it, so the socket has input while
    it should have none: then, or after PING_WHEN_IDLE_FOR idle (a peer gone silently), the
    connection is pinged as pre_ping would, and a failed ping invalidates the pool."""
    dialect = engine.dialect

    def returned(_dbapi_connection: Any, record: Any, *_: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    def check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        at = record.info.get(_RETURNED_AT)
        if at is not None and time.monotonic() - at < PING_WHEN_IDLE_FOR:
            if not dbapi_connection.closed and not _has_input(dbapi_connection.fileno()):
                return  # in use a moment ago and nothing said since
        if not dialect._do_ping_w_event(dbapi_connection):
            raise exc.InvalidatePoolError()

    event.listen(engine, "connect", returned)  # fresh: pre_ping does not ping those either
    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", check)


def _has_input(fd: int) -> bool:
    """Whether the socket has input, without waiting (poll: select() refuses fds ≥ 1024,
    which a busy process's connections can reach)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def dispose_engines() -> None:
    """Close every pooled connection of this process (tests, shutdown)."""
    for key, engine in list(_engines.items()):
        if key[1] == os.getpid():
            engine.dispose()
        del _engines[key]
        _factories.pop(engine, None)
    for key, engine in list(_autocommit_engines.items()):
        if key[1] == os.getpid():
            engine.dispose()
        del _autocommit_engines[key]


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    engine = get_engine(url)
    factory = _factories.get(engine)
    if factory is None:  # one per engine: a sessionmaker per call costs ~0.1 ms a request
        factory = _factories[engine] = sessionmaker(bind=engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def autocommit(url: str | None = None) -> Iterator[Connection]:
    """A pooled connection for work done one statement at a time (the send job), each
    statement committed by the end of the block. On PostgreSQL each commits on its own,
    without the BEGIN and COMMIT round trips of a transaction (~0.1 ms of client CPU each).
    On SQLite the block is one transaction, as before: switching pysqlite to autocommit and
    back costs a PRAGMA per checkout, more than the transaction (measured)."""
    engine = get_engine(url)
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    with _autocommit_engine(url).connect() as connection:
        yield connection
