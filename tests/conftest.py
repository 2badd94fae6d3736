"""Shared fixtures: a real redis-server, a migrated database (SQLite, or PostgreSQL when
TEST_DATABASE_URL/DATABASE_URL points at one), real RQ workers, and the Flask app."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
from sqlalchemy import text

from tests.s3_support import s3_media, s3_server  # noqa: F401 (fixtures: an S3 server)
from tests.support import ThrowawayDatabase, owner_connection, throwaway_postgres

# Fast backoff for tests: retries are still scheduled through RQ's scheduler.
os.environ.setdefault("SEND_RETRY_INTERVALS", "1,1,1")
# and a short cool-down of the per-provider circuit breaker (jobs.circuit).
os.environ.setdefault("SEND_CIRCUIT_COOLDOWN", "1")
# The tests run with the built-in SECRET_KEY, which only development accepts.
os.environ.setdefault("RELAY_ENV", "development")


def _start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not installed: run `make test`, which installs it")
    sock = directory / "redis.sock"
    proc = subprocess.Popen(
        [
            exe,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"unix://{sock}"
    client = redis.Redis.from_url(url)
    for _ in range(200):
        try:
            client.ping()
            return proc, url
        except redis.exceptions.ConnectionError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else "redis died"
            time.sleep(0.05)
    pytest.fail("redis-server did not answer")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = _start_redis(tmp_path_factory.mktemp("redis"))
    os.environ["REDIS_URL"] = url
    yield url
    proc.terminate()
    proc.wait(5)


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayDatabase]:
    """The test session's database: on PostgreSQL a throwaway one with an owner role (which
    migrates) and the app role everything else runs as; on SQLite one file, no roles."""
    configured = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    from relay.migrate import upgrade

    with ExitStack() as stack:
        if configured.startswith("postgresql"):
            urls = stack.enter_context(throwaway_postgres(configured))
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'relay.db'}"
            urls = ThrowawayDatabase(url=url, owner_url=url)
        os.environ["DATABASE_URL"] = urls.url
        os.environ["MIGRATION_DATABASE_URL"] = urls.owner_url
        upgrade(urls.owner_url, urls.url)
        yield urls


@pytest.fixture(scope="session")
def database_url(database_urls: ThrowawayDatabase) -> str:
    """The app's URL (on PostgreSQL a role that owns nothing)."""
    return database_urls.url


def _empty_all_tables(owner_url: str) -> None:
    from relay.models import Base

    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with owner_connection(owner_url) as conn:
        if conn.dialect.name == "postgresql":
            # The owner lifts the audit log's TRUNCATE trigger for this; the app role cannot.
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate"))
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_truncate"))
            return
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        for table in tables:
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(
            text(
                "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
            )
        )


@pytest.fixture
def db(database_urls: ThrowawayDatabase) -> Iterator[str]:
    """A migrated, empty database for one test; yields its (the app's) URL."""
    _empty_all_tables(database_urls.owner_url)
    yield database_urls.url


@pytest.fixture
def owner_db(db: str, database_urls: ThrowawayDatabase) -> str:
    """The same empty database as `db`, as the tables' owner (setup the app may not do)."""
    return database_urls.owner_url


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()


# --- the running system: providers faked at HTTP level, everything of ours real ------------

TWILIO_SID = "AC" + "5" * 32
TWILIO_TOKEN = "twilio-test-auth-token"
TWILIO_SMS_NUMBER = "+14155550100"
GATEWAY_SECRET = "gateway-test-secret"
PUBLIC_URL = "https://relay.example.org"


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from tests.fakes.twilio_server import FakeTwilio

    with FakeTwilio(TWILIO_SID, TWILIO_TOKEN) as fake:
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", TWILIO_SID)
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", TWILIO_TOKEN)
        monkeypatch.setenv("TWILIO_SMS_NUMBER", TWILIO_SMS_NUMBER)
        monkeypatch.setenv("TWILIO_WHATSAPP_NUMBER", "+14155238886")
        monkeypatch.setenv("TWILIO_API_URL", fake.url)
        monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL)
        yield fake


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from tests.fakes.sms_gateway_server import FakeSmsGateway

    with FakeSmsGateway(GATEWAY_SECRET) as fake:
        monkeypatch.setenv("SMS_GATEWAY_SECRET", GATEWAY_SECRET)
        monkeypatch.setenv("SMS_GATEWAY_SEND_URL", fake.url + "/send")
        yield fake


@pytest.fixture
def demo(db: str) -> str:
    """The demo election, regions and roster in an empty database; yields its URL."""
    from tests.support import load_demo

    load_demo(db)
    return db


@pytest.fixture
def client(demo: str, redis_conn: redis.Redis, twilio: object, gateway: object):
    from webhooks import create_app

    return create_app().test_client()


TELEGRAM_SECRET = "tg-webhook_secret-123"


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from tests.fakes.telegram_server import TEST_TOKEN, FakeTelegram

    with FakeTelegram(TEST_TOKEN) as fake:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TEST_TOKEN)
        monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET)
        monkeypatch.setenv("TELEGRAM_API_URL", fake.url)
        monkeypatch.setenv("PTB_TIMEDELTA", "1")
        yield fake


@pytest.fixture
def media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "media"
    monkeypatch.setenv("MEDIA_DIR", str(directory))
    monkeypatch.setenv("PHOTO_CACHE_DIR", str(tmp_path / "photo-cache"))
    return directory


@pytest.fixture
def app_cli(client):
    """The Flask CLI runner of the app `client` uses (same database, Redis and providers)."""
    return client.application.test_cli_runner()
