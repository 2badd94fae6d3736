"""Redis clients from REDIS_URL: a plain server, or a primary found through Redis Sentinel.

A plain URL (`redis://`, `rediss://`, `unix://`) goes to redis-py's `from_url`. A Sentinel URL
names the sentinels and the service instead of the primary:

    redis+sentinel://[[user]:password@]host:port[,host:port...]/service_name[/db][?options]

The password (and user) are the primary's; `sentinel_password=` in the query is the sentinels'
own, when they require one. The client asks the sentinels for the current primary on every new
connection, so after a failover its next command reaches the promoted replica (redis-py's
SentinelConnectionPool; a command that meets the old primary turned read-only reconnects too).
`sentinel://` is accepted as a synonym of `redis+sentinel://`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from redis import Redis
from redis.sentinel import Sentinel

SENTINEL_SCHEMES = ("redis+sentinel", "sentinel")
DEFAULT_SENTINEL_PORT = 26379


@dataclass(frozen=True)
class SentinelTarget:
    """What a Sentinel URL says: where the sentinels are and which primary to ask them for."""

    sentinels: list[tuple[str, int]]
    service_name: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None
    options: dict[str, str] = field(default_factory=dict)


def is_sentinel_url(url: str) -> bool:
    return urlsplit(url).scheme in SENTINEL_SCHEMES


def parse_sentinel_url(url: str) -> SentinelTarget:
    """Parse a Sentinel URL; ValueError names what is missing."""
    parts = urlsplit(url)
    if parts.scheme not in SENTINEL_SCHEMES:
        raise ValueError(f"not a Sentinel URL: {parts.scheme}://")
    credentials, _, hosts = parts.netloc.rpartition("@")
    username, _, password = credentials.partition(":") if credentials else ("", "", "")
    sentinels = [_host_port(item) for item in hosts.split(",") if item]
    if not sentinels:
        raise ValueError("a Sentinel URL names at least one sentinel host:port")
    path = [unquote(p) for p in parts.path.split("/") if p]
    if not path:
        raise ValueError("a Sentinel URL names the service: redis+sentinel://host:26379/mymaster")
    db = int(path[1]) if len(path) > 1 else 0
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return SentinelTarget(
        sentinels=sentinels,
        service_name=path[0],
        db=db,
        username=unquote(username) or None,
        password=unquote(password) or None,
        sentinel_password=query.pop("sentinel_password", None),
        options=query,
    )


def _host_port(item: str) -> tuple[str, int]:
    if item.startswith("["):  # [::1]:26379
        host, _, port = item[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "")
    return host, int(port) if port else DEFAULT_SENTINEL_PORT


def client_from_url(url: str, **kwargs: Any) -> Redis:
    """A client for REDIS_URL with the caller's timeouts and retry policy (`kwargs`)."""
    if not is_sentinel_url(url):
        return Redis.from_url(url, **kwargs)
    target = parse_sentinel_url(url)
    sentinel_kwargs: dict[str, Any] = {
        key: kwargs[key] for key in ("socket_timeout", "socket_connect_timeout") if key in kwargs
    }
    if target.sentinel_password:
        sentinel_kwargs["password"] = target.sentinel_password
    sentinel = Sentinel(target.sentinels, sentinel_kwargs=sentinel_kwargs)
    return sentinel.master_for(
        target.service_name,
        redis_class=Redis,
        db=target.db,
        username=target.username,
        password=target.password,
        **kwargs,
    )


def rq_settings(url: str) -> dict[str, Any]:
    """The settings `rq worker -c jobs.rq_settings` reads: REDIS_URL, or RQ's SENTINEL dict."""
    if not is_sentinel_url(url):
        return {"REDIS_URL": url}
    target = parse_sentinel_url(url)
    sentinel_kwargs: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 2}
    if target.sentinel_password:
        sentinel_kwargs["password"] = target.sentinel_password
    return {
        "SENTINEL": {
            "INSTANCES": target.sentinels,
            "MASTER_NAME": target.service_name,
            "DB": target.db,
            "USERNAME": target.username,
            "PASSWORD": target.password,
            "SOCKET_TIMEOUT": 5,
            "SENTINEL_KWARGS": sentinel_kwargs,
        }
    }
