"""Download an attachment over HTTP with a hard byte cap (shared by HTTP channels).

One requests Session per process, its connections kept alive to the provider, and the
environment's settings (proxies, NO_PROXY, the CA bundle) read once per origin rather than
on every download: `requests.get` built a Session, its adapters and pool for each photo and
walked the whole environment twice (~half of a download's CPU, bench/photo_profile.py).
"""

from __future__ import annotations

import functools
import os
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.utils import get_environ_proxies

from channels.base import Media, MediaError


def download(url: str, max_bytes: int, **request_args: Any) -> Media:
    proxies, verify = _environment(*urlsplit(url)[:2])
    request_args.setdefault("proxies", dict(proxies))
    request_args.setdefault("verify", verify)
    try:
        with _session().get(url, stream=True, timeout=15, **request_args) as response:
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


_sessions: dict[int, requests.Session] = {}


def _session() -> requests.Session:
    """This process's Session (a forked process makes its own: no shared connections)."""
    pid = os.getpid()
    session = _sessions.get(pid)
    if session is None:
        session = requests.Session()
        session.trust_env = False  # read once per origin by _environment instead
        _sessions.clear()
        _sessions[pid] = session
    return session


@functools.lru_cache(maxsize=64)
def _environment(scheme: str, netloc: str) -> tuple[dict[str, str], str | bool]:
    """What requests reads from the environment for a URL of this origin: the proxies
    (HTTPS_PROXY, NO_PROXY, …) and the CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE)."""
    proxies = get_environ_proxies(f"{scheme}://{netloc}/")
    verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return proxies, verify
