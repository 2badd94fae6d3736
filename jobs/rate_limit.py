"""Per-sender limits, counted in Redis so every worker sees the same numbers.

Messages over the limit are still stored (nothing is lost). An officer's are processed
after the window (jobs.inbound defers them), and the officer is told once per window;
an outsider's are not processed. Outsiders' answers have their own budgets
(`unknown_reply_refused`): they cost money and help nobody report a tally.
"""

from __future__ import annotations

import math
import random
import time

from redis import Redis


def over_limit(redis: Redis, channel: str, sender: str, limit: int, window: int) -> int | None:
    """None while within the limit; else the 1-based count past it (1 = first message over).

    The window starts at the sender's first message (not at a clock boundary), so a burst is
    never split across two windows and let through twice.
    """
    key = f"relay:rate:{channel}:{sender}"
    count = _count(redis, key, window)
    return count - limit if count > limit else None


def seconds_left_in_window(redis: Redis, channel: str, sender: str) -> int:
    """Seconds until the sender's window ends (at least 1; 1 when no window is open)."""
    return max(1, math.ceil(int(redis.pttl(f"relay:rate:{channel}:{sender}")) / 1000))


def window_full(redis: Redis, channel: str, sender: str, limit: int) -> bool:
    return int(redis.get(f"relay:rate:{channel}:{sender}") or 0) >= limit


def first_notice(redis: Redis, kind: str, channel: str, sender: str, every: int) -> bool:
    """True once per `every` seconds per sender: for replies that cost money to repeat."""
    return bool(redis.set(f"relay:notice:{kind}:{channel}:{sender}", 1, nx=True, ex=every))


def unknown_reply_refused(
    redis: Redis,
    channel: str,
    sender: str,
    budget: tuple[int, int],
    shared_budget: tuple[int, int],
) -> str | None:
    """None when an answer to this sender on no roster may go out (and counts it); else why
    not: "sender" (`budget` = (answers, seconds) used up) or "global" (`shared_budget`, the
    answers to all outsiders on this channel, used up). An answer refused for the global
    budget does not count against the sender's, so a later try (a /start again) is answered."""
    mine = f"relay:unknown-replies:{channel}:{sender}"
    if _count(redis, mine, budget[1]) > budget[0]:
        return "sender"
    if _count(redis, f"relay:unknown-replies:{channel}", shared_budget[1]) > shared_budget[0]:
        redis.decr(mine)
        return "global"
    return None


def _count(redis: Redis, key: str, window: int) -> int:
    """Add one to a counter that lives `window` seconds from its first use; the new count.
    One round trip, no MULTI/EXEC: were the EXPIRE lost, the next count sets it."""
    pipe = redis.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, window, nx=True)
    return int(pipe.execute()[0])


def send_wait(redis: Redis, channel: str, per_second: int) -> int:
    """0 if this send fits in the current second's budget for the whole provider account;
    else the seconds to wait before trying again. The wait is spread over the backlog (as
    many seconds as the refused sends need at `per_second`, picked at random), so a backlog
    of a thousand replies is not retried all at once every second: that churn ran the
    workers flat and let ~2 replies a second through instead of 25 (bench/ingest.py)."""
    key = f"relay:sendrate:{channel}:{int(time.time())}"
    pipe = redis.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, 5)
    count = int(pipe.execute()[0])
    if count <= per_second:
        return 0
    return random.randint(1, max(1, math.ceil((count - per_second) / per_second)))
