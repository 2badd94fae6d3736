"""Download an attachment over HTTP with a hard byte cap (shared by HTTP channels)."""

from __future__ import annotations

from typing import Any

import requests

from channels.base import Media, MediaError


def download(url: str, max_bytes: int, **request_args: Any) -> Media:
    try:
        with requests.get(url, stream=True, timeout=15, **request_args) as response:
            if response.status_code != 200:
                raise MediaError("download_failed", f"HTTP {response.status_code} for media")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                raise MediaError("too_large", f"{declared} bytes declared", size=declared)
            content = bytearray()
            for chunk in response.iter_content(64 * 1024):
                content.extend(chunk)
                if len(content) > max_bytes:
                    raise MediaError("too_large", f"over {max_bytes} bytes", size=len(content))
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    except requests.RequestException as exc:
        raise MediaError("download_failed", f"{type(exc).__name__}: {exc}"[:300]) from exc
    return Media(bytes(content), content_type.lower())
