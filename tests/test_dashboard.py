"""The public dashboard and /api/v1: pre-aggregated totals that agree with the tallies,
drill-down to each TPS, CSV export, and no officer's name or phone number anywhere."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sqlalchemy import select

from relay import results
from relay.db import session_scope
from relay.models import Contest, Officer, ResultTotal, ResultVote, Submission
from tests.support import converse

# (officer phone, tally): four TPS in three regencies of two provinces, one left pending.
TALLIES = [
    ("081234567801", "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5", True),
    ("081234567803", "PPWP 3576011001003 01=50 02=100 03=30 SAH=180 TS=3", True),
    ("081234567805", "PPWP 3576021001001 01=10 02=150 03=20 SAH=180 TS=2", True),
    ("081234567810", "PPWP 3277011001001 01=80 02=60 03=70 SAH=210 TS=1", True),
    ("081234567804", "PPWP 3576011002001 01=1 02=2 03=3 SAH=6 TS=0", False),
    ("081234567801", "DPD 3576011001001 01=100 02=50 03=50 04=50 SAH=250 TS=10", True),
]


def say(phone: str, text: str) -> None:
    """The conversation's decision step (what the worker runs), without the queues: the
    end-to-end path is covered by tests/test_console_review.py and the browser tests."""
    converse(phone, text)


@pytest.fixture
def reported(demo: str) -> None:
    for phone, tally, confirm in TALLIES:
        say(phone, tally)
        if confirm:
            say(phone, "YA")


@pytest.fixture
def web(reported):
    from webhooks import create_app

    return create_app().test_client()


def slow_sum(contest: str, prefix: str) -> tuple[int, int, int, dict[int, int]]:
    """Totals the slow way, straight from the confirmed tallies."""
    with session_scope() as session:
        subs = session.scalars(
            select(Submission).where(
                Submission.contest_code == contest,
                Submission.status == "confirmed",
                Submission.tps_code.startswith(prefix),
            )
        ).all()
    votes: dict[int, int] = {}
    for s in subs:
        for number, n in s.votes_by_ballot().items():
            votes[number] = votes.get(number, 0) + n
    return len(subs), sum(s.sah for s in subs), sum(s.ts for s in subs), votes


def area(contest: str, code: str) -> results.Area:
    with session_scope() as session:
        return results.area(session, session.get_one(Contest, contest), code, code)


@pytest.mark.parametrize("code", ["", "35", "3576", "357601", "3576011001", "32", "3277", "34"])
def test_pre_aggregated_totals_equal_the_slow_sum(reported, code: str) -> None:
    fast = area("PPWP", code)
    tps, sah, ts, votes = slow_sum("PPWP", code)
    assert (fast.tps_confirmed, fast.sah, fast.ts) == (tps, sah, ts)
    assert {n: v for n, v in fast.votes.items() if v} == votes


def test_national_progress_counts_every_tps_and_scoped_contests_only_theirs(reported) -> None:
    ppwp, dpd = area("PPWP", ""), area("DPD", "")
    assert (ppwp.tps_total, ppwp.tps_confirmed) == (53, 4)
    assert (dpd.tps_total, dpd.tps_confirmed) == (53, 1)  # DPD: every demo province
    with session_scope() as session:
        wal = session.get_one(Contest, "WAL")  # the mayor: Kota Mojokerto and Kota Cimahi only
        cities = [results.area(session, wal, code, "") for code in ("3576", "3277")]
        national = results.area(session, wal, "", "Indonesia")
    assert national.tps_total == sum(c.tps_total for c in cities) < 53
    assert area("PPWP", "3576011001").tps_total == 4


def test_rebuild_gives_the_same_totals(reported) -> None:
    def snapshot():
        with session_scope() as session:
            return (
                sorted(
                    (r.contest_code, r.region_code, r.tps_confirmed, r.sah, r.ts)
                    for r in session.scalars(select(ResultTotal))
                ),
                sorted(
                    (r.contest_code, r.region_code, r.ballot_number, r.votes)
                    for r in session.scalars(select(ResultVote))
                    if r.votes
                ),
            )

    live = snapshot()
    with session_scope() as session:
        assert results.rebuild(session) == 5
    assert snapshot() == live


def test_drill_down_from_the_country_to_a_tps(web) -> None:
    home = web.get("/").get_data(as_text=True)
    assert "Presiden dan Wakil Presiden" in home and "4 / 53 TPS" in home
    country = web.get("/results/PPWP").get_data(as_text=True)
    assert 'href="/results/PPWP/35"' in country and "Jawa Timur" in country
    province = web.get("/results/PPWP/35").get_data(as_text=True)
    assert 'href="/results/PPWP/3576"' in province
    regency = web.get("/results/PPWP/3576").get_data(as_text=True)
    assert 'href="/results/PPWP/357601"' in regency
    district = web.get("/results/PPWP/357601").get_data(as_text=True)
    assert 'href="/results/PPWP/3576011001"' in district
    village = web.get("/results/PPWP/3576011001").get_data(as_text=True)
    assert 'href="/tps/3576011001001"' in village
    assert re.search(r'id="total-sah">435<', village)  # 255 + 180
    assert "terkonfirmasi" in village and "belum masuk" in village
    tps = web.get("/tps/3576011001001").get_data(as_text=True)
    assert "Prajurit Kulon" in tps and "255" in tps and "terkonfirmasi" in tps
    assert "Tidak ada foto" in tps  # sent as text: a placeholder, not a broken image
    assert "<svg" in country  # the chart of confirmations per hour


def test_pending_tallies_are_shown_as_received_not_counted(web) -> None:
    village = web.get("/results/PPWP/3576011002").get_data(as_text=True)
    assert "menunggu konfirmasi" in village
    assert area("PPWP", "3576011002").tps_confirmed == 0


def test_api(web) -> None:
    contests = web.get("/api/v1/contests").get_json()
    ppwp = next(c for c in contests["contests"] if c["code"] == "PPWP")
    assert ppwp["national"]["tps_confirmed"] == 4
    assert ppwp["national"]["votes"] == {"01": 260, "02": 405, "03": 160}
    village = web.get("/api/v1/results/PPWP/3576011001").get_json()
    assert village["region"]["sah"] == 435
    statuses = {c["code"]: c["status"] for c in village["children"]}
    assert statuses["3576011001001"] == "confirmed" and statuses["3576011001002"] == "missing"
    tps = web.get("/api/v1/tps/3576011001001").get_json()
    ppwp_tps = next(c for c in tps["contests"] if c["contest"] == "PPWP")
    assert ppwp_tps["tally"]["votes"] == {"01": 120, "02": 95, "03": 40}
    assert ppwp_tps["status"] == "confirmed"
    timeline = web.get("/api/v1/timeline/PPWP").get_json()
    assert sum(p["confirmed"] for p in timeline["confirmed_per_hour"]) == 4
    assert web.get("/api/v1/results/XYZ").status_code == 404
    assert web.get("/api/v1/tps/9999999999999").status_code == 404
    assert web.get("/api/v1/results/BUP/32").status_code == 404  # BUP: 2 regencies only


def test_csv_export(web) -> None:
    response = web.get("/export/PPWP.csv?region=3576011001")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0]["code"] == "3576011001" and rows[0]["sah"] == "435"
    by_code = {r["code"]: r for r in rows[1:]}
    assert by_code["3576011001001"]["01"] == "120"
    assert by_code["3576011001002"]["tps_confirmed"] == "0"
    national = list(csv.DictReader(io.StringIO(web.get("/export/PPWP.csv").get_data(as_text=True))))
    assert {r["code"] for r in national[1:]} == {"35", "32", "34", "12"}


def test_no_phone_numbers_or_officer_names_on_public_pages(web) -> None:
    with session_scope() as session:
        officers = session.scalars(select(Officer)).all()
    secrets = set()
    for officer in officers:
        national = officer.phone.removeprefix("+62")
        secrets |= {officer.phone, "0" + national, "62" + national, officer.name}
    pages = [
        "/",
        "/results/PPWP",
        "/results/PPWP/3576011001",
        "/results/PPWP/3277011001",
        "/tps/3576011001001",
        "/tps/3277011001001",
        "/tps/3576011002001",
        "/api/v1/contests",
        "/api/v1/results/PPWP/3576011001",
        "/api/v1/tps/3576011001001",
        "/api/v1/tps/3576011002001",
        "/export/PPWP.csv?region=3576011001",
    ]
    for page in pages:
        body = web.get(page).get_data(as_text=True)
        leaked = [s for s in secrets if s in body]
        assert not leaked, (page, leaked)
    tps_json = json.dumps(web.get("/api/v1/tps/3576011001001").get_json())
    assert "officer" not in tps_json and "phone" not in tps_json


def test_unknown_codes_are_404(web) -> None:
    assert web.get("/tps/123").status_code == 404
    assert web.get("/results/PPWP/99").status_code == 404
    assert web.get("/results/NOPE").status_code == 404


def test_concurrent_confirmations_add_up(demo: str) -> None:
    """Officers of one regency confirming at the same moment: no lost update, no deadlock."""
    from concurrent.futures import ThreadPoolExecutor

    officers = {
        "081234567801": "3576011001001",
        "081234567803": "3576011001003",
        "081234567804": "3576011002001",
        "081234567805": "3576021001001",
        "081234567806": "3576031001001",
        "081234567807": "3576021002001",
    }

    def report(item: tuple[str, str]) -> None:
        phone, tps = item
        say(phone, f"PPWP {tps} 01=10 02=20 03=30 SAH=60 TS=1")
        say(phone, "YA")

    with ThreadPoolExecutor(max_workers=len(officers)) as pool:
        list(pool.map(report, officers.items()))
    fast = area("PPWP", "3576")
    assert (fast.tps_confirmed, fast.sah, fast.ts) == slow_sum("PPWP", "3576")[:3] == (6, 360, 6)
    assert fast.votes == {1: 60, 2: 120, 3: 180}
