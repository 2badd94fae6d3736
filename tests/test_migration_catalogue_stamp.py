"""Migration 0017: `catalogue_stamp` and the triggers that change its token whenever a
catalogue table is written; the downgrade removes both, and contests are written as before."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from relay.db import dispose_engines, get_engine
from tests.support import throwaway_postgres
from tests.test_migration_delivery import _migrate

INSERT = (
    "INSERT INTO contests (code, name, position, region_scope, kind, required_sections) "
    "VALUES (:code, 'X', 9, '[]', 'candidates', '[]')"
)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    server = os.environ.get("TEST_DATABASE_URL", "")
    if server.startswith("postgresql"):
        with throwaway_postgres(server, "relay_migration_0017") as made:
            yield made.owner_url
    else:
        yield f"sqlite:///{tmp_path / 'old.db'}"
        dispose_engines()


def token(url: str) -> str | None:
    with get_engine(url).connect() as conn:
        return conn.execute(text("SELECT token FROM catalogue_stamp WHERE id = 1")).scalar()


def test_every_catalogue_write_changes_the_token_and_the_downgrade_removes_it(database) -> None:
    url = database
    _migrate(url, "upgrade", "0017")
    assert token(url) is None  # nothing written yet
    with get_engine(url).begin() as conn:
        conn.execute(text(INSERT), {"code": "A"})
    first = token(url)
    assert first
    with get_engine(url).begin() as conn:
        conn.execute(text("UPDATE contests SET name = 'Y' WHERE code = 'A'"))
        conn.execute(
            text("INSERT INTO candidates (contest_code, ballot_number, name) VALUES ('A', 1, 'c')")
        )
    second = token(url)
    assert second and second != first
    with get_engine(url).begin() as conn:
        conn.execute(text("DELETE FROM candidates"))
    assert token(url) not in (None, first, second)
    _migrate(url, "downgrade", "0016")
    assert "catalogue_stamp" not in inspect(get_engine(url)).get_table_names()
    with get_engine(url).begin() as conn:  # no trigger left pointing at a missing table
        conn.execute(text(INSERT), {"code": "B"})
        conn.execute(text("DELETE FROM contests WHERE code = 'B'"))
