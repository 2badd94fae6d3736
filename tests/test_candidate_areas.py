"""Regional candidate contests (issue 14): DPD per province, governor per province, regent per
regency, mayor per city, each area with its own candidate list.

The area file loader (rows, errors, re-runs, the CLI's exit codes), a TPS's ballot resolved to
its area, SMS tallies checked against the area's list in both languages, results kept per area
(never summed across areas) on the dashboard, /api/v1 and the CSV export, and forms per area.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from ocr.templates import template_for
from relay import results
from relay.ballots import ballot_for
from relay.db import session_scope
from relay.loaders.election import load_election
from relay.models import AreaCandidate, Contest, Dapil, ResultVote, Submission
from tests.support import converse
from webhooks.cli_data import register

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"
JATIM_TPS, JATIM_EN_TPS, JABAR_TPS, SUMUT_EN_TPS = (
    "3576011001001",  # officer 081234567801, Indonesian
    "3576011001002",  # officer 081234567802, English
    "3277011001001",  # officer 081234567810, Indonesian
    "1213032001001",  # officer 081234567820, English
)

HEADER = "area,area_name,regions,number,name\n"
GOOD_ROWS = (
    "ACEH,Aceh,11,1,Teuku Satu\n"
    "ACEH,Aceh,11,2,Cut Dua\n"
    "BALI,Bali,51,1,I Made Satu\n"
    "BALI,Bali,51,2,Ni Luh Dua\n"
    "BALI,Bali,51,3,I Ketut Tiga\n"
)


def election(tmp_path: Path, rows: str, extra: str = "") -> Path:
    (tmp_path / "areas.csv").write_text(HEADER + rows, encoding="utf-8")
    path = tmp_path / "election.yaml"
    path.write_text(
        "election: Uji\ncontests:\n"
        "  - code: DPD\n    name: Dewan Perwakilan Daerah\n    areas: areas.csv\n" + extra,
        encoding="utf-8",
    )
    return path


def stored(db: str) -> tuple[dict[str, list[str]], dict[tuple[str, int], str]]:
    with session_scope(db) as session:
        areas = {
            d.code: list(d.regions)
            for d in session.scalars(select(Dapil).where(Dapil.contest_code == "DPD"))
        }
        names = {
            (c.area_code, c.ballot_number): c.name for c in session.scalars(select(AreaCandidate))
        }
    return areas, names


# --------------------------------------------------------------------------- loader


def test_area_file_loads_areas_lists_and_the_contest_scope(db: str, tmp_path: Path) -> None:
    report = load_election(election(tmp_path, GOOD_ROWS), db)
    assert report.errors == [] and report.inserted == 1
    assert report.kinds["areas"] == 2 and report.kinds["area candidates"] == 5
    areas, names = stored(db)
    assert areas == {"ACEH": ["11"], "BALI": ["51"]}
    assert names[("ACEH", 1)] == "Teuku Satu" and names[("BALI", 1)] == "I Made Satu"
    with session_scope(db) as session:
        dpd = session.get_one(Contest, "DPD")
        assert dpd.region_scope == ["11", "51"] and dpd.candidates == []
    again = load_election(election(tmp_path, GOOD_ROWS), db)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)


def test_area_file_rows_are_refused_one_by_one_with_their_line(db: str, tmp_path: Path) -> None:
    rows = GOOD_ROWS + (
        "BALI,Bali,51,3,I Ketut Lagi\n"  # line 7: duplicate number
        "BALI,Bali Utara,51,4,Nama\n"  # line 8: area name differs from line 4
        "BALI,Bali,51,x,Nama\n"  # line 9: not a number
        "BALI,Bali,51,5,\n"  # line 10: no name
        "JATIM,Jawa Timur,35x,1,Nama\n"  # line 11: not a region code
        "ACEH2,Aceh Lagi,1101,1,Nama\n"  # line 12: inside area ACEH
        "ACEH2,Aceh Lagi,1101,2,Nama Dua\n"  # line 13: its area was refused
    )
    path = election(tmp_path, rows)
    (tmp_path / "areas.csv").write_text(
        "area,area_name,regions,number,name,contest\n"
        + rows.replace("\n", ",\n")
        + "SUMUT,Sumatera Utara,12,1,Nama,GUB\n",  # line 14: another contest's row
        encoding="utf-8",
    )
    report = load_election(path, db)
    errors = dict(report.errors)
    assert "duplicate candidate number 3 (first on line 6)" in errors[7]
    assert "area_name and regions must be those of line 4" in errors[8]
    assert "candidate number must be a whole number" in errors[9] and "'x'" in errors[9]
    assert "empty name" in errors[10]
    assert "must be a 2, 4, 6 or 10-digit region code" in errors[11]
    assert "region 1101 overlaps region 11 of dapil ACEH" in errors[12]
    assert "area ACEH2 was refused (line 12)" in errors[13]
    assert "row for contest 'GUB'" in errors[14]
    assert all(text.startswith("areas.csv: contest DPD: ") for text in errors.values())
    areas, names = stored(db)
    assert areas == {"ACEH": ["11"], "BALI": ["51"]}  # the good rows loaded
    assert names[("BALI", 3)] == "I Ketut Tiga" and len(names) == 5


def test_rerun_removes_absent_candidates_but_not_those_of_an_area_with_a_typo(
    db: str, tmp_path: Path
) -> None:
    load_election(election(tmp_path, GOOD_ROWS), db)
    fewer = "ACEH,Aceh,11,1,Teuku Satu\nBALI,Bali,51,1,I Made Satu\nBALI,Bali,51,x,Salah\n"
    report = load_election(election(tmp_path, fewer), db)
    assert [line for line, _ in report.errors] == [4]
    _, names = stored(db)
    assert ("ACEH", 2) not in names  # Aceh's list is the file's: 2 removed
    assert {("BALI", 2), ("BALI", 3)} <= set(names)  # Bali has a refused row: kept as it was
    assert any("no longer in the file removed" in note for _, note in report.notes)


def test_election_file_refuses_areas_where_they_do_not_belong(db: str, tmp_path: Path) -> None:
    extra = (
        "  - code: DPR\n    name: DPR\n    kind: parties\n    areas: areas.csv\n"
        "    parties:\n      - {number: 1, name: Partai}\n"
        "  - code: GUB\n    name: Gubernur\n    areas: gub.csv\n"
        "  - code: WAL\n    name: Wali Kota\n    areas: areas.csv\n"
        "    candidates:\n      - {number: 1, name: Satu}\n"
    )
    report = load_election(election(tmp_path, GOOD_ROWS, extra), db)
    reasons = " | ".join(text for _, text in report.errors)
    assert "contest DPR: areas are for candidate contests" in reasons
    assert "contest GUB: file gub.csv not found" in reasons
    assert "contest WAL: a contest with areas takes its candidates from the area file" in reasons
    assert report.inserted == 1  # DPD only


def test_cli_exits_3_on_refused_rows_unless_told_to_skip(db: str, tmp_path: Path) -> None:
    app = Flask(__name__)
    app.config["DATABASE_URL"] = db
    register(app)
    cli = app.test_cli_runner()
    path = election(tmp_path, GOOD_ROWS + "BALI,Bali,51,0,Nol\n")
    result = cli.invoke(args=["election", "load", str(path)])
    assert result.exit_code == 3, result.output
    assert "line 7: areas.csv: contest DPD: area BALI: candidate number" in result.output
    assert "areas 2, area candidates 5)" in result.output
    skipped = cli.invoke(args=["election", "load", "--skip-bad-rows", str(path)])
    assert skipped.exit_code == 0 and "line 7:" in skipped.output


# --------------------------------------------------------------------------- ballots and SMS


def test_demo_ballots_resolve_each_tps_to_its_area_list(db: str) -> None:
    report = load_election(DEMO / "election.yaml", db)
    assert report.errors == [] and report.kinds["areas"] == 4 + 3 + 2 + 2
    with session_scope(db) as session:
        dpd = session.get_one(Contest, "DPD")
        assert sorted(dpd.region_scope) == ["12", "32", "34", "35"]
        jatim = ballot_for(session, dpd, JATIM_TPS)
        jabar = ballot_for(session, dpd, JABAR_TPS)
        sumut = ballot_for(session, dpd, SUMUT_EN_TPS)
        assert jatim is not None and jabar is not None and sumut is not None
        assert (jatim.area, jatim.numbers) == ("JATIM", (1, 2, 3, 4))
        assert (jabar.area, jabar.numbers) == ("JABAR", (1, 2, 3, 4, 5))
        assert sumut.area == "SUMUT" and len({jatim.names[1], jabar.names[1], sumut.names[1]}) == 3
        ppwp = ballot_for(session, session.get_one(Contest, "PPWP"), JATIM_TPS)
        assert ppwp is not None and ppwp.area is None  # a nationwide list stays one list
        assert ballot_for(session, session.get_one(Contest, "GUB"), "3403012001001") is None


@pytest.mark.parametrize(
    ("phone", "tally", "reply"),
    [
        (
            "081234567801",
            f"DPD {JATIM_TPS} 01=100 02=50 03=50 04=40 05=10 SAH=250 TS=10",
            f"Ditolak DPD TPS {JATIM_TPS}: nomor urut 05 tidak ada di DPD (hanya 01,02,03,04).",
        ),
        (
            "081234567802",
            f"DPD {JATIM_EN_TPS} 01=100 02=50 03=40 04=40 05=10 SAH=240 TS=0",
            f"Rejected DPD TPS {JATIM_EN_TPS}: ballot number 05 is not in DPD (only 01,02,03,04).",
        ),
        (
            "081234567810",
            f"DPD {JABAR_TPS} 01=100 02=50 03=50 04=40 05=10 SAH=250 TS=10",
            f"Diterima DPD TPS {JABAR_TPS}: 01=100 02=50 03=50 04=40 05=10 SAH=250 TS=10.",
        ),
        (
            "081234567820",
            f"DPD {SUMUT_EN_TPS} 01=100 02=50 03=50 SAH=200 TS=10",
            f"Part received DPD TPS {SUMUT_EN_TPS}: 01=100 02=50 03=50 SAH=200 TS=10.",
        ),
        (
            "081234567820",
            f"GUB {SUMUT_EN_TPS} 01=100 02=50 03=5 SAH=155 TS=1",
            f"Rejected GUB TPS {SUMUT_EN_TPS}: ballot number 03 is not in GUB (only 01,02).",
        ),
    ],
    ids=["jatim-05-id", "jatim-05-en", "jabar-05-id", "sumut-missing-04-en", "sumut-gub-03-en"],
)
def test_sms_tally_is_checked_against_the_area_list(
    demo: str, phone: str, tally: str, reply: str
) -> None:
    text = converse(phone, tally).text
    assert text.startswith(reply), text
    if reply.startswith("Part received"):
        assert "Still missing: 04." in text  # Sumatera Utara lists 4 DPD candidates


# --------------------------------------------------------------------------- results


@pytest.fixture
def reported(demo: str) -> None:
    """DPD tallies in two provinces (4 and 5 candidates), confirmed."""
    for phone, tally in (
        ("081234567801", f"DPD {JATIM_TPS} 01=100 02=50 03=50 04=40 SAH=240 TS=10"),
        ("081234567810", f"DPD {JABAR_TPS} 01=7 02=8 03=9 04=10 05=11 SAH=45 TS=1"),
    ):
        assert converse(phone, tally).text.startswith("Diterima")
        assert converse(phone, "YA").text
    with session_scope() as session:
        confirmed = session.scalars(
            select(ResultVote).where(
                ResultVote.contest_code == "DPD", ResultVote.region_code == "35"
            )
        ).all()
        assert confirmed, "the tallies were confirmed"


def test_results_are_kept_per_area_and_never_summed_across_areas(reported) -> None:
    with session_scope() as session:
        dpd = session.get_one(Contest, "DPD")
        national = results.area(session, dpd, "", "Indonesia")
        assert national.regional and national.area is None
        assert national.votes == {}  # 01 in Jawa Timur is not 01 in Jawa Barat
        assert (national.tps_confirmed, national.sah, national.ts) == (2, 285, 11)
        by_area = {a.code: a for a in national.area_results or []}
        assert set(by_area) == {"JATIM", "JABAR", "DIY", "SUMUT"}
        assert by_area["JATIM"].votes == {1: 100, 2: 50, 3: 50, 4: 40}
        assert by_area["JABAR"].votes == {1: 7, 2: 8, 3: 9, 4: 10, 5: 11}
        assert by_area["JABAR"].names[5] == "Ujang Hidayat (ilustrasi)"
        assert by_area["DIY"].votes == {1: 0, 2: 0, 3: 0} and by_area["DIY"].tps_confirmed == 0
        assert sum(a.tps_total for a in by_area.values()) == national.tps_total
        regency = results.area(session, dpd, "3277", "Kota Cimahi")
        assert (regency.area, regency.area_name) == ("JABAR", "Jawa Barat")
        assert regency.votes == by_area["JABAR"].votes and regency.area_results is None


def test_api_gives_area_lists_and_results_per_area(reported) -> None:
    from webhooks import create_app

    web = create_app().test_client()
    contests = {c["code"]: c for c in web.get("/api/v1/contests").get_json()["contests"]}
    dpd = contests["DPD"]
    assert dpd["candidates"] == [] and [a["code"] for a in dpd["areas"]] == [
        "DIY", "JABAR", "JATIM", "SUMUT"
    ]
    jabar = next(a for a in dpd["areas"] if a["code"] == "JABAR")
    assert jabar["regions"] == ["32"] and len(jabar["candidates"]) == 5
    assert dpd["national"]["votes"] == {} and dpd["national"]["area"] is None
    assert contests["PPWP"]["areas"] == [] and "area" not in contests["PPWP"]["national"]

    national = web.get("/api/v1/results/DPD").get_json()
    assert national["area"] is None and national["candidates"] == []
    areas = {a["code"]: a for a in national["region"]["areas"]}
    assert areas["JATIM"]["votes"] == {"01": 100, "02": 50, "03": 50, "04": 40}
    assert areas["JABAR"]["votes"]["05"] == 11 and areas["JABAR"]["level"] == "area"

    province = web.get("/api/v1/results/DPD/32").get_json()
    assert province["area"] == "JABAR" and province["region"]["area_name"] == "Jawa Barat"
    assert province["candidates"][0]["name"] == "Asep Kurniawan (ilustrasi)"
    assert province["region"]["votes"]["05"] == 11

    tps = web.get(f"/api/v1/tps/{JABAR_TPS}").get_json()
    entry = next(c for c in tps["contests"] if c["contest"] == "DPD")
    assert entry["area"] == "JABAR" and len(entry["candidates"]) == 5


def test_csv_export_has_the_area_and_its_candidate_names(reported) -> None:
    from webhooks import create_app

    web = create_app().test_client()
    rows = list(csv.DictReader(io.StringIO(web.get("/export/DPD.csv").get_data(as_text=True))))
    header = list(rows[0])
    assert header[-6:] == ["area", "01_name", "02_name", "03_name", "04_name", "05_name"]
    national = rows[0]
    assert national["level"] == "national" and national["area"] == "" and national["01"] == ""
    by_area = {r["code"]: r for r in rows if r["level"] == "area"}
    assert by_area["JATIM"]["01"] == "100" and by_area["JATIM"]["05_name"] == ""
    assert by_area["JABAR"]["05"] == "11" and by_area["JABAR"]["05_name"].startswith("Ujang")
    provinces = {r["code"]: r for r in rows if r["level"] == "province"}
    assert provinces["35"]["area"] == "JATIM" and provinces["35"]["01_name"] == (
        "Calon DPD Ilustrasi A"
    )
    village = web.get("/export/DPD.csv?region=3277011001").get_data(as_text=True)
    tps_row = next(r for r in csv.DictReader(io.StringIO(village)) if r["code"] == JABAR_TPS)
    assert tps_row["area"] == "JABAR" and tps_row["05"] == "11"


def test_dashboard_shows_each_area_with_its_own_candidates(reported) -> None:
    from webhooks import create_app

    web = create_app().test_client()
    page = web.get("/results/DPD").get_data(as_text=True)
    assert 'id="areas"' in page and 'id="area-JABAR"' in page
    assert 'data-area="JABAR" data-ballot="5"' in page and "Ujang Hidayat" in page
    assert "Calon DPD Ilustrasi A" in page
    province = web.get("/results/DPD/32").get_data(as_text=True)
    assert 'id="areas"' not in province and "Asep Kurniawan" in province
    assert "Calon DPD Ilustrasi A" not in province
    tps = web.get(f"/tps/{JABAR_TPS}").get_data(as_text=True)
    assert "Ujang Hidayat" in tps
    index = web.get("/").get_data(as_text=True)
    assert "Ujang Hidayat" in index and "Calon DPD Ilustrasi A" in index


# --------------------------------------------------------------------------- forms


def test_forms_are_printed_per_area_and_told_apart(demo: str, tmp_path: Path) -> None:
    with session_scope(demo) as session:
        assert template_for(session, "DPD") is None  # which area? a TPS is needed
        jatim = template_for(session, "DPD", JATIM_TPS)
        sumut = template_for(session, "DPD", "1213051001001")
        jabar = template_for(session, "DPD", JABAR_TPS)
        assert (jatim.dapil, sumut.dapil, jabar.dapil) == ("JATIM", "SUMUT", "JABAR")
        assert jatim.get_field("01").label == "Calon DPD Ilustrasi A"
        assert sumut.get_field("01").label == "Togar Simanjuntak (ilustrasi)"
        assert "05" in jabar.candidate_keys and "05" not in jatim.candidate_keys
        # Same layout (4 candidates each), yet another area's form is another version.
        assert [f.key for f in jatim.fields] == [f.key for f in sumut.fields]
        assert jatim.version != sumut.version
    from webhooks import create_app

    cli = create_app().test_cli_runner()
    out = tmp_path / "forms"
    result = cli.invoke(
        args=["forms", "render", "--contest", "DPD", "--region", "32", "--out", str(out),
              "--dpi", "60", "--no-png"]
    )
    assert result.exit_code == 0, result.output
    assert f"v{jabar.version} dapil JABAR" in result.output
    layout = json.loads((out / "layout.json").read_text())
    assert layout["dapil"] == "JABAR" and layout["version"] == jabar.version
    labels = {f["key"]: f["label"] for f in layout["fields"]}
    assert labels["05"] == "Ujang Hidayat (ilustrasi)"


# --------------------------------------------------------------------------- console


def test_console_edits_a_tally_with_the_area_list(client) -> None:
    from tests.web_support import logged_in, post_form

    text = f"DPD {JABAR_TPS} 01=7 02=8 03=9 04=10 05=11 SAH=45 TS=1"
    assert converse("081234567810", text).text.startswith("Diterima")  # pending
    with session_scope() as session:
        submission = session.scalars(select(Submission)).one()
    logged_in(client)
    url = f"/console/submissions/{submission.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="v5"' in page and "Ujang Hidayat" in page and "Calon DPD Ilustrasi A" not in page
    votes = {"v1": "7", "v2": "8", "v3": "9", "v4": "10", "v5": "12", "sah": "46", "ts": "1"}
    post_form(client, f"{url}/change", {**votes, "note": "foto C.Hasil"}, page=url)
    with session_scope() as session:
        changed = session.get_one(Submission, submission.id)
        assert changed.votes_by_ballot() == {1: 7, 2: 8, 3: 9, 4: 10, 5: 12}
        assert changed.sah == 46
