"""Two machines, one system: process groups A and B, each in its own working directory with
nothing shared on disk, sharing only the database, one Redis (over TCP) and one object store
(an S3-protocol server). Group A runs the web app, a text worker and a sender; group B only a
photo worker, started the way deploy/systemd starts them. A photo an officer sends through
Telegram to A's web is fetched and read by B's worker, and A's console and public page show
it (HTTP to A's web, the photo from the store through a presigned link)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from rq import Worker
from sqlalchemy import select

from relay.config import ROOT
from relay.db import session_scope
from relay.media import key_for
from relay.models import InboundMessage, Submission
from tests.conftest import TELEGRAM_SECRET
from tests.fakes import telegram_updates as tu
from tests.fakes.telegram_server import TEST_TOKEN, FakeTelegram
from tests.live import free_port
from tests.s3_support import MotoServer, s3_env
from tests.web_support import PASSWORD, csrf_from, make_operator

GOLDEN = Path(__file__).parent / "data" / "ocr"
CLEAN = (GOLDEN / "ppwp_clean.jpg").read_bytes()
BIN = Path(sys.executable).parent
UNITS = ROOT / "deploy" / "systemd"
USER = 555000777
PHONE = "6281234567801"  # kpps of TPS 3576011001001, whose PPWP form ppwp_clean.jpg shows
TPS = "3576011001001"


def unit_command(unit: str, host: str) -> tuple[str, dict[str, str]]:
    """A deploy/systemd unit's ExecStart and Environment for a machine named `host`, with the
    code at ROOT instead of /opt/tps-relay (the working directory stays the machine's own)."""
    text = (UNITS / unit).read_text()
    [command] = re.findall(r"^ExecStart=(.+)$", text, re.MULTILINE)
    env = dict(
        pair.split("=", 1)
        for line in re.findall(r"^Environment=(.+)$", text, re.MULTILINE)
        for pair in shlex.split(line)
    )
    command = (
        command.replace("/opt/tps-relay/.venv/bin/", f"{BIN}/")
        .replace("--path .", f"--path {ROOT}")
        .replace("-c gunicorn.conf.py", f"-c {ROOT}/gunicorn.conf.py --pythonpath {ROOT}")
        .replace("$(hostname)", host)
        .replace("%i", "1")
    )
    return command, env


class Machine:
    """One group of processes in its own directory, logs included."""

    def __init__(self, name: str, directory: Path, env: dict[str, str]) -> None:
        self.name = name
        self.directory = directory
        directory.mkdir()
        (directory / "tmp").mkdir()
        self.env = {
            **env,
            "TMPDIR": str(directory / "tmp"),
            # Photos must go to the object store: this folder has to stay absent.
            "MEDIA_DIR": str(directory / "media"),
            "PHOTO_CACHE_DIR": str(directory / "photo-cache"),  # each machine its own
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, unit: str, **extra: str) -> None:
        command, unit_env = unit_command(unit, self.name)
        log = (self.directory / f"{unit}.log").open("wb")
        self.procs[unit] = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=self.directory,
            env={**self.env, **unit_env, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self, unit: str) -> str:
        return (self.directory / f"{unit}.log").read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(f"--- {self.name}/{u}\n{self.log(u)[-3000:]}" for u in self.procs)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@pytest.fixture
def tcp_redis(tmp_path: Path) -> Iterator[str]:
    """A Redis the machines reach over TCP only (no socket file to share)."""
    exe = shutil.which("redis-server")
    assert exe, "redis-server is not installed: run `make test`"
    port = free_port()
    directory = tmp_path / "redis"
    directory.mkdir()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    wait_until(lambda: _pings(client), 10, "redis-server did not answer")
    yield url
    proc.terminate()
    proc.wait(10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.exceptions.ConnectionError:
        return False


def wait_until(check: Callable[[], Any], timeout: float, what: str | Callable[[], str]) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(what() if callable(what) else what)
        time.sleep(0.2)


def test_photo_received_by_machine_a_is_read_by_machine_b_and_shown_by_a(
    demo: str, tcp_redis: str, s3_server: MotoServer, tmp_path: Path
) -> None:
    make_operator("ani")
    bucket = s3_server.new_bucket()
    port = free_port()
    web_a = f"http://127.0.0.1:{port}"
    with FakeTelegram(TEST_TOKEN) as telegram:
        shared = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("MEDIA_", "S3_", "AWS_", "TELEGRAM_", "TWILIO_", "SMS_"))
        }
        shared.update(
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            DATABASE_URL=demo,
            REDIS_URL=tcp_redis,
            RELAY_ENV="development",
            SECRET_KEY="two-machines-shared-secret-key-0123456789",
            PUBLIC_URL=web_a,
            TELEGRAM_BOT_TOKEN=TEST_TOKEN,
            TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
            TELEGRAM_API_URL=telegram.url,
            PTB_TIMEDELTA="1",
            **s3_env(s3_server, bucket),
        )
        shared.pop("MIGRATION_DATABASE_URL", None)
        a = Machine("machine-a", tmp_path / "a", shared)
        b = Machine("machine-b", tmp_path / "b", shared)
        try:
            a.start("relay-web.service", PORT=str(port), WEB_BIND=f"127.0.0.1:{port}",
                    WEB_ACCESS_LOG="")
            a.start("relay-worker@.service")  # text: inbound, inbound-unknown
            a.start("relay-sender@.service")
            b.start("relay-photo-worker@.service")  # photo: fetch and read
            connection = redis.Redis.from_url(tcp_redis)
            wait_until(lambda: len(Worker.all(connection=connection)) == 3, 60,
                       lambda: a.logs() + b.logs())
            queues = {w.name: w.queue_names() for w in Worker.all(connection=connection)}
            assert queues["machine-b-photo-1"] == ["photo"]
            assert not [n for n, q in queues.items() if n.startswith("machine-a") and "photo" in q]
            wait_until(lambda: _healthy(web_a), 60, lambda: a.logs())

            _send(web_a, tu.contact_update(9700, USER, PHONE))
            wait_until(lambda: telegram.sent_messages(USER), 30, lambda: a.logs())
            file_id = telegram.add_file(CLEAN, "photos/two-machines.jpg")
            _send(web_a, tu.photo_update(9701, USER, file_id=file_id, file_size=len(CLEAN)))
            sent = wait_until(
                lambda: [m for m in telegram.sent_messages(USER) if m["method"] == "sendPhoto"],
                90, lambda: a.logs() + b.logs(),
            )
            reading = sent[0]
            assert reading["caption"].startswith("Dibaca dari foto PPWP TPS 3576011001001:")
            assert reading["photo"][:3] == b"\xff\xd8\xff"  # B's annotated page, sent by A

            with session_scope() as session:
                inbound_id = session.scalars(
                    select(InboundMessage.id).where(InboundMessage.provider_id == "9701")
                ).one()
            # A's text worker ran the conversation; B's photo worker fetched and read.
            assert f"(inbound-{inbound_id})" in a.log("relay-worker@.service")
            photo_log = b.log("relay-photo-worker@.service")
            # B reads the photo in the job that downloaded it (jobs.media, with a reader).
            assert f"(media-{inbound_id})" in photo_log
            assert f"inbound {inbound_id} photo 0: read in" in photo_log
            listed = s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]
            assert f"photos/{key_for(CLEAN, 'image/jpeg')}" in {o["Key"] for o in listed}

            buttons = reading["reply_markup"]["inline_keyboard"][0]
            _send(web_a, tu.callback_update(
                9702, USER, buttons[0]["callback_data"], reading["message_id"], reading["caption"]))
            submission_id = wait_until(_confirmed, 60, lambda: a.logs())

            # The public page of A shows the photo: a link to A, redirected to the store.
            page = requests.get(f"{web_a}/tps/{TPS}", timeout=10)
            link = f"/tps/{TPS}/photo/{submission_id}/0"
            assert page.status_code == 200 and f'href="{link}"' in page.text
            assert f'src="{link}/upright"' in page.text
            _assert_shows_the_photo(web_a + link, s3_server.url)
            upright = requests.get(f"{web_a}{link}/upright", timeout=30)  # A renders S3's bytes
            assert upright.status_code == 200 and upright.content[:3] == b"\xff\xd8\xff"
            assert any((a.directory / "photo-cache").rglob("*.jpg")), "cached on A itself"

            # And so does A's console, to an operator who logs in.
            http = requests.Session()
            form = http.get(f"{web_a}/console/login", timeout=10).text
            login = http.post(
                f"{web_a}/console/login",
                data={"name": "ani", "password": PASSWORD, "csrf_token": csrf_from(form)},
                allow_redirects=False, timeout=10,
            )
            assert login.status_code == 302, login.text
            console = http.get(f"{web_a}/console/submissions/{submission_id}", timeout=10)
            photo = f"/console/media/{inbound_id}/0"
            assert console.status_code == 200 and f'src="{photo}/upright"' in console.text
            assert f'href="{photo}"' in console.text  # the photo as sent, from the store
            _assert_shows_the_photo(web_a + photo, s3_server.url, http)
            anonymous = requests.get(web_a + photo, timeout=10, allow_redirects=False)
            assert "/console/login" in anonymous.headers["Location"]  # no link without a login
        finally:
            a.stop()
            b.stop()
        for machine in (a, b):  # nothing went to either machine's disk
            assert not (machine.directory / "media").exists(), machine.name


def _healthy(base: str) -> bool:
    try:
        return requests.get(base + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _send(base: str, update: dict[str, Any]) -> None:
    response = requests.post(
        base + "/webhooks/telegram", json=update, timeout=10,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert response.status_code == 200, response.text


def _confirmed() -> int | None:
    with session_scope() as session:
        return session.scalar(select(Submission.id).where(Submission.status == "confirmed"))


def _assert_shows_the_photo(url: str, store: str, http: Any = requests) -> None:
    shown = http.get(url, timeout=10, allow_redirects=False)
    assert shown.status_code == 302, shown.text
    location = shown.headers["Location"]
    assert location.startswith(store + "/") and "X-Amz-Signature=" in location
    assert requests.get(location, timeout=10).content == CLEAN
