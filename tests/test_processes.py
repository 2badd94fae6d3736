"""The Procfile's processes for real: gunicorn + rq worker + sweeper under honcho, a signed
SMS webhook over HTTP, and the reply arriving at the fake Twilio REST API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from relay.config import ROOT
from tests.conftest import TWILIO_SID, TWILIO_SMS_NUMBER, TWILIO_TOKEN
from tests.fakes.twilio_server import FakeTwilio
from tests.fakes.twilio_signing import realistic_sms_payload, sign


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def running_system(demo: str, redis_conn, tmp_path: Path) -> Iterator[tuple[str, FakeTwilio]]:
    port = _free_port()
    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as twilio:
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "TWILIO_ACCOUNT_SID": TWILIO_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_SMS_NUMBER": TWILIO_SMS_NUMBER,
            "TWILIO_API_URL": twilio.url,
            "WEB_ACCESS_LOG": "",
        }
        log = (tmp_path / "honcho.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "honcho", "start", "-f", "Procfile", "-p", str(port),
             "web", "worker", "sender", "sweeper"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if requests.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except requests.RequestException:  # not up yet, or slow to answer
                    pass
                assert proc.poll() is None, (tmp_path / "honcho.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "honcho.log").read_text()
                time.sleep(0.2)
            yield base, twilio
        finally:
            _stop(proc)
            log.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def test_signed_sms_webhook_is_answered_through_twilio(running_system) -> None:
    base, twilio = running_system
    form = realistic_sms_payload(
        "+6281234567801",
        TWILIO_SMS_NUMBER,
        "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5",
        TWILIO_SID,
    )
    signature = sign(TWILIO_TOKEN, base + "/webhooks/twilio", form)
    forged = requests.post(
        base + "/webhooks/twilio", data=form, timeout=5, headers={"X-Twilio-Signature": "bm9wZQ=="}
    )
    assert forged.status_code == 403
    response = requests.post(
        base + "/webhooks/twilio", data=form, timeout=5, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 200
    twilio.wait_for(lambda r: r.path.endswith("/Messages.json"), timeout=30)
    [sent] = twilio.sent_messages()
    assert sent["To"] == "+6281234567801"
    assert sent["From"] == TWILIO_SMS_NUMBER
    assert sent["Body"].startswith("Diterima PPWP TPS 3576011001001: 01=120 02=95 03=40")
