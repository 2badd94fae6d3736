"""Nobody can lock the help desk out: guessing is slowed per (client address, name) with a
growing backoff, so failures from other addresses never refuse the rightful operator;
operators see the failures since their last login; X-Forwarded-For counts only from the
proxies in TRUSTED_PROXIES."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from relay import operators
from relay.db import session_scope
from relay.models import AuditEntry, LoginFailure
from tests.web_support import PASSWORD, csrf_from, make_operator, operator_row

OFFICE = "198.51.100.20"  # the rightful operator's address
ATTACKER = "203.0.113.66"


@pytest.fixture
def app_client(demo: str, redis_conn, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.1, 192.0.2.0/28")
    from webhooks import create_app

    return create_app().test_client()


def attempt(client, ip: str, name: str, password: str, forwarded_for: str | None = None):
    """One login POST arriving from `ip` (the TCP peer), optionally through a proxy header."""
    page = client.get("/console/login", environ_base={"REMOTE_ADDR": ip})
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return client.post(
        "/console/login",
        data={"name": name, "password": password, "csrf_token": csrf_from(page.data)},
        environ_base={"REMOTE_ADDR": ip},
        headers=headers,
    )


def wait_out(seconds: int) -> None:
    """Move every recorded failure `seconds` into the past, as if the backoff had elapsed."""
    with session_scope() as session:  # row by row: SQLite keeps datetimes as text
        for failure in session.scalars(select(LoginFailure)):
            failure.at = failure.at - timedelta(seconds=seconds)


def failure_addresses() -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(LoginFailure.ip).order_by(LoginFailure.id)))


def test_fifty_wrong_passwords_elsewhere_never_lock_the_operator_out(app_client) -> None:
    make_operator("ani")
    for _ in range(50):
        assert attempt(app_client, ATTACKER, "ani", "wrong password").status_code in (401, 429)
    assert attempt(app_client, ATTACKER, "ani", "still wrong").status_code == 429
    # The operator, from their own address, is let in at once.
    assert attempt(app_client, OFFICE, "ani", PASSWORD).status_code == 302


def test_guessing_spread_over_many_addresses_is_slowed_but_not_a_lockout(app_client) -> None:
    make_operator("ani")
    for n in range(50):
        assert attempt(app_client, f"203.0.113.{n + 1}", "ani", "wrong").status_code == 401
    # With the name under attack, an address that failed once backs off at once ...
    second = attempt(app_client, "203.0.113.1", "ani", "wrong again")
    assert second.status_code == 429 and int(second.headers["Retry-After"]) > 0
    # ... and even the right password from that address waits its turn ...
    assert attempt(app_client, "203.0.113.2", "ani", PASSWORD).status_code == 429
    # ... while an address with no failures for the name gets in at once.
    assert attempt(app_client, OFFICE, "ani", PASSWORD).status_code == 302


def test_the_same_client_failing_waits_longer_each_time(app_client) -> None:
    make_operator("ani")
    for _ in range(operators.FREE_FAILURES):
        assert attempt(app_client, ATTACKER, "ani", "wrong").status_code == 401
    waits = []
    for _ in range(4):
        refused = attempt(app_client, ATTACKER, "ani", "wrong")
        assert refused.status_code == 429
        assert "Coba lagi dalam" in refused.get_data(as_text=True)
        waits.append(int(refused.headers["Retry-After"]))
        wait_out(waits[-1])
        assert attempt(app_client, ATTACKER, "ani", "wrong").status_code == 401
    assert waits == sorted(waits) and waits[-1] >= 4 * waits[0], waits
    # A throttled attempt is refused without trying the password: it is not counted.
    assert len(failure_addresses()) == operators.FREE_FAILURES + 4
    # Once the backoff has passed, the right password works from that address too.
    wait_out(int(attempt(app_client, ATTACKER, "ani", PASSWORD).headers["Retry-After"]))
    assert attempt(app_client, ATTACKER, "ani", PASSWORD).status_code == 302


def test_the_operator_is_told_of_failed_attempts_since_their_last_login(app_client) -> None:
    make_operator("ani")
    for n in range(3):
        attempt(app_client, f"203.0.113.{n + 10}", "ani", "wrong")
    assert attempt(app_client, OFFICE, "ani", PASSWORD).status_code == 302
    page = app_client.get("/console/", environ_base={"REMOTE_ADDR": OFFICE})
    assert (
        "3 percobaan masuk gagal sejak Anda terakhir masuk (terakhir dari 203.0.113.12"
        in page.get_data(as_text=True)
    )
    with session_scope() as session:
        login = session.scalars(select(AuditEntry).where(AuditEntry.action == "login")).one()
    assert login.detail["failed_since_last_login"] == 3
    assert operator_row("ani").last_login_at is not None
    # Told once: the next login starts from zero.
    app_client.post(
        "/console/logout",
        data={"csrf_token": csrf_from(page.data)},
        environ_base={"REMOTE_ADDR": OFFICE},
    )
    assert attempt(app_client, OFFICE, "ani", PASSWORD).status_code == 302
    again = app_client.get("/console/", environ_base={"REMOTE_ADDR": OFFICE})
    assert "percobaan masuk gagal" not in again.get_data(as_text=True)


def test_forwarded_for_from_an_untrusted_peer_does_not_change_the_address(app_client) -> None:
    make_operator("ani")
    for n in range(operators.FREE_FAILURES):
        spoofed = f"198.51.100.{n + 100}"
        assert attempt(app_client, ATTACKER, "ani", "wrong", spoofed).status_code == 401
    # A fresh forged address each time does not escape the backoff of the real one.
    assert attempt(app_client, ATTACKER, "ani", "wrong", "198.51.100.250").status_code == 429
    assert failure_addresses() == [ATTACKER] * operators.FREE_FAILURES
    # Nor can a forged header put the operator's own address in the backoff.
    assert attempt(app_client, OFFICE, "ani", PASSWORD).status_code == 302


def test_forwarded_for_from_a_trusted_proxy_names_the_client(app_client) -> None:
    make_operator("ani")
    # The client wrote "6.6.6.6"; the trusted proxies appended the address they saw.
    chain = f"6.6.6.6, {ATTACKER}, 192.0.2.3"
    for _ in range(operators.FREE_FAILURES):
        assert attempt(app_client, "10.0.0.1", "ani", "wrong", chain).status_code == 401
    assert failure_addresses() == [ATTACKER] * operators.FREE_FAILURES
    assert attempt(app_client, "10.0.0.1", "ani", "wrong", chain).status_code == 429
    # Other clients behind the same proxy are not slowed by the attacker.
    assert attempt(app_client, "10.0.0.1", "ani", PASSWORD, OFFICE).status_code == 302


def test_client_address_takes_the_right_most_untrusted_hop() -> None:
    from web.auth import client_address, parse_networks

    proxies = parse_networks(["10.0.0.1", "192.0.2.0/28", "2001:db8::/32"])
    assert client_address("203.0.113.9", "1.2.3.4", proxies) == "203.0.113.9"
    assert client_address("10.0.0.1", "1.2.3.4, 5.6.7.8", proxies) == "5.6.7.8"
    assert client_address("10.0.0.1", "1.2.3.4, 5.6.7.8, 192.0.2.5", proxies) == "5.6.7.8"
    assert client_address("2001:db8::1", "garbage, 2001:db8::2", proxies) == "garbage"
    assert client_address("10.0.0.1", "", proxies) == "10.0.0.1"
    assert client_address("10.0.0.1", "192.0.2.1", proxies) == "192.0.2.1"
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        parse_networks(["not-an-address"])
