"""`bin/relay`: its help names TPS Relay's own commands, usage says `bin/relay`, listing
needs no settings, and a refused setting is one line, not a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from relay.config import ROOT

OWN_GROUPS = (
    "audit",
    "db",
    "demo",
    "election",
    "forms",
    "jobs",
    "ocr",
    "operators",
    "regions",
    "results",
    "roster",
    "simulate",
    "telegram",
)


def relay(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as bin/relay does, with only the given settings in the environment."""
    return subprocess.run(
        [sys.executable, "-m", "webhooks.relay_cli", *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_own_commands_with_a_line_each_without_settings() -> None:
    result = relay("--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Usage: bin/relay [OPTIONS] COMMAND")
    assert "TPS Relay" in out
    commands = out.split("Commands:\n", 1)[1].splitlines()
    listed = [line.split()[0] for line in commands if line.strip()]
    assert listed == sorted(OWN_GROUPS)
    for line in commands:
        assert len(line.split(maxsplit=1)) == 2, f"no description: {line!r}"
    for flask_generic in ("routes", "shell", "Flask", "--app", "FLASK_APP"):
        assert flask_generic not in out


def test_subcommand_usage_says_bin_relay() -> None:
    result = relay("roster", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: bin/relay roster [OPTIONS] COMMAND")
    assert "flask" not in result.stdout.lower()


def test_refused_setting_is_one_line_and_exit_2() -> None:
    result = relay("results", "verify")
    assert result.returncode == 2
    assert result.stderr.startswith("bin/relay: SECRET_KEY is the built-in development value")
    assert "Traceback" not in result.stderr


def test_commands_run_through_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'relay.db'}"
    upgraded = relay("db", "upgrade", RELAY_ENV="development", DATABASE_URL=url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "database schema is up to date" in upgraded.stdout
    assert "alembic" not in upgraded.stderr, "migration chatter"
    added = relay("operators", "add", "rina", RELAY_ENV="development", DATABASE_URL=url)
    assert added.returncode == 0, added.stderr
    listed = relay("operators", "list", RELAY_ENV="development", DATABASE_URL=url)
    assert listed.returncode == 0, listed.stderr
    assert "rina" in listed.stdout


def test_flask_developer_commands_stay_callable_but_unlisted() -> None:
    result = relay("shell", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: bin/relay shell")
