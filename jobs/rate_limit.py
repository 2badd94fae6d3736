"""Per-sender limits, counted in Redis so every worker sees the same numbers.

Messages over the limit are still stored (nothing is lost); they are just not processed,
and the sender is told once per window to slow down.
"""

from __future__ import annotations

import math
import random
import time

from redis import Redis

UNKNOWN_SENDER_REPLY_EVERY = 3600


def over_limit(redis: Redis, channel: str, sender: str, limit: int, window: int) -> int | None:
    """None while within the limit; else the 1-based count past it (1 = first message over).

    The window starts at the sender's first message (not at a clock boundary), so a burst is
    never split across two windows and let through twice.
    """
    key = f"relay:rate:{channel}:{sender}"
    pipe = redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, window, nx=True)
    count = int(pipe.execute()[0])
    return count - limit if count > limit else None


def seconds_left_in_window(redis: Redis, channel: str, sender: str) -> int:
    return max(1, int(redis.ttl(f"relay:rate:{channel}:{sender}")))


def first_notice(redis: Redis, kind: str, channel: str, sender: str, every: int) -> bool:
    """True once per `every` seconds per sender: for replies that cost money to repeat."""
    return bool(redis.set(f"relay:notice:{kind}:{channel}:{sender}", 1, nx=True, ex=every))


def send_wait(redis: Redis, channel: str, per_second: int) -> int:
    """0 if this send fits in the current second's budget for the whole provider account;
    else the seconds to wait before trying again. The wait is spread over the backlog (as
    many seconds as the refused sends need at `per_second`, picked at random), so a backlog
    of a thousand replies is not retried all at once every second: that churn ran the
    workers flat and let ~2 replies a second through instead of 25 (bench/ingest.py)."""
    key = f"relay:sendrate:{channel}:{int(time.time())}"
    pipe = redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, 5)
    count = int(pipe.execute()[0])
    if count <= per_second:
        return 0
    return random.randint(1, max(1, math.ceil((count - per_second) / per_second)))
