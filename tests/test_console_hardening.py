"""Operators' pages are never cached and are pinned to HTTPS once reached over it; outside
development the app refuses to start with the built-in SECRET_KEY."""

from __future__ import annotations

import subprocess

import pytest

from relay.config import InsecureSettings, Settings
from tests.live import BIN, process_env
from tests.web_support import logged_in

PRIVATE = [
    "/console/login",
    "/console/",
    "/console/tickets",
    "/console/review",
    "/console/approvals",
    "/console/submissions/999",
    "/simulator/",
    "/simulator/thread.json?phone=081234567801",
]


@pytest.fixture
def app_client(demo: str, redis_conn):
    from webhooks import create_app

    return create_app().test_client()


@pytest.mark.parametrize("path", PRIVATE)
def test_console_and_simulator_responses_are_never_stored(app_client, path: str) -> None:
    anonymous = app_client.get(path)  # the login page, or a redirect / 401 to it
    assert anonymous.headers["Cache-Control"] == "no-store", anonymous.status
    logged_in(app_client)
    page = app_client.get(path)  # the page itself, or its 404
    assert page.headers["Cache-Control"] == "no-store", page.status


def test_public_pages_stay_cacheable(app_client) -> None:
    assert "no-store" not in app_client.get("/").headers.get("Cache-Control", "")


def test_hsts_is_sent_over_https_only(app_client) -> None:
    secure = app_client.get("/console/login", base_url="https://relay.example.org")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    # Behind the reverse proxy: X-Forwarded-Proto says how the browser came.
    proxied = app_client.get("/console/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in proxied.headers
    plain = app_client.get("/console/login")
    assert "Strict-Transport-Security" not in plain.headers


def test_production_refuses_the_built_in_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from webhooks import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("RELAY_ENV", "production")
    with pytest.raises(InsecureSettings, match="SECRET_KEY"):
        create_app()
    monkeypatch.delenv("RELAY_ENV")  # unset is production too
    with pytest.raises(InsecureSettings, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", Settings.secret_key)  # the default, spelled out
    with pytest.raises(InsecureSettings):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-of-a-production-deployment-0123456789")
    assert create_app().secret_key.startswith("a-real-secret")
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.setenv("RELAY_ENV", "development")
    assert create_app().secret_key == Settings.secret_key


def test_the_cli_of_a_production_deployment_refuses_to_start_too() -> None:
    env = process_env(RELAY_ENV="production", SECRET_KEY="")
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "webhooks", "operators", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is the built-in development value" in result.stderr
