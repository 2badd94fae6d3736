"""Store inbound messages exactly once per (channel, provider id): the webhook's hot path.

One `INSERT … ON CONFLICT DO NOTHING RETURNING id` per message, written once per dialect and
run on a pooled DBAPI connection, values converted by the columns' own SQLAlchemy types (so
the rows are exactly what the ORM would write). Through a Session the same statement cost
~0.5 ms more than the database took to run it — a third of a webhook. Only a redelivery
pays for a second look-up.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine

from channels.base import Incoming
from relay.models import InboundMessage, utcnow

FIELDS = ("channel", "provider_id", "sender", "text", "media", "payload", "event")  # from Incoming
COLUMNS = (*FIELDS, "status", "received_at")
T = TypeVar("T")
log = logging.getLogger(__name__)
_PLACEHOLDERS = {"sqlite": ":{}", "postgresql": "%({})s"}  # sqlite3 named, psycopg pyformat


class StorageError(Exception):
    """Nothing was stored: the database is down, locked too long or refused the rows."""


@dataclass(frozen=True)
class _Statements:
    insert: str
    find: str
    mark: str  # a named placeholder: mark.format(name)
    convert: dict[str, Callable[[Any], Any]]
    read_autocommit: bool  # the read after the commit outside a transaction (PostgreSQL)


_statements: dict[str, _Statements] = {}


def _for(engine: Engine) -> _Statements:
    dialect = engine.dialect
    found = _statements.get(dialect.name)
    if found is None:
        mark = _PLACEHOLDERS[dialect.name]
        table = InboundMessage.__table__
        convert = {}
        for name in COLUMNS:
            processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:  # JSON → text, datetime → SQLite's text format
                convert[name] = processor
        found = _statements[dialect.name] = _Statements(
            insert=(
                f"INSERT INTO inbound_messages ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join(mark.format(n) for n in COLUMNS)}) "
                "ON CONFLICT (channel, provider_id) DO NOTHING RETURNING id"
            ),
            find=(
                "SELECT id FROM inbound_messages WHERE channel = {} AND provider_id = {}".format(
                    mark.format("channel"), mark.format("provider_id")
                )
            ),
            convert=convert,
            mark=mark,
            read_autocommit=dialect.name == "postgresql",
        )
    return found


def store_all(engine: Engine, messages: list[Incoming]) -> list[tuple[int, bool]]:
    """(stored row's id, newly stored) per message, all in one transaction; a redelivery
    gets the first row's id. Raises StorageError when nothing was stored."""
    return store_then_read(engine, messages, None)[0]


def store_then_read(
    engine: Engine, messages: list[Incoming], read: Callable[[Any, str], T] | None
) -> tuple[list[tuple[int, bool]], T | None]:
    """store_all, then `read(cursor, placeholder)` once the rows are committed (the
    placeholder: how a named parameter is written, ":{}" or "%({})s"). The read's result is
    None when it failed: the rows are committed whatever it does, and the failure is logged.

    On PostgreSQL one message (every webhook's case) goes through the process's kept
    connection (`_Kept`), two round trips; otherwise, and whenever another thread holds the
    kept one, through a pooled connection (`_store_pooled`)."""
    if len(messages) == 1 and engine.dialect.name == "postgresql":
        kept = _Kept.take(engine)
        if kept is not None:
            try:
                return kept.store_then_read(messages, read)
            finally:
                _Kept.give_back()
    return _store_pooled(engine, messages, read)


class _Kept:
    """One connection per process (and engine) kept out of the pool, in autocommit, for the
    webhook's store: the INSERT is its own transaction and the read needs none, so a webhook
    costs PostgreSQL two round trips (INSERT, the read) where a pooled checkout cost five
    (the pre-ping's BEGIN and SELECT 1, INSERT, COMMIT, the read). The pre-ping's job, a
    connection the server dropped, is done here by trying the message once more through the
    pool (its pre-ping opens a new one) when the error was a disconnect; the INSERT is
    idempotent (ON CONFLICT DO NOTHING), so a second try never stores twice."""

    _lock = threading.Lock()
    _current: _Kept | None = None

    def __init__(self, engine: Engine, connection: Any) -> None:
        self.engine = engine
        self.pid = os.getpid()
        self.connection = connection

    @classmethod
    def take(cls, engine: Engine) -> _Kept | None:
        """The kept connection for `engine`, held until give_back; None when another thread
        holds it (that request goes through the pool) or no connection could be made."""
        if not cls._lock.acquire(blocking=False):
            return None
        kept = cls._current
        if kept is not None and (kept.engine is not engine or kept.pid != os.getpid()):
            if kept.pid == os.getpid():  # another database now (tests): not this one's
                kept.drop()
            kept = cls._current = None
        if kept is None:
            try:
                connection = engine.raw_connection()
                connection.commit()  # the pre-ping's transaction
                connection.driver_connection.autocommit = True
            except Exception:
                cls._lock.release()
                return None  # the pooled path tries, and says why it failed
            kept = cls._current = _Kept(engine, connection)
        return kept

    @classmethod
    def give_back(cls) -> None:
        cls._lock.release()

    def drop(self) -> None:
        if _Kept._current is self:
            _Kept._current = None
        try:
            self.connection.invalidate()
        except Exception:  # already gone with its server
            log.debug("closing the kept connection failed", exc_info=True)

    def store_then_read(
        self, messages: list[Incoming], read: Callable[[Any, str], T] | None
    ) -> tuple[list[tuple[int, bool]], T | None]:
        engine = self.engine
        dbapi_error = engine.dialect.loaded_dbapi.Error
        statements = _for(engine)
        try:
            cursor = self.connection.cursor()
            results = [_store(cursor, statements, message) for message in messages]
        except dbapi_error as exc:
            disconnected = engine.dialect.is_disconnect(exc, self.connection, None)
            self.drop()
            if disconnected:  # the server dropped it (a restart, an idle timeout): once more
                return _store_pooled(engine, messages, read)
            raise StorageError(str(exc)) from exc
        except BaseException:
            self.drop()
            raise
        if read is None:
            return results, None
        _, found = _read_after_store(read, cursor, statements.mark, dbapi_error, self.drop)
        return results, found


def _store_pooled(
    engine: Engine, messages: list[Incoming], read: Callable[[Any, str], T] | None
) -> tuple[list[tuple[int, bool]], T | None]:
    """store_all, then `read(cursor, placeholder)` on the same pooled connection once the
    rows are committed (the placeholder: how a named parameter is written, ":{}" or
    "%({})s"), so the request checks out one connection, not two (on PostgreSQL each
    checkout is a pre-ping round trip). The read's result is None when it failed: the rows
    are committed whatever it does, and the failure is logged."""
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        connection = engine.raw_connection()
    except Exception as exc:  # the pool could not connect
        raise StorageError(str(exc)) from exc
    statements = _for(engine)  # after connecting: the dialect knows its server by then
    try:
        cursor = connection.cursor()
        results = [_store(cursor, statements, message) for message in messages]
        connection.commit()
    except dbapi_error as exc:
        # A broken connection must not go back to the pool: the next request opens a new one.
        connection.invalidate()
        raise StorageError(str(exc)) from exc
    except BaseException:
        connection.invalidate()
        raise
    found = None
    if read is not None:
        # On PostgreSQL the read runs outside a transaction: psycopg would otherwise send a
        # BEGIN before it and the pool a ROLLBACK when the connection goes back, two round
        # trips of the webhook's five (ping's BEGIN and SELECT 1, INSERT, COMMIT, the read).
        driver = connection.driver_connection if statements.read_autocommit else None

        def read_outside_transaction(cursor: Any, mark: str) -> T:
            driver.autocommit = True
            found = read(cursor, mark)
            driver.autocommit = False
            return found

        usable, found = _read_after_store(
            read if driver is None else read_outside_transaction,
            cursor, statements.mark, dbapi_error, connection.invalidate,
        )
        if not usable:
            return results, None
    connection.close()  # back to the pool
    return results, found


def _read_after_store(
    read: Callable[[Any, str], T], cursor: Any, mark: str, dbapi_error: type[Exception],
    discard: Callable[[], None],
) -> tuple[bool, T | None]:
    """`read` once the rows are committed: (whether the connection is still usable, what it
    found). A database error is logged and the connection discarded (the rows stay stored);
    anything else discards it and goes on."""
    try:
        return True, read(cursor, mark)
    except dbapi_error as exc:
        log.warning("stored, but the read after the store failed: %s", exc)
        discard()
        return False, None
    except BaseException:
        discard()
        raise


def _store(cursor: Any, statements: _Statements, message: Incoming) -> tuple[int, bool]:
    values = {name: getattr(message, name) for name in FIELDS}
    values.update(status="received", received_at=utcnow())
    for name, convert in statements.convert.items():
        values[name] = convert(values[name])
    cursor.execute(statements.insert, values)
    row = cursor.fetchone()
    if row is not None:
        return row[0], True
    cursor.execute(
        statements.find, {"channel": values["channel"], "provider_id": values["provider_id"]}
    )
    row = cursor.fetchone()
    if row is None:  # cannot happen: the conflict was on exactly this key
        raise RuntimeError(f"{message.channel}/{message.provider_id} neither new nor stored")
    return row[0], False
