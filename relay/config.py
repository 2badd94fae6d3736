"""Settings read from the environment (and a `.env` file), per DESIGN §4."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


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
    # "development" (make run, the tests) or anything else (production): outside development
    # the app refuses to start with the built-in SECRET_KEY.
    relay_env: str = "production"
    # Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs); empty: none.
    trusted_proxies: tuple[str, ...] = ()

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
        relay_env=(_env("RELAY_ENV") or defaults.relay_env).lower(),
        trusted_proxies=_list(_env("TRUSTED_PROXIES")),
    )
