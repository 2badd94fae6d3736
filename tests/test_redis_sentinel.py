"""Redis through Sentinel: a real primary, a real replica and a real sentinel on this machine.

What a failover does to queued work (docs/PRODUCTION.md, "Redis"): jobs the replica had
received survive on the promoted primary; jobs it had not (asynchronous replication) are gone
from Redis but not from the database, and the sweeper queues them again. Every message is
answered exactly once either way.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from jobs import request_redis
from jobs.queues import INBOUND, redis_connection
from jobs.redis_client import client_from_url, parse_sentinel_url, rq_settings
from jobs.sweeper import sweep
from relay.db import session_scope
from relay.models import InboundMessage
from tests.support import drain, post_twilio_sms

SERVICE = "relay-test"
OFFICERS = ("+6281234567801", "+6281234567803", "+6281234567804", "+6281234567805")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(predicate, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except redis.exceptions.RedisError:
            pass
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@dataclass
class SentinelSet:
    primary_port: int
    replica_port: int
    sentinel_port: int

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{SERVICE}/0"

    def sentinel(self) -> redis.Redis:
        return redis.Redis(port=self.sentinel_port, decode_responses=True)

    def master_port(self) -> int:
        return int(self.sentinel().sentinel_get_master_addr_by_name(SERVICE)[1])


@pytest.fixture
def sentinel_set(tmp_path: Path) -> Iterator[SentinelSet]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not installed: run `make test`, which installs it")
    ports = SentinelSet(_free_port(), _free_port(), _free_port())
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    procs = [
        subprocess.Popen(
            [exe, "--port", str(ports.primary_port), "--dir", str(tmp_path), *common],
            stdout=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [exe, "--port", str(ports.replica_port), "--dir", str(tmp_path), *common,
             "--replicaof", "127.0.0.1", str(ports.primary_port)],
            stdout=subprocess.DEVNULL,
        ),
    ]
    config = tmp_path / "sentinel.conf"  # a sentinel rewrites its own file: give it one
    config.write_text(
        f"port {ports.sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor {SERVICE} 127.0.0.1 {ports.primary_port} 1\n"
        f"sentinel down-after-milliseconds {SERVICE} 1000\n"
        f"sentinel failover-timeout {SERVICE} 5000\n"
    )
    procs.append(
        subprocess.Popen([exe, str(config), "--sentinel"], stdout=subprocess.DEVNULL)
    )
    try:
        replica = redis.Redis(port=ports.replica_port)
        _wait(lambda: replica.info("replication")["master_link_status"] == "up", "replication")
        _wait(lambda: ports.master_port() == ports.primary_port, "the sentinel")
        _wait(
            lambda: int(ports.sentinel().sentinel_master(SERVICE)["num-slaves"]) == 1,
            "the sentinel to see the replica",
        )
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)


@pytest.mark.parametrize(
    ("url", "sentinels", "service", "db", "password"),
    [
        ("redis+sentinel://10.0.0.1:26379/mymaster", [("10.0.0.1", 26379)], "mymaster", 0, None),
        (
            "redis+sentinel://:s3cret@a:26379,b:26380,c/relay/2",
            [("a", 26379), ("b", 26380), ("c", 26379)],
            "relay",
            2,
            "s3cret",
        ),
        ("sentinel://[::1]:26379/mymaster/1", [("::1", 26379)], "mymaster", 1, None),
    ],
)
def test_sentinel_urls_name_the_sentinels_the_service_and_the_database(
    url: str, sentinels: list, service: str, db: int, password: str | None
) -> None:
    target = parse_sentinel_url(url)
    assert (target.sentinels, target.service_name, target.db, target.password) == (
        sentinels, service, db, password
    )
    settings = rq_settings(url)["SENTINEL"]  # what `rq worker -c jobs.rq_settings` reads
    assert (settings["INSTANCES"], settings["MASTER_NAME"], settings["DB"]) == (
        sentinels, service, db
    )


@pytest.mark.parametrize("url", ["redis+sentinel://host:26379", "redis+sentinel:///mymaster"])
def test_a_sentinel_url_without_sentinels_or_service_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        parse_sentinel_url(url)


def test_a_plain_url_stays_a_plain_url_for_rq() -> None:
    assert rq_settings("redis://10.0.0.5:6379/0") == {"REDIS_URL": "redis://10.0.0.5:6379/0"}


def _inbound_count(status: str | None = None) -> int:
    with session_scope() as session:
        query = select(func.count()).select_from(InboundMessage)
        if status:
            query = query.where(InboundMessage.status == status)
        return session.scalar(query)


def test_queued_work_survives_a_failover_and_lost_jobs_are_queued_again(
    sentinel_set: SentinelSet, client, twilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", sentinel_set.url)
    primary = redis.Redis(port=sentinel_set.primary_port)

    # Before the failover: two messages stored and queued on the primary, and replicated.
    for phone in OFFICERS[:2]:
        assert post_twilio_sms(client, phone, "STATUS").status_code == 200
    assert primary.llen(f"rq:queue:{INBOUND}") == 2
    assert primary.wait(1, 2000) == 1

    sentinel_set.sentinel().execute_command("SENTINEL", "FAILOVER", SERVICE)
    _wait(lambda: sentinel_set.master_port() == sentinel_set.replica_port, "the failover")
    promoted = redis.Redis(port=sentinel_set.replica_port)
    _wait(lambda: promoted.info("replication")["role"] == "master", "the promotion")
    assert promoted.llen(f"rq:queue:{INBOUND}") == 2, "replicated jobs survive the failover"
    # Until the sentinel has turned the old primary into a replica, it still takes writes that
    # the resync then drops: the window the sweeper covers (see the lost job below).
    _wait(lambda: primary.info("replication")["role"] == "slave", "the old primary to follow")

    # The first request after it may meet the old primary (now read-only): that message is
    # stored and left to the sweeper, and requests skip Redis for a few seconds
    # (jobs.request_redis). After that, the same URL reaches the new primary.
    queue_key = f"rq:queue:{INBOUND}"
    assert post_twilio_sms(client, OFFICERS[2], "STATUS").status_code == 200
    _wait(lambda: not request_redis.remembered_unhealthy(sentinel_set.url), "the memo", 10)
    queued = promoted.llen(queue_key)
    assert post_twilio_sms(client, OFFICERS[3], "STATUS").status_code == 200
    assert promoted.llen(queue_key) == queued + 1, "the webhook queues on the new primary"

    # A job the old primary had taken but not yet passed on is lost with it. The stored
    # message is not: it is as if its job never reached Redis.
    lost_job_id = promoted.lpop(queue_key).decode()
    promoted.delete(f"rq:job:{lost_job_id}")
    assert _inbound_count() == 4

    worker_client = client_from_url(sentinel_set.url, socket_timeout=5)
    drain(worker_client)  # a real worker, connected through the sentinel
    assert _inbound_count("processed") < 4

    result = sweep(min_age_seconds=0)
    assert type(redis_connection().connection_pool).__name__ == "SentinelConnectionPool"
    assert sum(c.enqueued for c in result.counts().values()) >= 1, result
    drain(worker_client)

    assert _inbound_count("processed") == 4
    answered = {message["To"] for message in twilio.sent_messages()}
    assert answered == set(OFFICERS)
    assert len(twilio.sent_messages()) == len(OFFICERS), "each message answered exactly once"
