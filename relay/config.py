"""Settings read from the environment (and a `.env` file), per DESIGN §4."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _flag(raw: str, default: bool) -> bool:
    """1/true/yes/on or 0/false/no/off (any case); anything else keeps the default."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return default
def _list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _intervals(raw: str) -> tuple[int, ...]:
    return tuple(int(part) for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """One snapshot of the configuration; read once per process with `load_settings()`."""

    database_url: str = f"sqlite:///{ROOT / 'var' / 'relay.db'}"
    # The tables' owner, for migrations only; the app connects with database_url, as a role
    # that does not own them (docs/DATABASE-ROLES.md). Unset: database_url.
    migration_database_url: str = f"sqlite:///{ROOT / 'var' / 'relay.db'}"
    redis_url: str = ""
    public_url: str = "http://127.0.0.1:5000"
    secret_key: str = "dev-only-secret-change-me"
    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_sms_number: str = ""
    twilio_whatsapp_number: str = ""
    twilio_api_url: str = "https://api.twilio.com"
    sms_gateway_secret: str = ""
    sms_gateway_send_url: str = ""
    send_retry_intervals: tuple[int, ...] = field(default=(5, 15, 60, 300, 900, 1800))
    sender_rate_limit: int = 20
    sender_rate_window: int = 60
    # The sweeper re-drives a stored message whose job failed (after RQ's own retries): it
    # waits these seconds before each new drive (the last repeats), and after this many
    # failed jobs marks the message "needs attention" in the console.
    redrive_intervals: tuple[int, ...] = field(default=(60, 120, 300, 600, 1800))
    redrive_limit: int = 8
    # The simulator is a training channel (its tallies are never counted); a deployment
    # may still switch it off, e.g. on election day.
    simulator_enabled: bool = True
    # Outsiders (senders on no roster): `unknown_sender_replies` answers each per
    # `unknown_reply_every` seconds (enough to register on Telegram or open a ticket), at
    # most `unknown_reply_limit` answers per `unknown_reply_window` seconds per channel, at
    # most `unknown_open_tickets` open help-desk tickets in all. Beyond: stored, not answered.
    unknown_sender_replies: int = 3
    unknown_reply_every: int = 3600
    unknown_reply_limit: int = 30
    unknown_reply_window: int = 60
    unknown_open_tickets: int = 50
    # Provider calls: seconds to wait for an answer (connecting gets SEND_CONNECT_TIMEOUT).
    send_timeout: float = 8.0
    # Per provider: this many sends in a row failing to connect or answer open the circuit,
    # and for the cool-down (seconds) sends wait without calling it; then one probe.
    send_circuit_failures: int = 3
    send_circuit_cooldown: int = 30
    # "development" (make run, the tests) or anything else (production): outside development
    # the app refuses to start with the built-in SECRET_KEY.
    relay_env: str = "production"
    # Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs); empty: none.
    trusted_proxies: tuple[str, ...] = ()
    # GET /metrics asks for `Authorization: Bearer <metrics_token>` when set; unset, it is open
    # (aggregate counts only: no message text, no phone numbers).
    metrics_token: str = ""
    # Public pages look for new figures this often (a conditional request, 304 when nothing
    # changed) while the tab is visible; 0 switches it off.
    public_refresh_seconds: int = 60
    # The console's ticket and review lists poll this often (paused while the operator types).
    console_refresh_seconds: int = 20
    # "pgbouncer": DATABASE_URL goes through PgBouncer in transaction pooling, so no
    # server-side prepared statements and no startup `options` (docs/PRODUCTION.md).
    database_pooler: str = ""
    # A scrape's figures are reused this many seconds (each costs a few aggregate queries).
    metrics_cache_seconds: float = 10.0

    @property
    def development(self) -> bool:
        return self.relay_env == "development"

    @property
    def default_secret_key(self) -> bool:
        return self.secret_key == Settings.secret_key

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def sms_gateway_enabled(self) -> bool:
        return bool(self.sms_gateway_secret)


class InsecureSettings(RuntimeError):
    """A setting that must not reach production does (the app refuses to start)."""


def refuse_insecure(settings: Settings) -> None:
    """Outside development, the built-in SECRET_KEY would let anyone forge console sessions."""
    if settings.default_secret_key and not settings.development:
        raise InsecureSettings(
            "SECRET_KEY is the built-in development value: set SECRET_KEY to a long random "
            "secret (e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
            f"or RELAY_ENV=development on a machine that is not deployed "
            f"(RELAY_ENV is {settings.relay_env!r})"
        )


_frozen: Settings | None = None


@contextmanager
def settings_frozen() -> Iterator[Settings]:
    """Within it, load_settings() returns the settings read once on entry: a worker process
    read ~35 environment variables 4–5 times per job (~0.5 ms of its ~5 ms)."""
    global _frozen
    before = _frozen
    try:
        yield freeze_settings_for_process()
    finally:
        _frozen = before


def freeze_settings_for_process() -> Settings:
    """From now on load_settings() returns the settings read here, freshly from the
    environment, for good (settings_frozen: until its block ends): for a process
    whose environment does not change once it serves (a gunicorn web worker, from
    gunicorn.conf.py), where reading ~35 variables per webhook was ~5% of its CPU."""
    global _frozen
    _frozen = None
    _frozen = load_settings()
    return _frozen


def secret_key() -> str:
    """SECRET_KEY as load_settings() reads it, without reading every other variable."""
    return _env("SECRET_KEY") or Settings.secret_key


def load_settings() -> Settings:
    """Build settings from the environment; a missing variable keeps its default."""
    if _frozen is not None:
        return _frozen
    defaults = Settings()
    database_url = _env("DATABASE_URL") or defaults.database_url
    return Settings(
        database_url=database_url,
        migration_database_url=_env("MIGRATION_DATABASE_URL") or database_url,
        redis_url=_env("REDIS_URL"),
        public_url=(_env("PUBLIC_URL") or defaults.public_url).rstrip("/"),
        secret_key=secret_key(),
        telegram_bot_token=_env("TELEGRAM_BOT_TOKEN"),
        telegram_webhook_secret=_env("TELEGRAM_WEBHOOK_SECRET"),
        telegram_api_url=(_env("TELEGRAM_API_URL") or defaults.telegram_api_url).rstrip("/"),
        twilio_account_sid=_env("TWILIO_ACCOUNT_SID"),
        twilio_auth_token=_env("TWILIO_AUTH_TOKEN"),
        twilio_sms_number=_env("TWILIO_SMS_NUMBER"),
        twilio_whatsapp_number=_env("TWILIO_WHATSAPP_NUMBER"),
        twilio_api_url=(_env("TWILIO_API_URL") or defaults.twilio_api_url).rstrip("/"),
        sms_gateway_secret=_env("SMS_GATEWAY_SECRET"),
        sms_gateway_send_url=_env("SMS_GATEWAY_SEND_URL"),
        send_retry_intervals=_intervals(_env("SEND_RETRY_INTERVALS"))
        or defaults.send_retry_intervals,
        sender_rate_limit=int(_env("SENDER_RATE_LIMIT") or defaults.sender_rate_limit),
        sender_rate_window=int(_env("SENDER_RATE_WINDOW") or defaults.sender_rate_window),
        redrive_intervals=_intervals(_env("REDRIVE_INTERVALS")) or defaults.redrive_intervals,
        redrive_limit=max(1, int(_env("REDRIVE_LIMIT") or defaults.redrive_limit)),
        simulator_enabled=_flag(_env("SIMULATOR_ENABLED"), defaults.simulator_enabled),
        unknown_sender_replies=int(
            _env("UNKNOWN_SENDER_REPLIES") or defaults.unknown_sender_replies
        ),
        unknown_reply_every=int(_env("UNKNOWN_REPLY_EVERY") or defaults.unknown_reply_every),
        unknown_reply_limit=int(_env("UNKNOWN_REPLY_LIMIT") or defaults.unknown_reply_limit),
        unknown_reply_window=int(_env("UNKNOWN_REPLY_WINDOW") or defaults.unknown_reply_window),
        unknown_open_tickets=int(_env("UNKNOWN_OPEN_TICKETS") or defaults.unknown_open_tickets),
        send_timeout=float(_env("SEND_TIMEOUT") or defaults.send_timeout),
        send_circuit_failures=int(_env("SEND_CIRCUIT_FAILURES") or defaults.send_circuit_failures),
        send_circuit_cooldown=int(_env("SEND_CIRCUIT_COOLDOWN") or defaults.send_circuit_cooldown),
        relay_env=(_env("RELAY_ENV") or defaults.relay_env).lower(),
        trusted_proxies=_list(_env("TRUSTED_PROXIES")),
        metrics_token=_env("METRICS_TOKEN"),
        public_refresh_seconds=int(
            _env("PUBLIC_REFRESH_SECONDS") or defaults.public_refresh_seconds
        ),
        console_refresh_seconds=int(
            _env("CONSOLE_REFRESH_SECONDS") or defaults.console_refresh_seconds
        ),
        database_pooler=_env("DATABASE_POOLER").lower(),
        metrics_cache_seconds=float(
            _env("METRICS_CACHE_SECONDS") or defaults.metrics_cache_seconds
        ),
    )
