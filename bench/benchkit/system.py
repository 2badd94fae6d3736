"""What the benchmarks share: a whole running system on this machine (a private
redis-server, a temporary SQLite database with the demo election and a generated roster,
the fake Twilio REST API), signed Twilio webhooks, and the checks that nothing was lost.

Everything is started and stopped here; nothing outside a temporary directory is touched.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from roster_import import write_regions  # noqa: E402  (bench/ is on sys.path)
from sqlalchemy import func, select  # noqa: E402

from tests.fakes.telegram_server import TEST_TOKEN, FakeTelegram  # noqa: E402
from tests.fakes.twilio_server import FakeTwilio  # noqa: E402
from tests.fakes.twilio_signing import realistic_sms_payload, sign  # noqa: E402
from tests.live import RedisServer, process_env  # noqa: E402
from tests.support import throwaway_postgres  # noqa: E402

TWILIO_SID = "AC" + "b" * 32
TWILIO_TOKEN = "bench-auth-token"
TWILIO_NUMBER = "+14155550100"
WHATSAPP_NUMBER = "+14155238886"
PUBLIC_URL = "https://relay.bench.example"  # what Twilio signs; the Host header says the same
TELEGRAM_SECRET = "bench-telegram-secret"


TELEGRAM_VARS = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_URL")


@dataclass(frozen=True)
class Officer:
    phone: str  # E.164
    tps_code: str


@dataclass
class System:
    """The pieces every benchmark needs, already running."""

    work: Path
    database_url: str
    redis: RedisServer
    twilio: FakeTwilio
    telegram: FakeTelegram
    officers: list[Officer]
    env: dict[str, str] = field(default_factory=dict)


def write_roster(path: Path, tps_codes: list[str]) -> list[Officer]:
    """One kpps officer per TPS, phones +62812…, so each message has its own sender."""
    officers = [Officer(f"+62812{i:08d}", code) for i, code in enumerate(tps_codes)]
    with path.open("w", encoding="utf-8") as out:
        out.write("phone,name,role,tps_code,language\n")
        for i, officer in enumerate(officers):
            out.write(f"{officer.phone},Petugas {i},kpps,{officer.tps_code},id\n")
    return officers


def load_database(
    url: str, work: Path, officers: int, owner_url: str | None = None
) -> list[Officer]:
    """Migrate (as `owner_url`, the tables' owner, when the app's role is another), load the
    demo election/regions/roster, then `officers` generated officers (each kpps of their own
    generated TPS, province code 11, apart from the demo's)."""
    from relay.loaders.regions import load_regions
    from relay.loaders.roster import import_roster
    from relay.migrate import upgrade
    from tests.support import load_demo

    upgrade(owner_url or url, url)
    load_demo(url)
    tps_codes = write_regions(work / "regions.csv", officers)[:officers]
    people = write_roster(work / "roster.csv", tps_codes)
    for report in (
        load_regions(work / "regions.csv", url),
        import_roster(work / "roster.csv", url),
    ):
        assert not report.errors, report.errors[:3]
    return people


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def running_system(officers: int, database_url: str | None = None) -> Iterator[System]:
    """A temp directory, a migrated database with data, redis-server and fake Twilio; the
    environment (`System.env`) for web and worker processes pointing at all of them.
    SIGTERM unwinds like Ctrl-C, so no process or database is left behind."""
    signal.signal(signal.SIGTERM, _terminate)
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="relay-bench-")))
        if database_url and database_url.startswith("postgresql"):
            # As deployed: migrated by the owner, run by an app role that owns nothing.
            made = stack.enter_context(throwaway_postgres(database_url, "relay_bench"))
            url, owner_url = made.url, made.owner_url
        else:
            url = owner_url = database_url or f"sqlite:///{work / 'relay.db'}"
        os.environ["DATABASE_URL"] = url
        people = load_database(url, work, officers, owner_url)
        redis_dir = work / "redis"
        redis_dir.mkdir()
        redis = stack.enter_context(RedisServer(redis_dir))
        # HTTP/1.1, connections kept, as Twilio's API: the bench measures our sends, not a
        # TCP connection and a server thread per request.
        twilio = stack.enter_context(FakeTwilio(TWILIO_SID, TWILIO_TOKEN, keep_alive=True))
        telegram = stack.enter_context(FakeTelegram(TEST_TOKEN))
        env = process_env(
            DATABASE_URL=url,
            REDIS_URL=redis.url,
            PUBLIC_URL=PUBLIC_URL,
            TWILIO_ACCOUNT_SID=TWILIO_SID,
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            TWILIO_SMS_NUMBER=TWILIO_NUMBER,
            TWILIO_WHATSAPP_NUMBER=WHATSAPP_NUMBER,
            MEDIA_DIR=str(work / "media"),
            TWILIO_API_URL=twilio.url,
            TELEGRAM_BOT_TOKEN=TEST_TOKEN,
            TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
            TELEGRAM_API_URL=telegram.url,
            WEB_ACCESS_LOG=os.environ.get("WEB_ACCESS_LOG", "-"),
        )
        os.environ.update({k: env[k] for k in ("REDIS_URL", "PUBLIC_URL", *TELEGRAM_VARS)})
        yield System(work, url, redis, twilio, telegram, people, env)
        from relay.db import dispose_engines

        dispose_engines()


def tally_text(officer: Officer, i: int) -> str:
    """A valid PPWP tally for the officer's TPS (generated TPS have ≥ 180 voters)."""
    a, b, c = 10 + i % 50, 20 + i % 40, 30 + i % 30
    return f"PPWP {officer.tps_code} 01={a} 02={b} 03={c} SAH={a + b + c} TS={i % 5}"


def signed_twilio_request(
    host: str, officer: Officer, body: str, sid: str, photo_url: str | None = None
) -> bytes:
    """The raw HTTP request Twilio would send for an inbound SMS, signature included; with
    `photo_url`, a WhatsApp message from the officer's number carrying that JPEG."""
    if photo_url:
        form = realistic_sms_payload(
            "whatsapp:" + officer.phone,
            "whatsapp:" + WHATSAPP_NUMBER,
            body,
            TWILIO_SID,
            sid,
            media=[(photo_url, "image/jpeg")],
        )
    else:
        form = realistic_sms_payload(officer.phone, TWILIO_NUMBER, body, TWILIO_SID, sid)
    signature = sign(TWILIO_TOKEN, PUBLIC_URL + "/webhooks/twilio", form)
    payload = urlencode(form).encode()
    head = (
        "POST /webhooks/twilio HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "User-Agent: TwilioProxy/1.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(payload)}\r\n"
        f"X-Twilio-Signature: {signature}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + payload


def message_sid(i: int) -> str:
    return f"SM{i:032x}"


def telegram_user(i: int) -> int:
    return 500_000_000 + i


def telegram_request(host: str, update_id: int, user_id: int, text: str) -> bytes:
    """The raw HTTP request Telegram sends to a webhook for a private text message."""
    update = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_707_890_000,
            "chat": {"id": user_id, "type": "private", "first_name": "KPPS"},
            "from": {"id": user_id, "is_bot": False, "first_name": "KPPS", "language_code": "id"},
            "text": text,
        },
    }
    payload = json.dumps(update).encode()
    head = (
        "POST /webhooks/telegram HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n"
        f"X-Telegram-Bot-Api-Secret-Token: {TELEGRAM_SECRET}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + payload


@dataclass(frozen=True)
class Accounting:
    acked: int
    stored: int
    processed: int
    replies_sent: int
    provider_sends: int
    lost: int  # acked but not stored, or stored but never answered
    doubled: int  # answered more than once

    def line(self) -> str:
        return (
            f"acked {self.acked}, stored {self.stored}, processed {self.processed}, "
            f"replies sent {self.replies_sent}, provider sends {self.provider_sends}: "
            f"lost {self.lost}, doubled {self.doubled}"
        )


def account(channel: str, acked: dict[str, str], provider_sent_to: list[str]) -> Accounting:
    """Every acked message (provider id → the address its reply goes to) stored, processed,
    and answered by exactly one reply that the provider accepted exactly once."""
    from relay.db import session_scope
    from relay.models import InboundMessage, OutboundMessage

    with session_scope() as session:
        rows = dict(
            session.execute(
                select(InboundMessage.provider_id, InboundMessage.status).where(
                    InboundMessage.channel == channel
                )
            ).all()
        )
        replies = Counter(
            sid
            for (sid,) in session.execute(
                select(InboundMessage.provider_id)
                .join(OutboundMessage, OutboundMessage.inbound_id == InboundMessage.id)
                .where(InboundMessage.channel == channel, OutboundMessage.status == "sent")
            )
        )
    sends = Counter(provider_sent_to)
    stored = [pid for pid in acked if pid in rows]
    processed = [pid for pid in stored if rows[pid] == "processed"]
    answered = [pid for pid in processed if replies[pid] >= 1 and sends[acked[pid]] >= 1]
    doubled = sum(1 for pid in acked if replies[pid] > 1 or sends[acked[pid]] > 1)
    return Accounting(
        acked=len(acked),
        stored=len(stored),
        processed=len(processed),
        replies_sent=sum(replies[pid] for pid in acked),
        provider_sends=sum(sends[acked[pid]] for pid in acked),
        lost=len(acked) - len(answered),
        doubled=doubled,
    )


def wait_drained(expected: int, timeout: float) -> float:
    """Wait until `expected` replies were sent (or time is up); returns seconds waited."""
    from relay.db import session_scope
    from relay.models import OutboundMessage

    start = time.monotonic()
    while time.monotonic() - start < timeout:
        with session_scope() as session:
            sent = session.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.status == "sent")
            )
        if (sent or 0) >= expected:
            break
        time.sleep(0.25)
    return time.monotonic() - start


def database_bytes(url: str) -> int:
    """The database's size on disk (SQLite: file + WAL; PostgreSQL: pg_database_size)."""
    from sqlalchemy import text

    from relay.db import get_engine

    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with get_engine(url).connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar())


def redis_figures(url: str) -> tuple[int, int]:
    """(bytes of memory in use, commands processed so far) of the Redis at `url`."""
    from redis import Redis

    client = Redis.from_url(url)
    memory, stats = client.info("memory"), client.info("stats")
    client.close()
    return int(memory["used_memory"]), int(stats["total_commands_processed"])
