"""A stored message is processed or surfaced, always.

The database goes down for longer than RQ's own retries of a job (real faults: PostgreSQL
refuses every connection to the database, SQLite's file cannot be opened); the jobs end in
RQ's failed registry. Once the database is back, the sweeper copies each job's error to its
row, waits its backoff, and drives the message again: every tally is answered exactly once.
A message whose job keeps failing is marked failed and listed in the console as needing
attention, with its error, where an operator drives it again (audited).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from channels.base import Incoming
from jobs.queues import FAILURE_TTL, INBOUND, PHOTO, QUEUE_NAMES
from jobs.redrive import cause
from jobs.sweeper import BATCH, sweep
from relay import inbox
from relay.db import get_engine, session_scope
from relay.models import AuditEntry, InboundMessage, OutboundMessage
from tests.support import drain, make_database_unreachable, post_twilio_sms
from tests.web_support import csrf_from, logged_in

pytestmark = pytest.mark.slow

OFFICERS = {  # demo roster: kpps officer → their TPS
    "+6281234567801": "3576011001001",
    "+6281234567802": "3576011001002",
    "+6281234567803": "3576011001003",
}
LATER = timedelta(hours=1)  # past any backoff of the default REDRIVE_INTERVALS


def tally(tps: str) -> str:
    return f"PPWP {tps} 01=120 02=95 03=40 SAH=255 TS=5"


@contextmanager
def database_down(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """PostgreSQL: the server refuses every connection to the database and ends the open
    ones. SQLite: the database cannot be opened (the URL names a directory)."""
    url = make_url(db)
    if url.get_backend_name() == "sqlite":
        make_database_unreachable(db, tmp_path, monkeypatch)
        try:
            yield
        finally:
            monkeypatch.setenv("DATABASE_URL", db)
        return
    # The server's administrator (TEST_DATABASE_URL): the app role may neither close the
    # database nor end other roles' connections.
    server = make_url(os.environ.get("TEST_DATABASE_URL") or db)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = url.database
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def run_until_failed(connection: redis.Redis) -> None:
    """Real (forking) RQ workers run every job through all of RQ's retries: each scheduled
    retry is queued at once instead of after its interval (5 s, 30 s, 120 s)."""
    queues = [Queue(name, connection=connection) for name in QUEUE_NAMES]
    for _ in range(20):
        Worker(queues, connection=connection).work(burst=True, logging_level="CRITICAL")
        waiting = False
        for queue in queues:
            registry = ScheduledJobRegistry(queue=queue)
            for job_id in registry.get_job_ids():
                job = Job.fetch(job_id, connection=connection)
                registry.remove(job)
                queue.enqueue_job(job)
                waiting = True
        if not waiting:
            return
    raise AssertionError("jobs still retried after 20 rounds")


def inbound_rows() -> list[InboundMessage]:
    with session_scope() as session:
        return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def receipts(twilio, to: str) -> list[str]:
    return [str(m["Body"]) for m in twilio.sent_messages() if m["To"] == to]


def test_database_down_longer_than_the_retries_then_every_tally_is_answered_once(
    client, redis_conn, twilio, db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for phone, tps in OFFICERS.items():
        assert post_twilio_sms(client, phone, tally(tps)).status_code == 200
    with database_down(db, tmp_path, monkeypatch):
        run_until_failed(redis_conn)
    assert FailedJobRegistry(INBOUND, connection=redis_conn).count == 3
    first = inbound_rows()[0]
    # Redis keeps a failed job for hours (the database keeps its error), not for 7 days.
    for key in (f"rq:job:inbound-{first.id}", f"rq:results:inbound-{first.id}"):
        assert 0 < redis_conn.ttl(key) <= FAILURE_TTL <= 24 * 3600, key

    now = datetime.now(UTC)
    seen = sweep(min_age_seconds=0, now=now).inbound
    assert (seen.failed, seen.enqueued, seen.redriven, seen.gave_up) == (3, 0, 0, 0)
    assert FailedJobRegistry(INBOUND, connection=redis_conn).count == 0
    for row in inbound_rows():
        assert (row.status, row.job_failures) == ("received", 1)
        assert row.retry_at is not None and row.error
    waiting = sweep(min_age_seconds=0, now=now).inbound  # its backoff is not over
    assert (waiting.failed, waiting.enqueued, waiting.redriven) == (0, 0, 0)

    driven = sweep(min_age_seconds=0, now=now + LATER).inbound
    assert (driven.redriven, driven.enqueued, driven.failed) == (3, 0, 0)
    again = sweep(min_age_seconds=0, now=now + LATER).inbound
    assert (again.redriven, again.already_queued) == (0, 3)  # queued once, counted once
    drain(redis_conn)

    assert {row.status for row in inbound_rows()} == {"processed"}
    for phone, tps in OFFICERS.items():
        [receipt] = receipts(twilio, phone)
        assert f"PPWP TPS {tps}" in receipt
    assert sweep(min_age_seconds=0, now=now + 2 * LATER).inbound.acted is False


def test_a_message_that_keeps_failing_needs_attention_until_an_operator_drives_it(
    client, redis_conn, twilio, db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDRIVE_LIMIT", "2")
    phone, tps = next(iter(OFFICERS.items()))
    assert post_twilio_sms(client, phone, tally(tps)).status_code == 200
    now = datetime.now(UTC)
    with database_down(db, tmp_path, monkeypatch):
        run_until_failed(redis_conn)
    assert sweep(min_age_seconds=0, now=now).inbound.failed == 1
    assert sweep(min_age_seconds=0, now=now + LATER).inbound.redriven == 1
    with database_down(db, tmp_path, monkeypatch):
        run_until_failed(redis_conn)
    assert sweep(min_age_seconds=0, now=now + 2 * LATER).inbound.gave_up == 1
    [row] = inbound_rows()
    assert (row.status, row.job_failures) == ("failed", 2)
    assert "OperationalError" in cause(row.error)
    assert sweep(min_age_seconds=0, now=now + 3 * LATER).inbound.acted is False  # left alone
    assert receipts(twilio, phone) == []

    page = client.get("/console/attention")
    assert page.status_code == 302 and "/console/login" in page.location  # login first
    logged_in(client)
    page = client.get("/console/attention")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for shown in ("twilio", phone, tally(tps), "OperationalError"):
        assert shown in html, shown
    retry_url = f"/console/attention/{row.id}/retry"
    assert client.post(retry_url).status_code == 400  # no CSRF token
    answer = client.post(retry_url, data={"csrf_token": csrf_from(html)})
    assert answer.status_code == 302
    drain(redis_conn)

    [row] = inbound_rows()
    assert row.status == "processed"
    [receipt] = receipts(twilio, phone)
    assert f"PPWP TPS {tps}" in receipt
    with session_scope() as session:
        [entry] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "inbound_redriven")
        ).all()
    assert (entry.actor, entry.entity, entry.entity_id) == ("operator:ani", "inbound", str(row.id))
    assert entry.detail["job_failures"] == 2
    assert "OperationalError" not in client.get("/console/attention").get_data(as_text=True)


def test_the_sweeper_reaches_every_waiting_message_not_only_the_first_batch(db, redis_conn) -> None:
    """Stored while Redis was unreachable: more rows than one batch wait for a job."""
    count = BATCH + 5
    messages = [
        Incoming(
            channel="simulator",
            provider_id=f"backlog-{i}",
            sender="+6281234567801",
            text="STATUS",
            payload="{}",
        )
        for i in range(count)
    ]
    inbox.store_all(get_engine(db), messages)
    result = sweep(min_age_seconds=0).inbound
    assert (result.enqueued, result.already_queued) == (count, 0)
    assert redis_conn.llen(f"rq:queue:{INBOUND}") == count
    again = sweep(min_age_seconds=0).inbound
    assert (again.enqueued, again.already_queued) == (0, count)


def test_a_reply_whose_send_job_keeps_failing_needs_attention_until_an_operator_sends_it(
    client, redis_conn, twilio, db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same trap for replies: a send job that fails through RQ's retries is driven again
    by the sweeper, and after REDRIVE_LIMIT failed jobs the reply is marked failed."""
    monkeypatch.setenv("REDRIVE_LIMIT", "1")
    phone, tps = next(iter(OFFICERS.items()))
    post_twilio_sms(client, phone, tally(tps))
    Worker([Queue(INBOUND, connection=redis_conn)], connection=redis_conn).work(
        burst=True, logging_level="CRITICAL"
    )
    with database_down(db, tmp_path, monkeypatch):
        run_until_failed(redis_conn)
    assert sweep(min_age_seconds=0).outbound.gave_up == 1
    with session_scope() as session:
        [reply] = session.scalars(select(OutboundMessage)).all()
    assert (reply.status, reply.error_kind, reply.job_failures) == ("failed", "crashed", 1)
    assert "OperationalError" in (reply.last_error or "")
    assert receipts(twilio, phone) == []

    logged_in(client)
    html = client.get("/console/attention").get_data(as_text=True)
    assert reply.text in html and "OperationalError" in html
    retry_url = f"/console/attention/replies/{reply.id}/retry"
    assert client.post(retry_url, data={"csrf_token": csrf_from(html)}).status_code == 302
    drain(redis_conn)
    [receipt] = receipts(twilio, phone)
    assert f"PPWP TPS {tps}" in receipt
    with session_scope() as session:
        [entry] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "outbound_redriven")
        ).all()
    assert (entry.actor, entry.entity_id) == ("operator:ani", str(reply.id))


@pytest.mark.parametrize(("stage", "jobs_before"), [("media", 1), ("photo", 2)])
def test_a_photo_whose_job_failed_is_read_and_answered_once_the_database_is_back(
    client,
    redis_conn,
    telegram,
    media_dir,
    db,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stage: str,
    jobs_before: int,
) -> None:
    """The same trap after the conversation: the photo's download (media) or reading
    (photo) job fails through RQ's retries; the sweeper drives that stage again."""
    from tests.fakes import telegram_updates as tu
    from tests.test_photo_flow import GOLDEN, PHONE, USER, post

    post(client, tu.contact_update(9300, USER, PHONE))
    drain(redis_conn)
    content = (GOLDEN / "ppwp_clean.jpg").read_bytes()
    file_id = telegram.add_file(content, "photos/ppwp_clean.jpg")
    post(client, tu.photo_update(9301, USER, file_id=file_id, file_size=len(content)))
    queues = [Queue(name, connection=redis_conn) for name in (INBOUND, PHOTO)]
    Worker(queues, connection=redis_conn).work(
        burst=True, max_jobs=jobs_before, logging_level="CRITICAL"
    )
    with database_down(db, tmp_path, monkeypatch):
        run_until_failed(redis_conn)
    now = datetime.now(UTC)
    assert getattr(sweep(min_age_seconds=0, now=now), stage).failed == 1
    assert getattr(sweep(min_age_seconds=0, now=now + LATER), stage).redriven == 1
    drain(redis_conn)

    registered, ack, reading = telegram.sent_messages(USER)  # each once
    assert "Terdaftar" in registered["text"]
    assert ack["text"].startswith("Foto diterima")
    assert reading["caption"].startswith("Dibaca dari foto PPWP TPS 3576011001001")
    photo_row = inbound_rows()[-1]
    assert (photo_row.status, photo_row.follow_up) == ("processed", None)
    later = sweep(min_age_seconds=0, now=now + 2 * LATER)
    assert not any(counts.acted for counts in later.counts().values()), later
