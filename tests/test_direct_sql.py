"""relay.direct: a Core statement run on the driver's cursor writes and reads exactly what
`connection.execute` would, and keeps what the engine's users rely on (listeners, errors)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, event, exc, insert, select, text, update

from relay.db import get_engine, session_scope
from relay.direct import DirectStatement
from relay.models import OutboundMessage

_OUTBOUND = OutboundMessage.__table__
_INSERT = insert(_OUTBOUND).returning(_OUTBOUND.c.id)
_SENT = update(_OUTBOUND).where(_OUTBOUND.c.id == bindparam("row_id")).values(status="sent")


def _reply(text_: str, extras: dict[str, object] | None) -> dict[str, object]:
    return {
        "channel": "twilio",
        "to_address": "+6281234500001",
        "text": text_,
        "extras": extras,
        "sequence": 0,
    }


def _columns(row: OutboundMessage) -> dict[str, object]:
    return {c.key: getattr(row, c.key) for c in _OUTBOUND.columns if c.key != "id"}


def test_rows_are_what_sqlalchemy_writes(db: str) -> None:
    """Defaults computed in Python (status, attempts, created_at), JSON and NULL JSON."""
    before = datetime.now(UTC)
    direct = DirectStatement(_INSERT)
    with get_engine(db).begin() as connection:
        ids = {
            "direct": direct.run(connection, _reply("a", {"buttons": [["YA", "YA 1"]]})),
            "core": connection.execute(_INSERT, _reply("a", {"buttons": [["YA", "YA 1"]]})),
            "direct, no extras": direct.run(connection, _reply("b", None)),
            "core, no extras": connection.execute(_INSERT, _reply("b", None)),
        }
        ids = {name: result.scalar_one() for name, result in ids.items()}
    with session_scope(db) as session:
        rows = {name: _columns(session.get_one(OutboundMessage, i)) for name, i in ids.items()}
    created = {name: row.pop("created_at") for name, row in rows.items()}
    assert rows["direct"] == rows["core"]
    assert rows["direct"]["status"] == "queued" and rows["direct"]["attempts"] == 0
    assert rows["direct"]["extras"] == {"buttons": [["YA", "YA 1"]]}
    assert rows["direct, no extras"] == rows["core, no extras"]
    for at in created.values():
        assert before - timedelta(seconds=1) <= at.replace(tzinfo=UTC) <= datetime.now(UTC)


def test_rowcount_and_no_row(db: str) -> None:
    sent = DirectStatement(_SENT)
    with get_engine(db).begin() as connection:
        new_id = DirectStatement(_INSERT).run(connection, _reply("a", None)).scalar_one()
        assert sent.run(connection, {"row_id": new_id}).rowcount == 1
        missing = sent.run(connection, {"row_id": new_id + 1000})
        assert missing.rowcount == 0 and missing.row is None
        with pytest.raises(LookupError):
            missing.scalar_one()
    with session_scope(db) as session:
        assert session.get_one(OutboundMessage, new_id).status == "sent"


def test_listeners_see_it_and_postgresql_skips_the_execution_path(db: str) -> None:
    """The engine's before_cursor_execute listeners (the SQLite race tests, the SQL counts of
    bench/turn_profile.py) see every statement; on PostgreSQL SQLAlchemy's own execution
    (its before_execute) is skipped, which is the point."""
    engine = get_engine(db)
    on_cursor: list[str] = []
    on_execute: list[object] = []

    def cursor_seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        on_cursor.append(statement)

    def execute_seen(_conn, clause, *_args) -> None:  # type: ignore[no-untyped-def]
        on_execute.append(clause)

    event.listen(engine, "before_cursor_execute", cursor_seen)
    event.listen(engine, "before_execute", execute_seen)
    try:
        with engine.begin() as connection:
            DirectStatement(_INSERT).run(connection, _reply("a", None))
    finally:
        event.remove(engine, "before_cursor_execute", cursor_seen)
        event.remove(engine, "before_execute", execute_seen)
    assert [s.split()[:3] for s in on_cursor] == [["INSERT", "INTO", "outbound_messages"]]
    assert len(on_execute) == (0 if engine.dialect.name == "postgresql" else 1)


def test_errors_are_sqlalchemys(db: str) -> None:
    """A constraint broken raises SQLAlchemy's IntegrityError, as connection.execute does."""
    statement = DirectStatement(_INSERT)
    with pytest.raises(exc.IntegrityError):
        with get_engine(db).begin() as connection:
            statement.run(connection, {**_reply("a", None), "officer_id": 999_999})
    with session_scope(db) as session:  # nothing kept, and the pool's connection still works
        assert session.scalar(select(OutboundMessage.id)) is None
        assert session.execute(text("SELECT 1")).scalar_one() == 1


def test_expanding_parameters_are_refused(db: str) -> None:
    statement = DirectStatement(
        select(_OUTBOUND.c.id).where(_OUTBOUND.c.id.in_(bindparam("ids", expanding=True)))
    )
    with get_engine(db).connect() as connection:
        if connection.dialect.name != "postgresql":
            pytest.skip("SQLite runs every statement through connection.execute")
        with pytest.raises(ValueError, match="expanding"):
            statement.run(connection, {"ids": [1, 2]})
