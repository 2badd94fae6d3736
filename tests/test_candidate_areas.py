"""Regional candidate contests (issue 14): DPD per province, governor per province, regent per
regency, mayor per city, each area with its own candidate list."""

from __future__ import annotations

from pathlib import Path

from relay.ballots import ballot_for
from relay.db import session_scope
from relay.loaders.election import load_election
from relay.models import Contest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"


def test_demo_loads_the_area_lists(db: str) -> None:
    report = load_election(DEMO / "election.yaml", db)
    assert report.errors == [] and report.notes == [], report.errors
    with session_scope(db) as session:
        dpd = session.get_one(Contest, "DPD")
        assert sorted(dpd.region_scope) == ["12", "32", "34", "35"]
        jatim = ballot_for(session, dpd, "3576011001001")
        jabar = ballot_for(session, dpd, "3277011001001")
        assert jatim is not None and jatim.area == "JATIM" and jatim.numbers == (1, 2, 3, 4)
        assert jabar is not None and jabar.area == "JABAR" and jabar.numbers == (1, 2, 3, 4, 5)
        assert jatim.names[1] != jabar.names[1]
