"""Faults, on real processes: a worker killed with SIGKILL in the middle of a job, Redis
stopped during traffic, a provider that throttles, fails and times out, a locked or missing
database, and one message delivered five times at once. Every message is kept; each is
answered exactly once (except where the provider accepted a send whose answer never came
back: see test_send_accepted_but_answer_lost_is_sent_again).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import redis
import requests
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from jobs.queues import INBOUND, outbound_queue
from jobs.sweeper import reclaim_abandoned, sweep
from relay.db import session_scope
from relay.models import InboundMessage, OutboundMessage, Submission
from tests.conftest import PUBLIC_URL, TWILIO_SID, TWILIO_SMS_NUMBER, TWILIO_TOKEN
from tests.fakes.twilio_signing import realistic_sms_payload, sign
from tests.live import Gunicorn, RedisServer, RqWorker, process_env
from tests.support import (
    database_write_lock,
    drain,
    make_database_unreachable,
    post_twilio_sms,
)

pytestmark = pytest.mark.slow

OFFICER = "+6281234567801"  # kpps of TPS 3576011001001 in the demo roster
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
MESSAGES_JSON = "/2010-04-01/Accounts/"


def count(model) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def outbound_rows() -> list[OutboundMessage]:
    with session_scope() as session:
        return list(session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def sends(twilio) -> list[str]:
    """Bodies of the messages the fake Twilio accepted (what officers' phones receive)."""
    return [str(m["Body"]) for m in twilio.sent_messages()]


# --- a worker killed in the middle of a job ---------------------------------------------------


def test_worker_killed_mid_send_runs_the_job_again_and_replies_once(
    client, redis_conn, twilio, tmp_path: Path
) -> None:
    # The first send hangs at the provider (and is then refused): the job is in flight.
    twilio.fail_next(1, status=503, delay=30, match=MESSAGES_JSON)
    assert post_twilio_sms(client, OFFICER, TALLY).status_code == 200
    with (tmp_path / "worker.log").open("wb") as log, RqWorker(process_env(), log=log):
        sender = RqWorker(process_env(), log=log, process="sender").start()
        try:
            twilio.wait_for(lambda r: r.path.startswith(MESSAGES_JSON), timeout=30)
            sender.kill_hard()  # SIGKILL: no cleanup, no goodbye to Redis
        finally:
            sender.stop()
    started = StartedJobRegistry(outbound_queue("twilio"), connection=redis_conn)
    [in_flight] = outbound_rows()
    assert started.get_job_ids(cleanup=False) == [f"outbound-{in_flight.id}"]
    # Right after the kill the job may still look alive (its deadline is ≥ 50 s away): the
    # sweeper leaves it. Once its deadline is that near (40 s after the last heartbeat, in
    # production), the sweeper hands it back; here the horizon is widened instead of waiting.
    assert reclaim_abandoned() == 0
    assert reclaim_abandoned(horizon=120) == 1
    assert started.get_job_ids(cleanup=False) == []
    drain(redis_conn)  # the retry comes after CRASH_RETRY's first interval (5 s)

    [receipt] = sends(twilio)
    assert receipt.startswith("Diterima PPWP TPS 3576011001001")
    [reply] = outbound_rows()
    assert (reply.status, reply.attempts) == ("sent", 2)  # the killed try counted
    assert count(Submission) == 1


def test_a_live_worker_keeps_its_job(client, redis_conn, twilio, tmp_path: Path) -> None:
    """The sweeper must never take a job from a worker that is alive, only slow."""
    twilio.fail_next(1, status=500, delay=3, match=MESSAGES_JSON)
    post_twilio_sms(client, OFFICER, "STATUS")
    with (
        (tmp_path / "worker.log").open("wb") as log,
        RqWorker(process_env(), log=log),
        RqWorker(process_env(), log=log, process="sender"),
    ):
        twilio.wait_for(lambda r: r.path.startswith(MESSAGES_JSON), timeout=30)
        assert sweep(min_age_seconds=0).reclaimed == 0
        twilio.wait_for(lambda r: r.path.startswith(MESSAGES_JSON), count=2, timeout=30)
    assert len(sends(twilio)) == 1
    [reply] = outbound_rows()
    assert (reply.status, reply.attempts) == ("sent", 2)


# --- Redis stopped during traffic --------------------------------------------------------------


def test_redis_down_during_traffic_loses_nothing_and_doubles_nothing(
    client, redis_conn, twilio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Contract: a webhook answers 200 once the message is stored, whether or not Redis took
    the job. The database is the record, Redis only a to-do list the sweeper can rebuild; and
    Twilio does not redeliver an SMS webhook answered 5xx unless told to (connection
    overrides), so refusing would lose the message rather than delay it."""
    server = RedisServer(tmp_path).start()
    try:
        monkeypatch.setenv("REDIS_URL", server.url)
        conn = redis.Redis.from_url(server.url)
        # A: processed, their replies queued in Redis; B: stored and queued, not processed.
        for i in range(3):
            post_twilio_sms(client, OFFICER, "STATUS", sid=f"SM{'a' * 31}{i}")
        _work_inbound_only(conn)
        assert conn.llen(f"rq:queue:{outbound_queue('twilio')}") == 3
        for i in range(2):
            post_twilio_sms(client, OFFICER, "STATUS", sid=f"SM{'b' * 31}{i}")

        server.stop()  # no append-only file: every queued job is gone with it
        for i in range(3):  # C: arrive while Redis is down
            response = post_twilio_sms(client, OFFICER, "STATUS", sid=f"SM{'c' * 31}{i}")
            assert response.status_code == 200
        assert post_twilio_sms(client, OFFICER, "STATUS", sid=f"SM{'b' * 31}0").status_code == 200
        assert client.get("/healthz").status_code == 503
        assert count(InboundMessage) == 8

        server.start()  # back, empty
        assert conn.llen(f"rq:queue:{INBOUND}") == 0
        result = sweep(min_age_seconds=0)
        assert (result.inbound.enqueued, result.outbound.enqueued, result.unreachable) == (
            5,
            3,
            False,
        )
        again = sweep(min_age_seconds=0)  # as the sweeper does every 15 s: nothing doubled
        assert (again.inbound.enqueued, again.inbound.already_queued) == (0, 5)
        assert (again.outbound.enqueued, again.outbound.already_queued) == (0, 3)
        assert conn.llen(f"rq:queue:{INBOUND}") == 5
        assert conn.llen(f"rq:queue:{outbound_queue('twilio')}") == 3
        drain(conn)
    finally:
        server.stop()
    assert len(sends(twilio)) == 8
    rows = outbound_rows()
    assert len(rows) == 8 and {r.status for r in rows} == {"sent"}
    assert len({r.inbound_id for r in rows}) == 8


def _work_inbound_only(conn: redis.Redis) -> None:
    from rq import Queue, Worker

    Worker([Queue(INBOUND, connection=conn)], connection=conn).work(
        burst=True, logging_level="WARNING"
    )


# --- the provider throttles, fails, times out --------------------------------------------------


def test_throttled_then_failing_then_timing_out_is_delivered_once(
    client, redis_conn, twilio
) -> None:
    """429 with Retry-After, then 500, then no answer within the client's 10 s (a request the
    provider never processed): each is retried; the officer gets the reply once."""
    twilio.fail_next(1, 429, headers={"Retry-After": "1"}, match=MESSAGES_JSON)
    twilio.fail_next(1, 500, match=MESSAGES_JSON)
    twilio.fail_next(1, 503, delay=12, match=MESSAGES_JSON)
    post_twilio_sms(client, OFFICER, TALLY)
    drain(redis_conn, timeout=60)
    assert [r.status for r in twilio.requests] == [429, 500, 503, 201]
    [receipt] = sends(twilio)
    assert receipt.startswith("Diterima PPWP TPS 3576011001001")
    [reply] = outbound_rows()
    assert (reply.status, reply.attempts, reply.error_kind) == ("sent", 4, None)


def test_send_accepted_but_answer_lost_is_sent_again(client, redis_conn, twilio) -> None:
    """The provider accepted the message but its answer never arrived (timeout): we cannot
    tell this from a request that never arrived, and Twilio's Messages API has no
    idempotency key, so the send is retried and the officer may see the same text twice.
    That is the chosen contract (at least once): a duplicate receipt with the same code is
    harmless, a missing one makes the officer resend or call the help desk. The SMS gateway
    protocol carries our id ("out-<id>"), so a gateway can drop the duplicate itself."""
    twilio.fail_next(1, status=None, delay=12, match=MESSAGES_JSON)  # accepted, answer late
    post_twilio_sms(client, OFFICER, TALLY)
    drain(redis_conn, timeout=60)
    first, second = sends(twilio)
    assert first == second and first.startswith("Diterima PPWP TPS 3576011001001")
    [reply] = outbound_rows()
    assert (reply.status, reply.attempts) == ("sent", 2)


# --- the database locked or gone ---------------------------------------------------------------


def test_locked_database_answers_503_and_stores_nothing(client, redis_conn, twilio, db) -> None:
    """Another connection holds the write lock longer than we wait for it (SQLite's
    busy_timeout, PostgreSQL's lock_timeout: 10 s each): 503, so the provider may deliver
    again, and no row half-written; once the lock is gone the same delivery is stored."""
    sid = "SM" + "d" * 32
    with database_write_lock(db):
        response = post_twilio_sms(client, OFFICER, TALLY, sid=sid)
    assert response.status_code == 503
    assert count(InboundMessage) == 0
    assert post_twilio_sms(client, OFFICER, TALLY, sid=sid).status_code == 200
    assert count(InboundMessage) == 1
    drain(redis_conn)
    assert len(sends(twilio)) == 1


def test_unreachable_database_answers_503(
    client, twilio, db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_database_unreachable(db, tmp_path, monkeypatch)
    assert post_twilio_sms(client, OFFICER, TALLY).status_code == 503
    assert client.get("/healthz").status_code == 503
    monkeypatch.setenv("DATABASE_URL", db)
    assert count(InboundMessage) == 0


# --- one message delivered five times at once --------------------------------------------------


def test_five_concurrent_redeliveries_give_one_submission_and_one_reply(
    client, redis_conn, twilio, tmp_path: Path
) -> None:
    form = realistic_sms_payload(OFFICER, TWILIO_SMS_NUMBER, TALLY, TWILIO_SID, "SM" + "e" * 32)
    headers = {"X-Twilio-Signature": sign(TWILIO_TOKEN, PUBLIC_URL + "/webhooks/twilio", form)}
    barrier = threading.Barrier(5)
    statuses: list[int] = []

    with (tmp_path / "web.log").open("wb") as log:
        env = process_env(WEB_CONCURRENCY="3", WEB_ACCESS_LOG="")
        with Gunicorn(env, log=log) as web:
            # Warm every worker up, so the five requests really meet in the database.
            for _ in range(6):
                requests.get(web.url + "/healthz", timeout=10)

            def deliver() -> None:
                barrier.wait()
                answer = requests.post(
                    web.url + "/webhooks/twilio", data=form, headers=headers, timeout=20
                )
                statuses.append(answer.status_code)

            threads = [threading.Thread(target=deliver) for _ in range(5)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert statuses == [200] * 5
    drain(redis_conn)
    assert count(InboundMessage) == 1
    assert count(Submission) == 1
    assert len(sends(twilio)) == 1


def test_simulate_says_the_database_is_unreachable(
    app_cli, db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trainer's `simulate sms` while the database is down: one clear line, no traceback."""
    make_database_unreachable(db, tmp_path, monkeypatch)
    result = app_cli.invoke(args=["simulate", "sms", "--from", OFFICER, "STATUS"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: not sent, the database is unreachable:")
    assert "Traceback" not in result.output
