"""The console's locks: login required, CSRF on every POST, hashed passwords, one-time
passwords, throttled guessing, expiring sessions, escaped officers' text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from relay import operators
from relay.db import session_scope
from relay.models import AuditEntry, Operator, OperatorSession, Ticket
from relay.simulator import send_text
from tests.support import drain
from tests.web_support import PASSWORD, csrf_from, logged_in, login, make_operator

CONSOLE_PAGES = [
    "/console/",
    "/console/tickets",
    "/console/tickets/1",
    "/console/review",
    "/console/review/1",
    "/console/submissions/1",
    "/console/media/1/0",
    "/console/password",
    "/simulator/",
]


@pytest.fixture
def app_client(demo: str, redis_conn):
    from webhooks import create_app

    return create_app().test_client()


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_pages_without_login_redirect_to_the_login_form(app_client, path: str) -> None:
    response = app_client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/login?next=")


def test_json_endpoints_without_login_answer_401(app_client) -> None:
    assert app_client.get("/simulator/thread.json?phone=081234567801").status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/console/login",
        "/console/logout",
        "/console/tickets/1/reply",
        "/console/tickets/1/status",
        "/console/review/1/accept",
        "/console/review/1/dismiss",
        "/console/submissions/1/change",
        "/console/password",
        "/simulator/send",
    ],
)
def test_posts_without_the_csrf_token_are_refused(app_client, path: str) -> None:
    logged_in(app_client)
    response = app_client.post(path, data={"body": "x", "status": "closed", "text": "YA"})
    assert response.status_code == 400
    assert b"CSRF" in response.data
    wrong = app_client.post(path, data={"csrf_token": "forged", "body": "x"})
    assert wrong.status_code == 400


def test_csrf_refusal_changes_nothing(app_client, redis_conn) -> None:
    send_text("081234567801", "kotak suara rusak", operator="ani")
    drain(redis_conn)
    logged_in(app_client)
    with session_scope() as session:
        ticket_id = session.scalars(select(Ticket.id)).one()
    response = app_client.post(f"/console/tickets/{ticket_id}/reply", data={"body": "hi"})
    assert response.status_code == 400
    with session_scope() as session:
        assert (
            session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket_replied")) is None
        )


def test_passwords_are_stored_hashed_and_the_one_time_password_must_be_replaced(
    app_client,
) -> None:
    with session_scope() as session:
        _, one_time = operators.add(session, "budi")
    with session_scope() as session:
        stored = session.scalars(select(Operator).where(Operator.name == "budi")).one()
        assert one_time not in stored.password_hash
        assert stored.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert login(app_client, "budi", one_time).status_code == 302
    # Every page sends the operator to choose a password first.
    forced = app_client.get("/console/")
    assert forced.status_code == 302 and forced.headers["Location"] == "/console/password"
    page = app_client.get("/console/password")
    short = app_client.post(
        "/console/password",
        data={"password": "short", "again": "short", "csrf_token": csrf_from(page.data)},
    )
    assert short.status_code == 400
    done = app_client.post(
        "/console/password",
        data={"password": PASSWORD, "again": PASSWORD, "csrf_token": csrf_from(page.data)},
    )
    assert done.status_code == 302
    assert app_client.get("/console/").status_code == 200


def test_wrong_passwords_are_throttled_per_client_and_name(app_client) -> None:
    make_operator("citra")
    for _ in range(operators.FREE_FAILURES):
        assert login(app_client, "citra", "wrong password").status_code == 401
    # This client waits (the backoff), the right password included; other clients do not
    # (tests/test_console_login_throttle.py).
    throttled = login(app_client, "citra", PASSWORD)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert "Terlalu banyak percobaan gagal" in throttled.get_data(as_text=True)


def test_unknown_names_fail_like_wrong_passwords(app_client) -> None:
    response = login(app_client, "nobody", "whatever")
    assert response.status_code == 401
    assert "Nama atau kata sandi salah." in response.get_data(as_text=True)


def test_sessions_expire_when_idle_and_after_eight_hours(app_client) -> None:
    logged_in(app_client)
    assert app_client.get("/console/").status_code == 200
    with session_scope() as session:
        session.execute(
            update(OperatorSession).values(
                last_seen_at=datetime.now(UTC) - operators.IDLE_LIFETIME - timedelta(minutes=1)
            )
        )
    assert app_client.get("/console/").status_code == 302
    login(app_client)
    assert app_client.get("/console/").status_code == 200
    with session_scope() as session:
        session.execute(
            update(OperatorSession).values(
                created_at=datetime.now(UTC) - operators.ABSOLUTE_LIFETIME - timedelta(minutes=1)
            )
        )
    assert app_client.get("/console/").status_code == 302


def test_logout_ends_the_session_on_the_server(app_client) -> None:
    logged_in(app_client)
    cookie = app_client.get_cookie("relay_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    page = app_client.get("/console/")
    assert (
        app_client.post("/console/logout", data={"csrf_token": csrf_from(page.data)}).status_code
        == 302
    )
    with session_scope() as session:
        assert session.scalars(select(OperatorSession)).all() == []
    assert app_client.get("/console/").status_code == 302


def test_officer_text_with_script_is_shown_as_text(app_client, redis_conn) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    send_text("081234567801", f"BANTUAN {attack}", operator="ani")
    drain(redis_conn)
    logged_in(app_client)
    with session_scope() as session:
        ticket_id = session.scalars(select(Ticket.id)).one()
    for path in ("/console/", "/console/tickets", f"/console/tickets/{ticket_id}"):
        response = app_client.get(path)
        html = response.get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    html = app_client.get(f"/console/tickets/{ticket_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    simulator = app_client.get("/simulator/?phone=081234567801").get_data(as_text=True)
    assert "<script>alert" not in simulator and "&lt;script&gt;" in simulator


def test_login_redirects_only_to_this_site(app_client) -> None:
    make_operator("dewi")
    page = app_client.get("/console/login")
    response = app_client.post(
        "/console/login",
        data={
            "name": "dewi",
            "password": PASSWORD,
            "next": "https://evil.example/",
            "csrf_token": csrf_from(page.data),
        },
    )
    assert response.headers["Location"] == "/console/"


def test_operators_add_prints_a_one_time_password_that_works_once(app_client) -> None:
    from webhooks import create_app

    runner = create_app().test_cli_runner()
    result = runner.invoke(args=["operators", "add", "eko"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    assert len(password) >= 12
    again = runner.invoke(args=["operators", "add", "eko"])
    assert again.exit_code != 0 and "exists" in again.output
    assert login(app_client, "eko", password).headers["Location"] == "/console/"
    assert app_client.get("/console/").headers["Location"] == "/console/password"
    reset = runner.invoke(args=["operators", "reset", "eko"])
    assert reset.exit_code == 0
    with session_scope() as session:
        assert session.scalars(select(OperatorSession)).all() == []
    listed = runner.invoke(args=["operators", "list"])
    assert "eko\tactive\toperator" in listed.output
