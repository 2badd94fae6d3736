"""A circuit breaker per provider, kept in Redis so every sender process shares it.

A provider that hangs makes each send wait for its timeout. Without a breaker every queued
reply pays that wait in turn, and a sender serving several channels stalls them all (70 s
for healthy SMS-gateway tallies while Twilio hung). Here, after `failures` sends in a row
failed to connect or get an answer (timeouts, connection errors, 5xx), the circuit opens:
for `cooldown` seconds the provider's sends are put back for later without calling it
(no attempt is counted). Then one send is let through as a probe: its success closes the
circuit, its failure opens it again. A hanging provider thus costs one timeout per
cool-down, whatever the number of messages waiting for it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from redis import Redis

from channels.base import CONNECTION, SEND_CONNECT_TIMEOUT, SendError
from relay.config import Settings

FAILURE_MEMORY = 600  # seconds: failures further apart than this are not "in a row"
PROBE_WAIT = 2  # seconds a send waits while another one probes the provider


def _key(provider: str, part: str) -> str:
    return f"relay:circuit:{provider}:{part}"


class Gate(NamedTuple):
    """What a send found before calling the provider: `wait` (see check), and
    `clean`: no failure counted, the circuit neither open nor probed (nothing for a success
    to clear)."""

    wait: int | None
    clean: bool


def check(redis: Redis, provider: str, settings: Settings) -> Gate:
    """`wait`: None when a send may call `provider` now (closed, or this send is the probe),
    otherwise how many seconds it should wait before asking again; and whether the circuit
    was clean (Gate)."""
    with redis.pipeline(transaction=False) as pipe:  # one round trip
        pipe.pttl(_key(provider, "open"))
        pipe.get(_key(provider, "failures"))
        open_ms, failures = pipe.execute()
    if open_ms > 0:
        return Gate(max(1, math.ceil(open_ms / 1000)), False)
    if failures is None and open_ms == -2:  # neither key exists
        return Gate(None, True)
    failures = int(failures or 0)
    if failures < settings.send_circuit_failures:
        return Gate(None, False)
    # Half open: the cool-down is over; one send probes, the others wait for its outcome.
    probe_ttl = math.ceil(SEND_CONNECT_TIMEOUT + settings.send_timeout) + 5
    if redis.set(_key(provider, "probe"), 1, nx=True, ex=probe_ttl):
        return Gate(None, False)
    return Gate(PROBE_WAIT, False)


def record(
    redis: Redis, provider: str, settings: Settings, error: SendError | None, clean: bool = False
) -> None:
    """Count the outcome of a call to `provider` (None: it succeeded). `clean`: the send's
    check found nothing counted (Gate.clean), so its success has nothing to clear and writes
    nothing (a DEL per send, ~0.1 ms). A failure another sender counts while this send is
    under way is then kept: it came after this call began, and says more about the provider
    now than this success does."""
    if error is None and clean:
        return
    if error is None:
        redis.delete(_key(provider, "failures"), _key(provider, "open"), _key(provider, "probe"))
        return
    if error.kind != CONNECTION:  # the provider answered: it is up
        redis.delete(_key(provider, "failures"), _key(provider, "probe"))
        return
    with redis.pipeline() as pipe:
        pipe.incr(_key(provider, "failures"))
        pipe.expire(_key(provider, "failures"), FAILURE_MEMORY)
        failures = pipe.execute()[0]
    if failures >= settings.send_circuit_failures:
        with redis.pipeline() as pipe:
            pipe.set(_key(provider, "open"), 1, ex=settings.send_circuit_cooldown)
            pipe.delete(_key(provider, "probe"))
            pipe.execute()
