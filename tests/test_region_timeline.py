"""The confirmations-per-hour chart per region: each region page and `/api/v1/timeline
?region=` count only that region's tallies (they used to show the country's on every page),
the axis is labelled, its two ends differ, and rebuild/verify keep the points exact."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from relay import results
from relay.db import session_scope
from relay.models import ResultTimeline
from tests.test_dashboard import reported, web  # noqa: F401  (fixtures)
from tests.test_migration_training import old_database  # noqa: F401  (fixture)


def _per_hour(web, region: str = "") -> list[dict]:  # noqa: F811
    query = f"?region={region}" if region else ""
    response = web.get(f"/api/v1/timeline/PPWP{query}")
    assert response.status_code == 200, response.data
    body = response.get_json()
    assert body["region"] == (region or None)
    return body["confirmed_per_hour"]


def test_timeline_per_region(web) -> None:  # noqa: F811
    # TALLIES confirms PPWP at 3576011001001, 3576011001003, 3576021001001 and 3277011001001.
    assert sum(p["confirmed"] for p in _per_hour(web)) == 4
    assert sum(p["confirmed"] for p in _per_hour(web, "35")) == 3
    assert sum(p["confirmed"] for p in _per_hour(web, "3576011001")) == 2
    assert sum(p["confirmed"] for p in _per_hour(web, "32")) == 1
    assert _per_hour(web, "12") == []  # a province that has reported nothing
    assert web.get("/api/v1/timeline/PPWP?region=99").status_code == 404


def test_region_page_charts_its_own_region_with_labelled_axes(web) -> None:  # noqa: F811
    page = web.get("/results/PPWP/32").get_data(as_text=True)
    start = page.index('<svg class="chart"')
    chart = page[start:page.index("</svg>", start)]
    assert len(re.findall(r"<rect ", chart)) == 1
    assert "<title>" in chart and ": 1</title>" in chart  # Jawa Barat's one tally
    ticks = re.findall(r'<text class="tick"[^>]*>([^<]+)</text>', chart)
    assert len(ticks) == 2 and ticks[0] != ticks[1], ticks
    assert re.fullmatch(r"\d\d/\d\d \d\d:00", ticks[0]) and re.fullmatch(r"\d\d:00", ticks[1])
    assert "Jam (WIB)" in chart and "Data terkonfirmasi" in chart
    english = web.get("/results/PPWP/32", headers={"Accept-Language": "en"})
    assert "Hour (WIB)" in english.get_data(as_text=True)


def test_rebuild_and_verify_cover_the_regions_points(reported) -> None:  # noqa: F811
    with session_scope() as session:
        before = sorted(
            (p.contest_code, p.region_code, p.confirmed)
            for p in session.query(ResultTimeline).all()
        )
        assert ("PPWP", "3576011001", 2) in before and ("PPWP", "", 4) in before
        assert results.verify(session) == []
        session.query(ResultTimeline).filter_by(region_code="3576").update({"confirmed": 9})
    with session_scope() as session:
        drift = [str(d) for d in results.verify(session)]
        assert any(d.startswith("PPWP 3576 timeline ") for d in drift), drift
        results.rebuild(session)
    with session_scope() as session:
        assert results.verify(session) == []
        after = sorted(
            (p.contest_code, p.region_code, p.confirmed)
            for p in session.query(ResultTimeline).all()
        )
    assert after == before


def test_chart_axis_across_midnight_names_both_dates() -> None:
    from web.public import chart_points

    late = datetime(2026, 2, 14, 16, tzinfo=UTC)  # 23:00 WIB
    next_day = datetime(2026, 2, 14, 17, tzinfo=UTC)  # 00:00 WIB, the 15th
    chart = chart_points([(late, 3), (next_day, 5)])
    assert (chart["start"], chart["end"]) == ("14/02 23:00", "15/02 01:00")
    assert chart_points([(late, 3)])["end"] == "00:00"  # one bar, ending at midnight


def test_migration_0014_fills_the_regions_points_from_the_tallies(old_database: str) -> None:  # noqa: F811
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from relay.config import ROOT
    from relay.db import get_engine
    from relay.migrate import upgrade

    url = old_database
    config = Config(str(ROOT / "alembic.ini"))
    with get_engine(url).begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0013")  # the national timeline only
        officer = conn.execute(text("SELECT id FROM officers ORDER BY id LIMIT 1")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO inbound_messages (id, channel, provider_id, sender, text, media, "
                "payload, status, received_at) VALUES (1, 'sms-gateway', 'm-1', "
                "'+6281234567801', 'YA', '[]', '{}', 'processed', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO submissions (receipt_code, tps_code, contest_code, officer_id, "
                "inbound_id, source, votes, sah, ts, status, training, created_at, decided_at) "
                "VALUES ('OLD001', '3576011001001', 'PPWP', :officer, 1, 'text', "
                '\'{"1": 120, "2": 95, "3": 40}\', 255, 5, \'confirmed\', FALSE, '
                "CURRENT_TIMESTAMP, :hour)"
            ),
            {"officer": officer, "hour": datetime(2026, 2, 14, 14, 5, tzinfo=UTC)},
        )
        conn.execute(
            text(
                "INSERT INTO result_timeline (contest_code, hour, confirmed) "
                "VALUES ('PPWP', :hour, 1)"
            ),
            {"hour": datetime(2026, 2, 14, 14, tzinfo=UTC)},
        )
    upgrade(url)
    with session_scope(url) as session:
        assert results.timeline(session, "PPWP", "3576") == [
            (datetime(2026, 2, 14, 14, tzinfo=UTC), 1)
        ]
        assert len(results.timeline(session, "PPWP")) == 1  # the country's point kept
        drift = [d for d in results.verify(session) if "timeline" in d.field]
        assert drift == []
