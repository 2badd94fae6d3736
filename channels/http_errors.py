"""Map HTTP statuses and network exceptions to send-error kinds, shared by HTTP channels."""

from __future__ import annotations

from channels.base import CONNECTION, FAILED, THROTTLED, SendError


def parse_retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def error_for_status(status: int, detail: str, retry_after: str | None = None) -> SendError:
    if status == 429:
        return SendError(THROTTLED, detail, parse_retry_after(retry_after))
    if status >= 500 or status in (408, 409):
        return SendError(CONNECTION, detail)
    return SendError(FAILED, detail)


def error_for_exception(exc: Exception) -> SendError:
    return SendError(CONNECTION, f"{type(exc).__name__}: {exc}"[:500])
