"""Every worker restarts a missing scheduler (jobs.scheduling.SchedulingWorker
.keep_scheduler_running): a retry waiting in RQ's ScheduledJobRegistry is still sent when the
scheduler process died (OOM killer, kill -9), without restarting the worker. RQ alone would
start a new scheduler only in its 10-minute maintenance round. test_outages covers Redis
dying under a live scheduler; this is the scheduler itself dying."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from rq.registry import ScheduledJobRegistry

from jobs.queues import outbound_queue
from tests.live import RedisServer, RqWorker, children_of, process_env
from tests.support import post_twilio_sms
from tests.test_outages import MESSAGES_JSON, OFFICER, outbound_rows


def _wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


def _dead(pid: int) -> bool:
    """Gone, or a zombie its parent has not reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2 :].split()[0] == "Z"


def test_a_scheduled_retry_is_sent_after_the_scheduler_process_was_killed(
    client, twilio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = RedisServer(tmp_path).start()
    monkeypatch.setenv("REDIS_URL", server.url)
    conn = redis.Redis.from_url(server.url)
    env = process_env(REDIS_URL=server.url, SEND_RETRY_INTERVALS="15,15,15")
    twilio.fail_next(1, status=503, match=MESSAGES_JSON)
    try:
        with (
            (tmp_path / "worker.log").open("wb") as log,
            RqWorker(env, log=log) as worker,
            RqWorker(env, log=log, process="sender") as sender,
        ):
            assert post_twilio_sms(client, OFFICER, "STATUS").status_code == 200
            twilio.wait_for(lambda r: r.path.startswith(MESSAGES_JSON), timeout=60)
            scheduled = ScheduledJobRegistry(outbound_queue("twilio"), connection=conn)
            _wait_until(lambda: scheduled.count == 1)
            # Idle workers have one child each: their scheduler (a job would run in a horse).
            schedulers = [pid for w in (worker, sender) for pid in children_of(w.pid)]
            assert schedulers, "no scheduler process to kill"
            for pid in schedulers:
                os.kill(pid, signal.SIGKILL)
            _wait_until(lambda: all(_dead(pid) for pid in schedulers))
            twilio.wait_for(lambda r: r.path.startswith(MESSAGES_JSON), count=2, timeout=60)
            _wait_until(lambda: [r.status for r in outbound_rows()] == ["sent"])
    finally:
        server.stop()
    [row] = outbound_rows()
    assert (row.status, row.attempts) == ("sent", 2)
