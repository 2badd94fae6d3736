"""Migration 0003: tallies the simulator stored before it became a training channel are
marked training on upgrade (so `results rebuild` drops them from the totals), and the
one-confirmed-tally index leaves room for the real tally next to a training one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text

from relay import results
from relay.config import ROOT
from relay.db import dispose_engines, get_engine, session_scope
from relay.migrate import upgrade
from relay.models import Submission
from tests.support import throwaway_postgres


@pytest.fixture
def old_database(tmp_path: Path) -> Iterator[str]:
    """A new database at revision 0002c (before the training flag), with the demo data."""
    server = os.environ.get("TEST_DATABASE_URL", "")
    if server.startswith("postgresql"):
        with throwaway_postgres(server, "relay_migration") as made:
            yield _at_0002c(made.owner_url)
    else:
        yield _at_0002c(f"sqlite:///{tmp_path / 'old.db'}")
        dispose_engines()


def _at_0002c(url: str) -> str:
    """Schema 0002c with one TPS, the PPWP contest and one officer, written as SQL: the
    loaders speak today's schema, not 0002c's."""
    config = Config(str(ROOT / "alembic.ini"))
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002c")
        for code, name, parent, level in (
            ("35", "Jawa Timur", None, "province"),
            ("3576", "Kota Mojokerto", "35", "regency"),
            ("357601", "Prajurit Kulon", "3576", "district"),
            ("3576011001", "Prajurit Kulon", "357601", "village"),
        ):
            connection.execute(
                text(
                    "INSERT INTO regions (code, name, parent_code, level) "
                    "VALUES (:code, :name, :parent, :level)"
                ),
                {"code": code, "name": name, "parent": parent, "level": level},
            )
        connection.execute(
            text(
                "INSERT INTO tps (code, name, village_code, registered_voters) "
                "VALUES ('3576011001001', 'TPS 001', '3576011001', 287)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO contests (code, name, position, region_scope) "
                "VALUES ('PPWP', 'Presiden dan Wakil Presiden', 0, '[]')"
            )
        )
        for number in (1, 2, 3):
            connection.execute(
                text(
                    "INSERT INTO candidates (contest_code, ballot_number, name) "
                    "VALUES ('PPWP', :n, :name)"
                ),
                {"n": number, "name": f"Pasangan {number}"},
            )
        connection.execute(
            text(
                "INSERT INTO officers (phone, name, role, tps_code, village_code, language, "
                "reachable, created_at) VALUES ('+6281234567801', 'Sutrisno', 'kpps', "
                "'3576011001001', '3576011001', 'id', TRUE, CURRENT_TIMESTAMP)"
            )
        )
    return url


def test_simulated_tallies_become_training_and_leave_the_totals(old_database: str) -> None:
    url = old_database
    with get_engine(url).begin() as conn:
        officer = conn.execute(text("SELECT id FROM officers ORDER BY id LIMIT 1")).scalar_one()
        for number, channel in enumerate(("simulator", "sms-gateway"), start=1):
            conn.execute(
                text(
                    "INSERT INTO inbound_messages (id, channel, provider_id, sender, text, "
                    "media, payload, status, received_at) VALUES (:id, :channel, :pid, "
                    "'+6281234567801', 'YA', '[]', '{}', 'processed', CURRENT_TIMESTAMP)"
                ),
                {"id": number, "channel": channel, "pid": f"m-{number}"},
            )
        conn.execute(
            text(
                "INSERT INTO submissions (receipt_code, tps_code, contest_code, officer_id, "
                "inbound_id, source, votes, sah, ts, status, created_at, decided_at) VALUES "
                "('SIM001', '3576011001001', 'PPWP', :officer, 1, 'text', "
                '\'{"1": 120, "2": 95, "3": 40}\', 255, 5, \'confirmed\', '
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"officer": officer},
        )
    upgrade(url)
    with session_scope(url) as session:
        [simulated] = session.scalars(select(Submission)).all()
        assert simulated.training is True
        session.add(  # the officer's real tally now has its own slot
            Submission(
                receipt_code="REAL01",
                tps_code="3576011001001",
                contest_code="PPWP",
                officer_id=officer,
                inbound_id=2,
                votes={"1": 100, "2": 90, "3": 50},
                sah=240,
                ts=4,
                status="confirmed",
            )
        )
    with session_scope(url) as session:
        assert results.rebuild(session) == 1
    with session_scope(url) as session:
        assert results.verify(session) == []
        total = session.get(results.ResultTotal, ("PPWP", "35"))
        assert total is not None and (total.tps_confirmed, total.sah) == (1, 240)
