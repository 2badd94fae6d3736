"""relay.inbox: the webhook's one-statement store, on the pooled DBAPI connection.

The rows must be exactly what the ORM would have written (the jobs read them through the
ORM), a redelivery must come back as the first row, and a connection the server dropped
must not fail the next webhook.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from channels.base import Incoming
from relay.db import get_engine, session_scope
from relay.inbox import store_all, store_then_read
from relay.models import InboundMessage


def incoming(provider_id: str, **fields: object) -> Incoming:
    values: dict[str, object] = {
        "channel": "telegram",
        "provider_id": provider_id,
        "sender": "+6281234500001",
        "text": "PPWP 3576011001001 01=10",
        "payload": '{"update_id": 1}',
    }
    values.update(fields)
    return Incoming(**values)  # type: ignore[arg-type]


def test_rows_read_back_through_the_orm_as_written(db: str) -> None:
    photo = [{"file_id": "AgAD", "content_type": "image/jpeg", "size": 123_456}]
    contact = {"kind": "contact", "phone": "+6281234500001", "user_id": 77}
    before = datetime.now(UTC)
    [(with_media, new1), (plain, new2)] = store_all(
        get_engine(db),
        [
            incoming("1", text="", media=photo, event=contact),
            incoming("2", text="STATUS ‘kutip’ 🗳️"),
        ],
    )
    assert new1 and new2 and plain == with_media + 1
    with session_scope() as session:
        first = session.get(InboundMessage, with_media)
        second = session.get(InboundMessage, plain)
        assert first is not None and second is not None
        assert (first.media, first.event, first.status) == (photo, contact, "received")
        assert (second.media, second.event, second.text) == ([], None, "STATUS ‘kutip’ 🗳️")
        received = second.received_at
        received = received if received.tzinfo else received.replace(tzinfo=UTC)
        assert before - timedelta(seconds=1) <= received <= datetime.now(UTC)
        # What the jobs and the sweeper ask for finds them.
        waiting = session.scalars(
            select(InboundMessage.id).where(InboundMessage.status == "received")
        )
        assert sorted(waiting) == [with_media, plain]


def test_a_redelivery_gets_the_first_rows_id(db: str) -> None:
    engine = get_engine(db)
    [(first, created)] = store_all(engine, [incoming("42")])
    assert created
    results = store_all(engine, [incoming("42", text="changed"), incoming("43")])
    assert results[0] == (first, False)
    assert results[1][1] is True
    # Same provider id on another channel is another message.
    [(other, created)] = store_all(engine, [incoming("42", channel="twilio")])
    assert created and other != first
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 3
        stored = session.get(InboundMessage, first)
        assert stored is not None and stored.text == "PPWP 3576011001001 01=10"


def test_a_connection_the_server_dropped_does_not_fail_the_next_message(db: str) -> None:
    """PostgreSQL restarted (or an idle connection was cut): the pooled connection is dead.
    The pool notices at checkout and opens a new one, so no webhook answers 503 for it."""
    if make_url(db).get_backend_name() != "postgresql":
        pytest.skip("SQLite has no server to drop the connection")
    engine = get_engine(db)
    store_all(engine, [incoming("1")])  # one connection now sits in the pool
    with engine.connect() as admin:
        admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    [(_, created)] = store_all(engine, [incoming("2")])
    assert created


def test_the_read_after_the_store_leaves_the_pooled_connection_as_it_found_it(db: str) -> None:
    """On PostgreSQL the read after the commit runs in autocommit; the connection must go
    back to the pool in transactions again, or the next ORM session would commit each
    statement on its own."""
    engine = get_engine(db)

    def read(cursor, _mark: str) -> int:
        cursor.execute("SELECT 1")
        return cursor.fetchone()[0]

    results, found = store_then_read(engine, [incoming("71")], read)
    assert found == 1 and results[0][1]
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        if make_url(db).get_backend_name() == "postgresql":
            assert driver.autocommit is False
            assert driver.info.transaction_status.name in ("IDLE", "INTRANS")  # ping's own
        else:
            assert driver.isolation_level is not None  # pysqlite's default: transactions
    finally:
        raw.close()
    with session_scope(db) as session:  # an ORM session's rollback still undoes its writes
        session.execute(text("DELETE FROM inbound_messages"))
        session.rollback()
    with session_scope(db) as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1
