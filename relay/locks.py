"""Row locks for read-modify-write transactions (an operator's change to a confirmed tally).

A change reads the tally's numbers and adds the difference to the totals. Read outside a
lock, two concurrent changes both subtract the same old numbers and the totals drift. So the
row is locked before it is read, and re-read under the lock:
- PostgreSQL: `SELECT … FOR UPDATE` (the second transaction waits, then reads the committed
  numbers of the first);
- SQLite has no row locks: the transaction takes the database's write lock first
  (`BEGIN IMMEDIATE`), so no other writer commits between the read and this commit.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

T = TypeVar("T")


def take_write_lock(session: Session) -> None:
    """SQLite: make this transaction the database's writer before it reads what it changes.

    pysqlite opens a transaction only before the first INSERT/UPDATE/DELETE; one already
    open has written, so it holds the write lock already. PostgreSQL: nothing to do (rows
    are locked one by one with FOR UPDATE).
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi = connection.connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def locked(session: Session, statement: Select[Any]) -> Select[Any]:
    """`statement` as a locking read whose rows replace what the session holds: after the
    lock is granted, the object shows the committed numbers, not the ones read before."""
    take_write_lock(session)
    return locking(statement)


def locking(statement: Select[Any]) -> Select[Any]:
    """What locked() runs, for a caller that builds it once (a statement built per call
    costs more to build and key than to run): run it after take_write_lock(session)."""
    return statement.with_for_update().execution_options(populate_existing=True)


@functools.cache
def _row_lock(model: type[Any]) -> Select[Any]:
    """SELECT … WHERE <primary key> = :ident FOR UPDATE, built once per model."""
    [key] = model.__mapper__.primary_key
    return locking(select(model).where(key == bindparam("ident")))


def lock_row(session: Session, model: type[T], ident: object) -> T | None:
    """The row of `model` with primary key `ident`, locked until the transaction ends."""
    take_write_lock(session)
    return session.scalars(_row_lock(model), {"ident": ident}).one_or_none()


def read_snapshot(session: Session) -> None:
    """Make every read of this (fresh) transaction see one consistent state of the database:
    REPEATABLE READ on PostgreSQL, one read transaction on SQLite (WAL keeps its snapshot).
    For checks that compare several tables while tallies keep arriving."""
    if session.in_transaction():
        return  # too late to choose: the caller's transaction decides
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return
    connection = session.connection()
    dbapi = connection.connection.dbapi_connection
    if dbapi is not None and not dbapi.in_transaction:
        connection.exec_driver_sql("BEGIN")
