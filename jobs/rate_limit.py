"""Per-sender limits, counted in Redis so every worker sees the same numbers.

Messages over the limit are still stored (nothing is lost); they are just not processed,
and the sender is told once per window to slow down.
"""

from __future__ import annotations

import time

from redis import Redis

UNKNOWN_SENDER_REPLY_EVERY = 3600


def over_limit(redis: Redis, channel: str, sender: str, limit: int, window: int) -> int | None:
    """None while within the limit; else the 1-based count past it (1 = first message over)."""
    bucket = int(time.time() // window)
    key = f"relay:rate:{channel}:{sender}:{bucket}"
    pipe = redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, window * 2)
    count = int(pipe.execute()[0])
    return count - limit if count > limit else None


def seconds_left_in_window(window: int) -> int:
    return max(1, int(window - time.time() % window))


def first_notice(redis: Redis, kind: str, channel: str, sender: str, every: int) -> bool:
    """True once per `every` seconds per sender: for replies that cost money to repeat."""
    return bool(redis.set(f"relay:notice:{kind}:{channel}:{sender}", 1, nx=True, ex=every))


def over_send_rate(redis: Redis, channel: str, per_second: int) -> bool:
    """Count this send in the current second for the whole provider account."""
    key = f"relay:sendrate:{channel}:{int(time.time())}"
    pipe = redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, 5)
    return int(pipe.execute()[0]) > per_second
