"""The one interface every channel adapter follows (after nyaruka/courier).

An adapter has two jobs: turn a provider's webhook request into channel-neutral
`Incoming` messages, and send an `Outgoing` message, mapping provider errors to a few
`SendError` kinds the outbound job understands.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from relay.config import Settings


@dataclass(frozen=True)
class Incoming:
    """A message as the conversation sees it, whatever channel it came from."""

    channel: str
    provider_id: str
    sender: str
    text: str
    payload: str
    media: list[dict[str, Any]] = field(default_factory=list)
    event: dict[str, Any] | None = None


@dataclass(frozen=True)
class Outgoing:
    id: int
    channel: str
    to: str
    text: str
    extras: dict[str, Any] | None = None


@dataclass(frozen=True)
class SendResult:
    provider_id: str | None


class Rejected(Exception):
    """The request is not a valid delivery from the provider (e.g. bad signature)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


# Send error kinds: transient ones are retried, the others end the message.
CONNECTION = "connection"  # network error, timeout, provider 5xx
THROTTLED = "throttled"  # 429; retry_after when the provider said
STOPPED = "stopped"  # recipient opted out or blocked us
FAILED = "failed"  # any other permanent refusal (invalid number, bad request)
RETRYABLE = frozenset({CONNECTION, THROTTLED})

# Seconds to wait for a provider to accept a connection; an answer gets SEND_TIMEOUT
# (Settings.send_timeout). Short, so a provider that hangs costs little (see jobs.circuit).
SEND_CONNECT_TIMEOUT = 3.0


class SendError(Exception):
    """`code`: the provider's own error code where it gives one (Twilio's 63016, Telegram's
    description), for jobs.fallback to tell why a channel cannot deliver."""

    def __init__(
        self,
        kind: str,
        detail: str,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after
        self.code = code

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


class Channel(ABC):
    """A messaging channel. `name` is stored on every message it carries."""

    name: str
    # Provider-wide send rate to stay under (messages per second), if the provider has one.
    sends_per_second: int | None = None

    def enabled(self, settings: Settings) -> bool:
        return True

    @abstractmethod
    def receive(self, request: Any, settings: Settings) -> list[Incoming]:
        """Verify and translate a webhook request (a Flask request). Raises Rejected."""

    @abstractmethod
    def acknowledge(self) -> tuple[str, int, dict[str, str]]:
        """The HTTP answer the provider expects once the messages are stored."""

    @abstractmethod
    def send(self, message: Outgoing, settings: Settings) -> SendResult:
        """Deliver one message. Raises SendError."""

    def fetch_media(self, item: dict[str, Any], settings: Settings, max_bytes: int) -> Media:
        """Download one attachment the provider holds. Raises MediaError."""
        raise MediaError("download_failed", f"{self.name} has no media")


@dataclass(frozen=True)
class Media:
    content: bytes
    content_type: str


class MediaError(Exception):
    """kinds: too_large (detail has the size), not_an_image, download_failed."""

    def __init__(self, kind: str, detail: str, size: int | None = None) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.size = size
