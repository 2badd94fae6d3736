"""Test helpers: drain the queues with real RQ workers, load the demo data."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq import Queue, Worker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import Connection

from jobs.queues import QUEUE_NAMES
from relay.config import ROOT


def drain(
    connection: Redis, timeout: float = 30.0, worker_class: type[Worker] = Worker
) -> None:
    """Run a real RQ worker (by default RQ's forking one) in burst mode until no job is
    queued or scheduled."""
    queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
    deadline = time.monotonic() + timeout
    while True:
        worker_class(queues, connection=connection).work(
            burst=True, with_scheduler=True, logging_level=os.environ.get("TEST_RQ_LOG", "WARNING")
        )
        scheduled = sum(ScheduledJobRegistry(queue=q).count for q in queues)
        queued = sum(q.count for q in queues)
        if not scheduled and not queued:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs still waiting after {timeout}s: {scheduled} scheduled")
        time.sleep(0.25)


def load_demo(url: str) -> None:
    from relay.loaders.election import load_election
    from relay.loaders.regions import load_regions
    from relay.loaders.roster import import_roster

    for report in (
        load_election(ROOT / "demo" / "election.yaml", url),
        load_regions(ROOT / "demo" / "regions.csv", url),
        import_roster(ROOT / "demo" / "roster.csv", url),
    ):
        assert not report.errors, report.errors


def post_twilio_sms(
    client,
    from_: str,
    body: str,
    sid: str | None = None,
    signature: str | None = None,
):
    """POST an inbound SMS exactly as Twilio would: realistic fields, valid signature."""
    from tests.conftest import PUBLIC_URL, TWILIO_SID, TWILIO_SMS_NUMBER, TWILIO_TOKEN
    from tests.fakes.twilio_signing import realistic_sms_payload, sign

    form = realistic_sms_payload(from_, TWILIO_SMS_NUMBER, body, TWILIO_SID, sid)
    if signature is None:
        signature = sign(TWILIO_TOKEN, PUBLIC_URL + "/webhooks/twilio", form)
    return client.post("/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature})


def post_gateway(
    client,
    message_id: str,
    from_: str,
    text: str,
    secret: str | None = None,
):
    import json

    from tests.conftest import GATEWAY_SECRET
    from tests.fakes.sms_gateway_server import signature

    body = json.dumps(
        {"id": message_id, "from": from_, "text": text, "received_at": "2024-02-14T13:05:00+07:00"}
    ).encode()
    return client.post(
        "/webhooks/sms-gateway",
        data=body,
        content_type="application/json",
        headers={"X-Signature": signature(secret or GATEWAY_SECRET, body)},
    )


_conversation_ids = iter(range(1, 10**9))


def converse(sender: str, text: str, channel: str = "sms-gateway"):
    """One message straight through the conversation (the worker's decision step, no
    queues); returns its single Reply. The default is a real SMS channel: the simulator's
    tallies are training tallies, never counted."""
    from bots.conversation import respond
    from bots.identity import find_officer
    from relay.db import session_scope
    from relay.models import InboundMessage
    from relay.phone import to_e164

    sender = to_e164(sender)
    with session_scope() as session:
        inbound = InboundMessage(
            channel=channel,
            provider_id=f"t-{next(_conversation_ids)}",
            sender=sender,
            text=text,
            payload="{}",
        )
        session.add(inbound)
        session.flush()
        officer = find_officer(session, channel, sender)
        inbound.officer_id = officer.id if officer else None
        replies = respond(session, inbound, officer)
    return joined(replies)


def joined(replies: list) -> Any:
    """One reply, or the numbered single-SMS parts of a long one (bots.sms) joined again: the
    parts must be marked (1/n) … (n/n) in order, and the last carries the buttons."""
    from bots.reply import Reply

    if len(replies) == 1:
        return replies[0]
    count = len(replies)
    marks = [f" ({i}/{count})" for i in range(1, count + 1)]
    assert all(r.text.endswith(m) for r, m in zip(replies, marks, strict=True)), replies
    assert all(len(r.text) <= 160 for r in replies), replies
    body = " ".join(r.text.removesuffix(m) for r, m in zip(replies, marks, strict=True))
    return Reply(body, buttons=replies[-1].buttons)


@dataclass(frozen=True)
class ThrowawayDatabase:
    """A database made for one test session or benchmark: `owner_url` owns its tables (for
    migrations and the tests' own setup), `url` is the app's role, which owns nothing."""

    url: str
    owner_url: str


@contextmanager
def throwaway_postgres(server_url: str, prefix: str = "relay_test") -> Iterator[ThrowawayDatabase]:
    """A new database on the PostgreSQL server of `server_url` (a role that may create roles
    and databases), owned by a new owner role, with a new app role to run as — the
    privileges of a real deployment (docs/DATABASE-ROLES.md). Database and roles are dropped
    afterwards: tests and benchmarks never touch a database they did not make."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from relay.db import dispose_engines

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    owner, app = f"{name}_owner", f"{name}_app"
    passwords = {role: uuid.uuid4().hex for role in (owner, app)}
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for role, password in passwords.items():
            conn.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'"))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{owner}"'))
    base = make_url(server_url).set(database=name)

    def url_of(role: str) -> str:
        url = base.set(username=role, password=passwords[role])
        return url.render_as_string(hide_password=False)

    try:
        yield ThrowawayDatabase(url=url_of(app), owner_url=url_of(owner))
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for role in passwords:
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


@contextmanager
def owner_connection(owner_url: str) -> Iterator[Connection]:
    """One transaction as the tables' owner, on a connection that is closed afterwards (no
    owner connection stays pooled where the app's role would meet it)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(owner_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def make_database_unreachable(db: str, tmp_path, monkeypatch) -> None:
    """Point DATABASE_URL where nothing answers: a directory for SQLite, a closed port for
    PostgreSQL. monkeypatch puts it back after the test (or `setenv("DATABASE_URL", db)`)."""
    from sqlalchemy.engine import make_url

    if make_url(db).get_backend_name() == "sqlite":
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}")  # a directory: cannot open
    else:
        monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/relay")


class database_write_lock:
    """Hold the inbound table's write lock from another connection (SQLite: the database's
    exclusive lock; PostgreSQL: LOCK TABLE ... ACCESS EXCLUSIVE) until the block ends."""

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        self.url = make_url(url)

    def __enter__(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            import sqlite3

            self.conn = sqlite3.connect(self.url.database or "", timeout=0)
            self.conn.execute("BEGIN EXCLUSIVE")
        else:
            import psycopg

            self.conn = psycopg.connect(
                self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            )
            self.conn.execute("LOCK TABLE inbound_messages IN ACCESS EXCLUSIVE MODE")

    def __exit__(self, *exc: object) -> None:
        self.conn.rollback()
        self.conn.close()
