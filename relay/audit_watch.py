"""An outside observer's check of a server's audit log, over its public API only.

The server publishes its audit head (`/api/v1/audit/head`) and any entry's hash
(`/api/v1/audit/entries/<id>`, web.api.audit). An observer notes the head now and then
(relay.audit_anchors); each anchor noted must still be there with that hash. An anchor whose
entry is gone means entries were cut off the end; one whose hash changed means the log was
rewritten and re-hashed from some entry on — the two things the chain alone cannot show
(relay.audit_verify). No database, no settings: only HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from relay.audit_verify import Anchor

API = "/api/v1/audit"
TIMEOUT = 30.0  # seconds per request: an observer's laptop on a slow link
_HASH = re.compile(r"[0-9a-f]{64}")


class WatchError(RuntimeError):
    """The server could not be asked, or did not answer as TPS Relay does."""


@dataclass(frozen=True)
class Broken:
    """An anchor that no longer holds, and what the server has at its place."""

    anchor: Anchor
    now: str | None  # the hash the server has for that entry now; None: the entry is gone
    head_id: int

    def line(self) -> str:
        noted = f"anchor {self.anchor.entry_id}:{self.anchor.hash}"
        if self.now is None:
            return (
                f"{noted} does not hold: entry #{self.anchor.entry_id} is gone (the log now "
                f"ends at #{self.head_id}): entries were cut off"
            )
        return (
            f"{noted} does not hold: entry #{self.anchor.entry_id} now has hash {self.now}: "
            "the log was rewritten up to here"
        )


def base_url(url: str) -> str:
    """The server's root from what an observer types: the site, or any of its API URLs."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{url!r} is not an http(s) address of a TPS Relay server")
    path = parts.path.rstrip("/")
    for suffix in (f"{API}/head", API, "/api/v1"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return f"{parts.scheme}://{parts.netloc}{path}"


class Server:
    """The public audit API of the server at `root` (base_url)."""

    def __init__(self, root: str, session: requests.Session | None = None) -> None:
        self.root = root
        self.http = session or requests.Session()
        self.http.headers["User-Agent"] = "tps-relay-audit-watch"

    def head(self) -> Anchor:
        """The newest entry as an anchor (id 0 while the log is empty)."""
        found = self._get(f"{API}/head")
        if found is None:
            raise WatchError(f"{self.root}{API}/head: not found (is this a TPS Relay server?)")
        return self._anchor(found, f"{API}/head")

    def entry(self, entry_id: int) -> Anchor | None:
        """Entry `entry_id` as the server has it now; None when it has none at that id."""
        path = f"{API}/entries/{entry_id}"
        found = self._get(path)
        return None if found is None else self._anchor(found, path)

    def check(self, anchors: Iterable[Anchor], head_id: int) -> list[Broken]:
        """Every anchor that no longer holds (each asked once, in the order given)."""
        broken, seen = [], set()
        for anchor in anchors:
            if anchor in seen:
                continue
            seen.add(anchor)
            now = self.entry(anchor.entry_id)
            if now is None:
                broken.append(Broken(anchor, None, head_id))
            elif not now.hash.startswith(anchor.hash):
                broken.append(Broken(anchor, now.hash, head_id))
        return broken

    def _get(self, path: str) -> dict[str, Any] | None:
        url = self.root + path
        try:
            response = self.http.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise WatchError(f"{url}: cannot reach the server: {_reason(exc)}") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise WatchError(f"{url}: the server answered HTTP {response.status_code}")
        try:
            found = response.json()
        except ValueError:
            raise WatchError(f"{url}: the answer is not JSON") from None
        if not isinstance(found, dict):
            raise WatchError(f"{url}: the answer is not a JSON object")
        return found

    def _anchor(self, found: dict[str, Any], path: str) -> Anchor:
        entry_id, digest = found.get("id"), found.get("hash")
        if (
            not isinstance(entry_id, int)
            or isinstance(entry_id, bool)
            or entry_id < 0
            or not isinstance(digest, str)
            or not _HASH.fullmatch(digest)
        ):
            raise WatchError(f"{self.root}{path}: the answer has no entry id and 64-hex hash")
        return Anchor(entry_id, digest)


def _reason(exc: requests.RequestException) -> str:
    """The innermost cause in one line ("[Errno 111] Connection refused", "timed out"):
    requests wraps it several deep in messages naming its pools."""
    cause: BaseException = exc
    while (cause.__cause__ or cause.__context__) is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0]
