"""Redis for code serving an HTTP request: every call bounded, an outage remembered.

A webhook must answer its provider within seconds whatever Redis does (Twilio gives up after
15 s), and it does not need Redis to keep its promise: the message is stored first, and the
sweeper enqueues whatever the request could not. So a request talks to Redis with 0.25 s
socket timeouts and no retries, and once a call has failed, the requests of this process skip
Redis altogether for UNHEALTHY_FOR seconds; the first request after that is the probe. With
Redis frozen (SIGSTOP, a full disk, a failover) a webhook then costs at most one short
timeout per process every few seconds, not a worker's 5 s timeout (and redis-py's retries)
per call.

Workers keep jobs.queues' longer timeouts: they have no one waiting on the line.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from contextvars import ContextVar

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from jobs.redis_client import client_from_url

log = logging.getLogger(__name__)

SOCKET_TIMEOUT = 0.25
UNHEALTHY_FOR = 5.0

_clients: dict[tuple[str, int], Redis] = {}
_unhealthy_until: dict[str, float] = {}
_lock = threading.Lock()
# Set while webhooks.hot serves a request without Flask's request context: jobs.queues then
# talks to Redis as it does for any request (this module's bounded client and its memo).
SERVING: ContextVar[bool] = ContextVar("serving_a_request", default=False)


def serving() -> bool:
    return SERVING.get()


class RedisUnhealthy(RedisConnectionError):
    """A recent call to this Redis failed: not tried again until the memo expires."""


def connection(url: str) -> Redis:
    """The bounded client for `url`; raises RedisUnhealthy while an outage is remembered."""
    left = _unhealthy_until.get(url, 0.0) - time.monotonic()
    if left > 0:
        raise RedisUnhealthy(f"Redis failed recently; next try in {left:.1f}s")
    key = (url, os.getpid())
    client = _clients.get(key)
    if client is None:
        client = client_from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), 0),  # the caller degrades instead; a retry only waits
        )
        _clients[key] = client
    return client


def failed(url: str, error: BaseException) -> None:
    """Remember that `url` failed, so the next requests do not wait on it."""
    with _lock:
        if _unhealthy_until.get(url, 0.0) <= time.monotonic():
            log.warning("Redis unreachable from requests for %ss: %s", UNHEALTHY_FOR, error)
        _unhealthy_until[url] = time.monotonic() + UNHEALTHY_FOR


def remembered_unhealthy(url: str) -> bool:
    return _unhealthy_until.get(url, 0.0) > time.monotonic()
