"""Engine and session factory.

Engines are cached per (URL, process id): RQ forks a work horse per job, and a pooled
connection must never cross a fork.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
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

_engines: dict[tuple[str, int], Engine] = {}
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
            pooled = load_settings().database_pooler == "pgbouncer"
            connect_args = PGBOUNCER_CONNECT_ARGS if pooled else POSTGRES_CONNECT_ARGS
            engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        _engines[key] = engine
    return engine


def dispose_engines() -> None:
    """Close every pooled connection of this process (tests, shutdown)."""
    for key, engine in list(_engines.items()):
        if key[1] == os.getpid():
            engine.dispose()
        del _engines[key]
        _factories.pop(engine, None)


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
