"""Outages that must stall nothing else, on real processes: Redis frozen (SIGSTOP) under the
webhooks, Redis killed and restarted while send retries wait in RQ's scheduler, a provider
that hangs while another channel's officers report, the database refusing writes under
/healthz. Every stored message is answered, exactly once, when the fault ends."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from channels.registry import ADAPTERS
from jobs.queues import OUTBOUND_CHANNELS, outbound_queue
from jobs.sweeper import sweep
from relay.db import session_scope
from relay.models import InboundMessage, OutboundMessage
from tests.live import RedisServer, RqWorker, process_env
from tests.support import database_write_lock, drain, post_gateway, post_twilio_sms

pytestmark = pytest.mark.slow

OFFICER = "+6281234567801"  # kpps of TPS 3576011001001 in the demo roster (Twilio SMS)
GATEWAY_OFFICER = "+6281234567802"  # kpps of TPS 3576011001002 (SMS gateway)
GATEWAY_TALLY = "PPWP 3576011001002 01=100 02=90 03=30 SAH=220 TS=4"
MESSAGES_JSON = "/2010-04-01/Accounts/"


def in_thread(call: Callable[[], Any], wait: float) -> list[Any]:
    """Run `call` in a thread and wait at most `wait` seconds; [result] or [] if not done."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    thread.join(wait)
    return result


@contextmanager
def frozen(server: RedisServer) -> Iterator[None]:
    """Redis stopped with SIGSTOP: connections are accepted, nothing is ever answered."""
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)


def inbound_statuses() -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(InboundMessage.status).order_by(InboundMessage.id)))


def outbound_rows() -> list[OutboundMessage]:
    with session_scope() as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def twilio_bodies(twilio) -> list[str]:
    return [str(m["Body"]) for m in twilio.sent_messages()]


# --- a frozen Redis under the webhooks ---------------------------------------------------------


def test_frozen_redis_does_not_hold_the_webhooks(
    client, twilio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    """Each webhook stores and answers while Redis is frozen; after one failed call the next
    requests do not even try Redis; /healthz answers at once, naming Redis. Once Redis
    thaws, the sweeper enqueues the stored messages and each is answered once."""
    server = RedisServer(tmp_path).start()
    try:
        monkeypatch.setenv("REDIS_URL", server.url)
        with frozen(server), caplog.at_level(logging.WARNING, logger="jobs"):
            for i in range(3):
                answered = in_thread(
                    lambda i=i: post_twilio_sms(client, OFFICER, "STATUS", sid=f"SM{'f' * 31}{i}"),
                    wait=2,
                )
                assert [r.status_code for r in answered] == [200]
            assert inbound_statuses() == ["received"] * 3  # stored, not yet enqueued
            [health] = in_thread(lambda: client.get("/healthz"), wait=2)
            assert health.status_code == 503
            assert health.get_json()["status"] == "degraded"
            assert health.get_json()["checks"]["database"] == "ok"
            assert health.get_json()["checks"]["redis"].startswith("error")
            skipped = [r for r in caplog.records if "Redis failed recently" in r.getMessage()]
            assert len(skipped) == 2  # only the first webhook waited for Redis
        result = sweep(min_age_seconds=0)
        assert (result.inbound.enqueued, result.unreachable) == (3, False)
        drain(redis.Redis.from_url(server.url))
    finally:
        server.stop()
    assert len(twilio_bodies(twilio)) == 3
    assert {r.status for r in outbound_rows()} == {"sent"}


# --- the database refusing writes under /healthz ---------------------------------------------


def test_healthz_reports_a_database_that_refuses_writes(client, db) -> None:
    assert client.get("/healthz").status_code == 200
    with database_write_lock(db):
        [health] = in_thread(lambda: client.get("/healthz"), wait=5)
    assert health.status_code == 503
    assert health.get_json()["status"] == "unhealthy"
    assert health.get_json()["checks"]["database"].startswith("error: writes refused")
    assert health.get_json()["checks"]["redis"] == "ok"
    assert client.get("/healthz").get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok"},
    }


# --- Redis killed and restarted while retries wait in RQ's scheduler ---------------------------


def test_scheduled_retries_run_after_redis_comes_back(
    client, twilio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply's send failed and its retry waits in RQ's ScheduledJobRegistry when Redis is
    killed (-9) and started again (from its append-only file): the retry is sent by the
    running sender, without a restart, well before RQ's 10-minute maintenance round."""
    server = RedisServer(tmp_path, appendonly=True).start()
    monkeypatch.setenv("REDIS_URL", server.url)
    conn = redis.Redis.from_url(server.url)
    env = process_env(REDIS_URL=server.url, SEND_RETRY_INTERVALS="8,8,8")
    twilio.fail_next(1, status=503, match=MESSAGES_JSON)
    try:
        with (
            (tmp_path / "worker.log").open("wb") as log,
            RqWorker(env, log=log),
            RqWorker(env, log=log, process="sender"),
        ):
            assert post_twilio_sms(client, OFFICER, "STATUS").status_code == 200
            twilio.wait_for(lambda r: r.path.startswith(MESSAGES_JSON), timeout=60)
            scheduled = ScheduledJobRegistry(outbound_queue("twilio"), connection=conn)
            _wait_until(lambda: scheduled.count == 1)
            assert server.proc is not None
            server.proc.kill()  # the scheduler's next call fails: RQ's scheduler exits
            server.proc.wait(5)
            _wait_until(lambda: _scheduler_hit_the_outage(tmp_path / "worker.log"))
            server.start()
            assert scheduled.count == 1  # the retry survived in the append-only file
            twilio.wait_for(lambda r: r.path.startswith(MESSAGES_JSON), count=2, timeout=60)
            _wait_until(lambda: [r.status for r in outbound_rows()] == ["sent"])
    finally:
        server.stop()
    assert len(twilio_bodies(twilio)) == 1
    [row] = outbound_rows()
    assert (row.status, row.attempts) == ("sent", 2)


def _scheduler_hit_the_outage(log: Path) -> bool:
    """RQ's scheduler logs its death ("raised an exception"), ours the wait."""
    text = log.read_text(errors="replace")
    return "Scheduler: Redis unreachable" in text or "raised an exception" in text


def _wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


# --- one provider hanging while another channel's officers report ---------------------------


def test_a_hanging_provider_stalls_no_other_channel(
    client, redis_conn, twilio, gateway, tmp_path: Path
) -> None:
    """Twilio accepts connections and never answers. Six Twilio replies are waiting when SMS
    gateway tallies arrive: the tallies are processed and answered while Twilio still hangs,
    and Twilio was called only until its circuit opened, not once per waiting reply. Once
    Twilio answers again, each of its replies is sent exactly once."""
    twilio.fail_next(1000, status=503, delay=60, match=MESSAGES_JSON)  # until clear()
    for i in range(6):
        assert post_twilio_sms(client, OFFICER, "STATUS", sid=f"SM{'h' * 31}{i}").status_code == 200
    env = process_env(
        SEND_TIMEOUT="2",
        SEND_CIRCUIT_FAILURES="2",
        SEND_CIRCUIT_COOLDOWN="3",
        SEND_RETRY_INTERVALS=",".join(["1"] * 20),
    )
    with (
        (tmp_path / "worker.log").open("wb") as log,
        RqWorker(env, log=log),
        RqWorker(env, log=log, process="sender"),
    ):
        twilio.wait_for(lambda r: r.path.startswith(MESSAGES_JSON), timeout=60)
        for i in range(3):
            answer = post_gateway(client, f"gw-{i}", GATEWAY_OFFICER, GATEWAY_TALLY)
            assert answer.status_code == 200
        gateway.wait_for(lambda r: r.path == "/send", count=3, timeout=90)
        called = [r for r in twilio.requests if r.path.startswith(MESSAGES_JSON)]
        assert twilio.sent_messages() == []  # Twilio still hangs
        assert len(called) <= 3  # two timeouts open the circuit; at most one probe since
        twilio.clear()  # Twilio answers again
        twilio.wait_for(lambda r: r.outcome == "handled", count=6, timeout=120)
        _wait_until(lambda: {r.status for r in outbound_rows()} == {"sent"}, timeout=60)
    receipts = [m["text"] for m in gateway.sent_messages()]
    assert len(receipts) == 3 and all("PPWP TPS 3576011001002" in t for t in receipts)
    assert len(twilio_bodies(twilio)) == 6
    rows = outbound_rows()
    assert len(rows) == 9 and len({r.inbound_id for r in rows}) == 9


def test_every_channel_has_its_outbound_queue() -> None:
    assert set(OUTBOUND_CHANNELS) == set(ADAPTERS)


def test_an_open_circuit_spares_the_waiting_replies_a_timeout_each(
    client, redis_conn, twilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six replies wait for a Twilio that hangs. Each send job runs once (a burst worker
    without scheduler): the first two time out and open the circuit, the other four are put
    back without calling Twilio and without using up an attempt. When Twilio answers again,
    after the cool-down, each reply is sent once."""
    from rq import Queue, Worker

    from jobs.queues import INBOUND

    monkeypatch.setenv("SEND_TIMEOUT", "1")
    monkeypatch.setenv("SEND_CIRCUIT_FAILURES", "2")
    twilio.fail_next(1000, status=503, delay=60, match=MESSAGES_JSON)
    for i in range(6):
        assert post_twilio_sms(client, OFFICER, "STATUS", sid=f"SM{'c' * 31}{i}").status_code == 200
    for name in (INBOUND, outbound_queue("twilio")):
        Worker([Queue(name, connection=redis_conn)], connection=redis_conn).work(
            burst=True, logging_level="WARNING"
        )
    assert len(twilio.requests) == 2
    assert sorted(r.attempts for r in outbound_rows()) == [0, 0, 0, 0, 1, 1]
    scheduled = ScheduledJobRegistry(outbound_queue("twilio"), connection=redis_conn)
    assert scheduled.count == 6  # two retries, four waiting for the circuit
    twilio.clear()
    drain(redis_conn)
    assert len(twilio_bodies(twilio)) == 6
    assert {(r.status, r.attempts <= 2) for r in outbound_rows()} == {("sent", True)}
