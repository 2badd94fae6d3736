"""Migration 0016: tickets gain who handles them (`assigned_to`, `assigned_at`), and
`canned_replies` is new, seeded with answers in Indonesian and English. Existing tickets
survive the upgrade unclaimed; the downgrade removes exactly what it added."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from relay.db import dispose_engines, get_engine
from tests.support import throwaway_postgres
from tests.test_migration_delivery import _migrate


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    server = os.environ.get("TEST_DATABASE_URL", "")
    if server.startswith("postgresql"):
        with throwaway_postgres(server, "relay_migration_0016") as made:
            yield made.owner_url
    else:
        yield f"sqlite:///{tmp_path / 'old.db'}"
        dispose_engines()


def test_upgrade_keeps_tickets_unclaimed_seeds_canned_replies_and_downgrades(database) -> None:
    url = database
    _migrate(url, "upgrade", "0015")
    with get_engine(url).begin() as conn:
        conn.execute(text(
            "INSERT INTO tickets (id, channel, address, status, created_at, updated_at) "
            "VALUES (1, 'sms-gateway', '+6281234567801', 'open', CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP)"
        ))
    _migrate(url, "upgrade", "0016")
    with get_engine(url).connect() as conn:
        assert conn.execute(
            text("SELECT status, assigned_to, assigned_at FROM tickets WHERE id = 1")
        ).one() == ("open", None, None)
        seeded = conn.execute(
            text("SELECT title, body_id, body_en, active FROM canned_replies ORDER BY position")
        ).all()
    assert len(seeded) >= 3
    assert all(title and body_id and body_en and active for title, body_id, body_en, active
               in seeded)
    assert any("YA" in body_id for _, body_id, _, _ in seeded)  # the answer asked most

    _migrate(url, "downgrade", "0015")
    assert "canned_replies" not in inspect(get_engine(url)).get_table_names()
    columns = {c["name"] for c in inspect(get_engine(url)).get_columns("tickets")}
    assert not {"assigned_to", "assigned_at"} & columns
