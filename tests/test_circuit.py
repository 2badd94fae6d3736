"""The per-provider circuit breaker (jobs.circuit) on a real Redis: closed, open for the
cool-down, then exactly one probe at a time, closed again by the probe's success."""

from __future__ import annotations

import time

from channels.base import CONNECTION, FAILED, SendError
from jobs import circuit
from relay.config import Settings

SETTINGS = Settings(send_circuit_failures=2, send_circuit_cooldown=1)
TIMEOUT = SendError(CONNECTION, "ReadTimeout")


def _cool_down_passes(redis_conn) -> None:
    deadline = time.monotonic() + 10
    while redis_conn.exists("relay:circuit:twilio:open"):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_failures_in_a_row_open_the_circuit_then_one_probe_closes_it(redis_conn) -> None:
    assert circuit.check(redis_conn, "twilio", SETTINGS).wait is None
    circuit.record(redis_conn, "twilio", SETTINGS, TIMEOUT)
    assert circuit.check(redis_conn, "twilio", SETTINGS).wait is None  # one is not a row
    circuit.record(redis_conn, "twilio", SETTINGS, TIMEOUT)
    assert circuit.check(redis_conn, "twilio", SETTINGS).wait == 1  # open: wait it out
    assert circuit.check(redis_conn, "sms-gateway", SETTINGS).wait is None  # others go on

    _cool_down_passes(redis_conn)
    assert circuit.check(redis_conn, "twilio", SETTINGS).wait is None  # the probe
    assert circuit.check(redis_conn, "twilio", SETTINGS).wait == circuit.PROBE_WAIT
    circuit.record(redis_conn, "twilio", SETTINGS, TIMEOUT)  # the probe failed: open again
    assert circuit.check(redis_conn, "twilio", SETTINGS).wait == 1

    _cool_down_passes(redis_conn)
    assert circuit.check(redis_conn, "twilio", SETTINGS).wait is None  # the next probe
    circuit.record(redis_conn, "twilio", SETTINGS, None)  # succeeded: closed
    assert circuit.check(redis_conn, "twilio", SETTINGS).wait is None
    assert circuit.check(redis_conn, "twilio", SETTINGS).wait is None


def test_a_provider_that_answers_is_not_failing(redis_conn) -> None:
    """A refusal (4xx) or a 429 means the provider is up: the failures in a row start over."""
    circuit.record(redis_conn, "twilio", SETTINGS, TIMEOUT)
    circuit.record(redis_conn, "twilio", SETTINGS, SendError(FAILED, "21211 invalid number"))
    circuit.record(redis_conn, "twilio", SETTINGS, TIMEOUT)
    assert circuit.check(redis_conn, "twilio", SETTINGS).wait is None


def _writes(redis_conn) -> int:
    stats = redis_conn.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("del", "unlink"))


def test_a_success_with_nothing_counted_writes_nothing(redis_conn) -> None:
    """The common case, a healthy provider: the check finds no key, so the success has
    nothing to clear and costs no DEL."""
    gate = circuit.check(redis_conn, "twilio", SETTINGS)
    assert gate == circuit.Gate(None, True)
    before = _writes(redis_conn)
    circuit.record(redis_conn, "twilio", SETTINGS, None, gate.clean)
    assert _writes(redis_conn) == before


def test_a_success_after_a_failure_still_clears_it(redis_conn) -> None:
    circuit.record(redis_conn, "twilio", SETTINGS, TIMEOUT)
    gate = circuit.check(redis_conn, "twilio", SETTINGS)
    assert gate == circuit.Gate(None, False)  # one failure counted: not clean
    circuit.record(redis_conn, "twilio", SETTINGS, None, gate.clean)
    assert not redis_conn.exists("relay:circuit:twilio:failures")
    circuit.record(redis_conn, "twilio", SETTINGS, TIMEOUT)  # so one more is not a row
    assert circuit.check(redis_conn, "twilio", SETTINGS).wait is None


def test_the_probe_is_never_clean(redis_conn) -> None:
    """Its success must close the circuit (clear the probe and the failures)."""
    circuit.record(redis_conn, "twilio", SETTINGS, TIMEOUT)
    circuit.record(redis_conn, "twilio", SETTINGS, TIMEOUT)
    _cool_down_passes(redis_conn)
    gate = circuit.check(redis_conn, "twilio", SETTINGS)
    assert gate == circuit.Gate(None, False)  # the probe
    circuit.record(redis_conn, "twilio", SETTINGS, None, gate.clean)
    assert not redis_conn.exists("relay:circuit:twilio:probe")
    assert not redis_conn.exists("relay:circuit:twilio:failures")
