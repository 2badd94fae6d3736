"""Forcing a race between two transactions, without timing: the first (the holder) has
written and holds its locks, uncommitted, until the second (the racer, a thread) is stopped
by them; then the holder commits and the racer goes on from what it had read before.

- PostgreSQL: the racer's backend is blocked by the holder's (`pg_blocking_pids`). Each look
  is a transaction of its own: `pg_stat_activity` is a snapshot taken once per transaction,
  so a watcher that looks again in the same transaction never sees a wait that began after
  its first look.
- SQLite has no row locks and cannot tell who waits for its write lock: the racer is let go
  as it sends its first statement that needs the write lock (`BEGIN IMMEDIATE`, an INSERT,
  UPDATE or DELETE); whatever it read before, it read before the holder committed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

from relay.db import get_engine

_BLOCKED_BY = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE CAST(:holder AS integer) = ANY(pg_blocking_pids(pid))"
)
_WRITES = ("BEGIN IMMEDIATE", "INSERT", "UPDATE", "DELETE")


def backend_pid(session: Session) -> int:
    """The PostgreSQL backend that runs `session`'s transaction."""
    return int(session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def race_against(holder: Session, racer: threading.Thread) -> None:
    """Start `racer` and return once it waits for what `holder` locked (see the module).

    Fails if the racer ends without waiting: then it did not race the holder at all."""
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        pid = backend_pid(holder)
        racer.start()
        watcher = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with watcher:
            while racer.is_alive():
                if watcher.execute(_BLOCKED_BY, {"holder": pid}).scalar_one() >= 1:
                    return
                time.sleep(0.002)
        raise AssertionError("the racer ended without waiting for the holder's locks")
    writing = threading.Event()
    _watched[engine] = (racer, writing)
    if not event.contains(engine, "before_cursor_execute", _before_execute):
        event.listen(engine, "before_cursor_execute", _before_execute)
    racer.start()
    while racer.is_alive() and not writing.wait(0.01):
        pass
    if not writing.is_set():
        raise AssertionError("the racer ended without writing: it did not race the holder")


# SQLite: the racer being watched, per engine. The listener stays (inert when its thread is
# not the racer): removing it while the racer's thread runs statements is not thread-safe.
_watched: dict[Engine, tuple[threading.Thread, threading.Event]] = {}


def _before_execute(conn: Connection, _cursor: object, statement: str, *_args: object) -> None:
    racer, writing = _watched.get(conn.engine, (None, None))
    if threading.current_thread() is racer and statement.lstrip().upper().startswith(_WRITES):
        assert writing is not None
        writing.set()


def twice_at_once(job: Callable[[], object]) -> tuple[object, object]:
    """`job` run twice at once (jobs_racing): an RQ job run again while its first run goes on."""
    return jobs_racing(job, job)


def jobs_racing(
    first_job: Callable[[], object], second_job: Callable[[], object]
) -> tuple[object, object]:
    """Two jobs that open their own sessions, in two threads: the first done up to its COMMIT
    and paused there, its locks held, until the second waits for them (race_against); then
    the first commits. Returns what each returned, or the exception it raised."""
    paused, release = threading.Event(), threading.Event()
    held: list[Session] = []
    results: dict[str, object] = {}

    def run(name: str, job: Callable[[], object]) -> None:
        try:
            results[name] = job()
        except Exception as error:  # what the job raised is its result here
            results[name] = error

    first = threading.Thread(target=run, args=("first", first_job))
    second = threading.Thread(target=run, args=("second", second_job))

    def pause(session: Session) -> None:  # after the audit's own before_commit
        if threading.current_thread() is first and not held:
            held.append(session)
            paused.set()
            release.wait(30)

    event.listen(Session, "before_commit", pause)
    try:
        first.start()
        assert paused.wait(30), "the first job never reached its commit"
        race_against(held[0], second)
    finally:
        release.set()
        first.join(30)
        second.join(30)
        event.remove(Session, "before_commit", pause)
    return results["first"], results["second"]
