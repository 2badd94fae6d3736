"""Settings read from the environment (and a `.env` file), per DESIGN §4."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _intervals(raw: str) -> tuple[int, ...]:
    return tuple(int(part) for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """One snapshot of the configuration; read once per process with `load_settings()`."""

    database_url: str = f"sqlite:///{ROOT / 'var' / 'relay.db'}"
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
    # Provider calls: seconds to wait for an answer (connecting gets SEND_CONNECT_TIMEOUT).
    send_timeout: float = 8.0
    # Per provider: this many sends in a row failing to connect or answer open the circuit,
    # and for the cool-down (seconds) sends wait without calling it; then one probe.
    send_circuit_failures: int = 3
    send_circuit_cooldown: int = 30

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def sms_gateway_enabled(self) -> bool:
        return bool(self.sms_gateway_secret)


def load_settings() -> Settings:
    """Build settings from the environment; a missing variable keeps its default."""
    defaults = Settings()
    database_url = _env("DATABASE_URL") or defaults.database_url
    return Settings(
        database_url=database_url,
        redis_url=_env("REDIS_URL"),
        public_url=(_env("PUBLIC_URL") or defaults.public_url).rstrip("/"),
        secret_key=_env("SECRET_KEY") or defaults.secret_key,
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
        send_timeout=float(_env("SEND_TIMEOUT") or defaults.send_timeout),
        send_circuit_failures=int(_env("SEND_CIRCUIT_FAILURES") or defaults.send_circuit_failures),
        send_circuit_cooldown=int(_env("SEND_CIRCUIT_COOLDOWN") or defaults.send_circuit_cooldown),
    )
