"""Migration 0013: outbound messages gain `fallback_of_id` (an SMS copy points at the reply it
replaces, at most one copy each) and `provider_status`; `tally_evidence` is new. Existing
messages survive the upgrade untouched, and the downgrade removes exactly what it added."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from relay.config import ROOT
from relay.db import dispose_engines, get_engine
from tests.support import throwaway_postgres


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    server = os.environ.get("TEST_DATABASE_URL", "")
    if server.startswith("postgresql"):
        with throwaway_postgres(server, "relay_migration_0013") as made:
            yield made.owner_url
    else:
        yield f"sqlite:///{tmp_path / 'old.db'}"
        dispose_engines()


def _migrate(url: str, action: str, revision: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def _insert_outbound(url: str, id_: int, extra: str = "", value: str = "") -> None:
    with get_engine(url).begin() as conn:
        conn.execute(text(
            f"INSERT INTO outbound_messages (id, channel, to_address, text, sequence, status, "
            f"attempts, created_at, job_failures{extra}) VALUES ({id_}, 'telegram', '555', "
            f"'Help desk (tiket #1): ok', 0, 'failed', 1, CURRENT_TIMESTAMP, 0{value})"
        ))


def test_upgrade_keeps_messages_and_downgrade_removes_the_additions(database: str) -> None:
    url = database
    _migrate(url, "upgrade", "0011")
    _insert_outbound(url, 1)
    _migrate(url, "upgrade", "0013")

    columns = {c["name"] for c in inspect(get_engine(url)).get_columns("outbound_messages")}
    assert {"fallback_of_id", "provider_status"} <= columns
    assert "tally_evidence" in inspect(get_engine(url)).get_table_names()
    with get_engine(url).connect() as conn:
        row = conn.execute(text(
            "SELECT status, fallback_of_id, provider_status FROM outbound_messages WHERE id = 1"
        )).one()
    assert tuple(row) == ("failed", None, None)

    _insert_outbound(url, 2, ", fallback_of_id", ", 1")
    with pytest.raises(IntegrityError):  # one SMS copy per reply, enforced by the database
        _insert_outbound(url, 3, ", fallback_of_id", ", 1")

    _migrate(url, "downgrade", "0011")
    dispose_engines()
    columns = {c["name"] for c in inspect(get_engine(url)).get_columns("outbound_messages")}
    assert "fallback_of_id" not in columns and "provider_status" not in columns
    assert "tally_evidence" not in inspect(get_engine(url)).get_table_names()
    with get_engine(url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbound_messages")).scalar_one() == 2
