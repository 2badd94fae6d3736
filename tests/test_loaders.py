"""Tests for the bulk loaders (relay.loaders) and their CLI (webhooks.cli_data).

Tables of good and bad rows per loader: each bad kind must be reported with its file line and
reason while the good rows still load; re-runs must not duplicate anything.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from relay.config import ROOT
from relay.db import session_scope
from relay.loaders import LoadError, normalise_code
from relay.loaders.election import load_election
from relay.loaders.progress import ProgressPrinter, terminal_progress, time_left
from relay.loaders.regions import load_regions
from relay.loaders.report import LoadReport
from relay.loaders.roster import import_roster
from relay.models import Candidate, Contest, Officer, Region, Tps
from webhooks.cli_data import register

DEMO = ROOT / "demo"

# A small hierarchy: line 1 is the header, so a row's file line is its index here + 2.
BASE_REGIONS = [
    "35,Jawa Timur,,province,",
    "3576,Kota Mojokerto,35,regency,",
    "357601,Prajurit Kulon,3576,district,",
    "3576011001,Prajurit Kulon,357601,village,",
    "3576011001001,TPS 001,3576011001,tps,287",
    "3576011001002,TPS 002,3576011001,tps,240",
    "3576011002,Surodinawan,357601,village,",
    "3576011002001,TPS 001,3576011002,tps,200",
]
HEADER = "code,name,parent,level,registered_voters"


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def count(url: str, model: type) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model))


def load_base(tmp_path: Path, url: str) -> None:
    report = load_regions(write(tmp_path, "base.csv", [HEADER, *BASE_REGIONS]), url)
    assert report.errors == []


# --------------------------------------------------------------------------- report, codes


def test_report_summary_and_error_cap() -> None:
    report = LoadReport(inserted=3, updated=1, unchanged=2, rows=7)
    report.add_error(4, "bad")
    assert report.summary() == "7 rows: 3 inserted, 1 updated, 2 unchanged, 1 error"
    for line in range(20_000):
        report.add_error(line, "bad")
    assert report.error_count == 20_001
    assert len(report.errors) == 10_000


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("35.76.01.1001", "3576011001"),
        ("35.76.01.1001-001", "3576011001001"),
        (" 3576011001001 ", "3576011001001"),
        ("35 76", "3576"),
    ],
)
def test_normalise_code(raw: str, code: str) -> None:
    assert normalise_code(raw) == code


# --------------------------------------------------------------------------- election

GOOD_CONTEST = """\
  - code: PPWP
    name: Presiden dan Wakil Presiden
    candidates:
      - {number: 1, name: Satu}
      - {number: 2, name: Dua}
"""


def election_file(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "election.yaml"
    path.write_text("election: Uji\ncontests:\n" + GOOD_CONTEST + extra, encoding="utf-8")
    return path


def test_election_loads_the_demo_file(db: str) -> None:
    report = load_election(DEMO / "election.yaml", db)
    assert report.errors == []
    assert (report.inserted, report.updated, report.unchanged) == (8, 0, 0)
    with session_scope(db) as session:
        contests = session.scalars(select(Contest).order_by(Contest.position)).all()
        codes = ["PPWP", "DPR", "DPD", "DPRP", "DPRK", "GUB", "BUP", "WAL"]
        assert [c.code for c in contests] == codes
        ppwp = contests[0]
        assert ppwp.position == 1 and ppwp.region_scope == []
        assert [c.ballot_number for c in ppwp.candidates] == [1, 2, 3]
        assert "Prabowo" in ppwp.candidates[1].name and "Gibran" in ppwp.candidates[1].name
        dpd = session.get(Contest, "DPD")
        assert dpd is not None and dpd.region_scope == ["12", "32", "34", "35"]  # its areas
        wal = session.get_one(Contest, "WAL")
        assert wal.applies_to("3576011001001") and not wal.applies_to("3403012001001")


def test_election_rerun_is_unchanged_and_edits_replace_candidates(db: str, tmp_path: Path) -> None:
    path = election_file(tmp_path, "")
    assert load_election(path, db).inserted == 1
    again = load_election(path, db)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    path.write_text(
        path.read_text().replace(
            "{number: 2, name: Dua}", "{number: 2, name: Dua Baru}\n      - {number: 3, name: Tiga}"
        )
    )
    edited = load_election(path, db)
    assert (edited.inserted, edited.updated, edited.unchanged) == (0, 1, 0)
    with session_scope(db) as session:
        names = session.scalars(select(Candidate.name).order_by(Candidate.ballot_number)).all()
    assert names == ["Satu", "Dua Baru", "Tiga"]
    assert count(db, Candidate) == 3


# Each bad contest follows the good one; the good contest takes lines 3-7 of the file.
BAD_CONTESTS = [
    (
        "  - code: ppwp\n    name: X\n    candidates: [{number: 1, name: A}]\n",
        8,
        "code must be 2-10 uppercase letters",
    ),
    (
        "  - code: ABCDEFGHIJK\n    name: X\n    candidates: [{number: 1, name: A}]\n",
        8,
        "code must be 2-10 uppercase letters",
    ),
    (
        "  - code: DPR\n    name: ''\n    candidates: [{number: 1, name: A}]\n",
        9,
        "contest DPR: empty name",
    ),
    ("  - code: DPR\n    name: X\n    candidates: []\n", 10, "candidates must be a non-empty list"),
    ("  - code: DPR\n    name: X\n", 8, "candidates must be a non-empty list"),
    (
        "  - code: DPR\n    name: X\n    candidates:\n      - {number: 1, name: A}\n"
        "      - {number: 1, name: B}\n",
        12,
        "duplicate ballot number 1 (first on line 11)",
    ),
    (
        "  - code: DPR\n    name: X\n    candidates:\n      - {number: 0, name: A}\n",
        11,
        "ballot number must be a whole number ≥ 1",
    ),
    (
        "  - code: DPR\n    name: X\n    candidates:\n      - {number: 1, name: ''}\n",
        11,
        "candidate 1: empty name",
    ),
    (
        "  - code: DPR\n    name: X\n    regions: ['35.7']\n"
        "    candidates: [{number: 1, name: A}]\n",
        10,
        "region '35.7' must be a 2, 4, 6 or 10-digit region code",
    ),
    (
        "  - code: PPWP\n    name: X\n    candidates: [{number: 1, name: A}]\n",
        8,
        "duplicate code (first on line 3)",
    ),
    ("  - just text\n", 8, "expected a mapping"),
]


@pytest.mark.parametrize(("contest", "line", "reason"), BAD_CONTESTS)
def test_election_bad_contest_is_reported_and_good_one_loads(
    db: str, tmp_path: Path, contest: str, line: int, reason: str
) -> None:
    report = load_election(election_file(tmp_path, contest), db)
    assert len(report.errors) == 1, report.errors
    assert report.errors[0][0] == line
    assert reason in report.errors[0][1]
    assert report.inserted == 1
    with session_scope(db) as session:
        assert session.scalars(select(Contest.code)).all() == ["PPWP"]


def test_election_accepts_zero_padded_numbers_and_scoped_regions(db: str, tmp_path: Path) -> None:
    extra = (
        "  - code: DPRK\n    name: DPRD Kota\n    regions: [3576, '32.77']\n"
        "    candidates:\n      - {number: 08, name: Delapan}\n"
        "      - {number: '09', name: Sembilan}\n"
    )
    report = load_election(election_file(tmp_path, extra), db)
    assert report.errors == []
    with session_scope(db) as session:
        contest = session.get(Contest, "DPRK")
        assert contest.region_scope == ["3576", "3277"]
        assert [c.ballot_number for c in contest.candidates] == [8, 9]
        assert contest.position == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("contests: [unclosed", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("election: X\ncontests: PPWP\n", "`contests` must be a list"),
    ],
)
def test_election_unreadable_file_raises(db: str, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(text)
    with pytest.raises(LoadError, match=message):
        load_election(path, db)
    with pytest.raises(LoadError, match="cannot read"):
        load_election(tmp_path / "missing.yaml", db)


# --------------------------------------------------------------------------- regions


def test_regions_load_hierarchy_and_tps(db: str, tmp_path: Path) -> None:
    report = load_regions(write(tmp_path, "r.csv", [HEADER, *BASE_REGIONS]), db)
    assert report.errors == []
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (8, 8, 0, 0)
    assert report.kinds == {"province": 1, "regency": 1, "district": 1, "village": 2, "tps": 3}
    with session_scope(db) as session:
        village = session.get(Region, "3576011001")
        assert (village.level, village.parent_code) == ("village", "357601")
        assert session.get(Region, "35").parent_code is None
        tps = session.get(Tps, "3576011001001")
        assert (tps.village_code, tps.registered_voters, tps.name) == ("3576011001", 287, "TPS 001")


def test_regions_accept_dotted_codes_empty_parents_and_indonesian_levels(
    db: str, tmp_path: Path
) -> None:
    rows = [
        HEADER,
        "35,Jawa Timur,,provinsi,",
        "35.76,Kota Mojokerto,,kota,",
        "35.76.01,Prajurit Kulon,35.76,kecamatan,",
        "35.76.01.1001,Prajurit Kulon,,kelurahan,",
        "35.76.01.1001-001,TPS 001,35.76.01.1001,TPS,287",
        '3576011001002,"TPS 002, Balai RW",,,260',
    ]
    report = load_regions(write(tmp_path, "r.csv", rows), db)
    assert report.errors == []
    assert count(db, Region) == 4 and count(db, Tps) == 2
    with session_scope(db) as session:
        assert session.get(Region, "357601").parent_code == "3576"
        assert session.get(Tps, "3576011001002").name == "TPS 002, Balai RW"


# (row appended after BASE_REGIONS, i.e. on file line 10; reason)
BAD_REGION_ROWS = [
    ("357601100,Salah,357601,village,", "must have 2, 4, 6, 10 or 13 digits"),
    ("35AB,Salah,35,regency,", "must have 2, 4, 6, 10 or 13 digits"),
    ("35760110010011,Salah,,tps,200", "must have 2, 4, 6, 10 or 13 digits"),
    ("3576019999,Salah,357699,village,", "is not the code's prefix 357601"),
    ("3576999999,Salah,357699,village,", "unknown parent 357699"),
    ("3576019999001,TPS 001,3576019999,tps,200", "unknown parent 3576019999"),
    ("36,Salah,35,province,", "provinces have none"),
    ("357602,Magersari,3576,village,", "level 'village' does not match a 6-digit code"),
    ("357602,,3576,district,", "empty name"),
    ("3576011001009,TPS 009,3576011001,tps,", "registered_voters missing"),
    ("3576011001009,TPS 009,3576011001,tps,dua ratus", "'dua ratus' is not a whole number"),
    ("3576011001009,TPS 009,3576011001,tps,0", "registered_voters 0 outside 1..1000"),
    ("3576011001009,TPS 009,3576011001,tps,1001", "registered_voters 1001 outside 1..1000"),
    ("3576011001001,TPS 001,3576011001,tps,287", "duplicate code 3576011001001 (first on line 6)"),
    ("3576011001,Prajurit Kulon,357601,village,", "duplicate code 3576011001 (first on line 5)"),
    ("3576011001009,TPS 009, Balai RW,3576011001,tps,200", "6 fields but the header has 5"),
    ("357602," + "x" * 201 + ",3576,district,", "name longer than 200 characters"),
]


@pytest.mark.parametrize("batch_size", [5000, 3], ids=["one-batch", "small-batches"])
@pytest.mark.parametrize(("row", "reason"), BAD_REGION_ROWS)
def test_regions_bad_row_is_reported_with_its_line(
    db: str, tmp_path: Path, row: str, reason: str, batch_size: int
) -> None:
    lines = [HEADER, *BASE_REGIONS, row, "3576011002002,TPS 002,3576011002,tps,210"]
    report = load_regions(write(tmp_path, "r.csv", lines), db, batch_size=batch_size)
    assert len(report.errors) == 1, report.errors
    line, text = report.errors[0]
    assert line == 10
    assert reason in text
    assert report.inserted == 9  # every good row, including the one after the bad one
    assert count(db, Region) + count(db, Tps) == 9


def test_regions_parent_must_come_first_or_be_in_the_database(db: str, tmp_path: Path) -> None:
    child_first = [HEADER, "3576,Kota Mojokerto,35,regency,", "35,Jawa Timur,,province,"]
    report = load_regions(write(tmp_path, "a.csv", child_first), db)
    assert report.errors == [(2, "unknown parent 35 (not in the database nor earlier in the file)")]
    # Now 35 is in the database: a later file may hang children on it.
    report = load_regions(write(tmp_path, "b.csv", [HEADER, "3576,Kota Mojokerto,35,,"]), db)
    assert report.errors == [] and report.inserted == 1


def test_regions_rerun_changes_nothing_then_updates_what_changed(db: str, tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", [HEADER, *BASE_REGIONS])
    load_regions(path, db)
    again = load_regions(path, db, batch_size=2)
    assert (again.inserted, again.updated, again.unchanged, again.errors) == (0, 0, 8, [])
    assert count(db, Region) == 5 and count(db, Tps) == 3
    edited = [r.replace("tps,287", "tps,290") for r in BASE_REGIONS]
    report = load_regions(write(tmp_path, "r2.csv", [HEADER, *edited]), db)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 7)
    with session_scope(db) as session:
        assert session.get(Tps, "3576011001001").registered_voters == 290


def test_regions_skip_comments_and_blanks_but_count_their_lines(db: str, tmp_path: Path) -> None:
    lines = [
        "# illustrative",
        "",
        HEADER,
        "# provinces",
        *BASE_REGIONS[:2],
        "",
        "357601,,3576,district,",
    ]
    report = load_regions(write(tmp_path, "r.csv", lines), db)
    assert report.errors == [(8, "empty name")]


def test_regions_semicolon_file_with_bom_and_column_order(db: str, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeffname;code;level;parent;registered_voters\r\n"
        "Jawa Timur;35;province;;\r\nKota Mojokerto;3576;regency;35;\r\n".encode()
    )
    report = load_regions(path, db)
    assert report.errors == [] and report.inserted == 2


def test_regions_unreadable_file_raises(db: str, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="cannot read"):
        load_regions(tmp_path / "missing.csv", db)
    with pytest.raises(LoadError, match="header lacks code"):
        load_regions(write(tmp_path, "h.csv", ["kode,nama", "35,Jawa Timur"]), db)
    with pytest.raises(LoadError, match="no header"):
        load_regions(write(tmp_path, "e.csv", ["# nothing"]), db)


def test_regions_reject_text_that_is_not_utf8(db: str, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"{HEADER}\n35,Jawa Timur,,,\n3576,Kota Mojok\xe9rto,35,,\n".encode("latin-1"))
    report = load_regions(path, db)
    assert report.errors == [(3, 'name is not valid UTF-8 text (save the file as "CSV UTF-8")')]


# --------------------------------------------------------------------------- roster

ROSTER_HEADER = "phone,name,role,tps_code,language"


def officer(url: str, phone: str) -> Officer | None:
    with session_scope(url) as session:
        return session.scalar(select(Officer).where(Officer.phone == phone))


@pytest.mark.parametrize(
    "phone",
    [
        "081234567890",
        "+6281234567890",
        "6281234567890",
        "0812-3456-7890",
        "0812 3456 7890",
        "81234567890",
        "(0812) 3456-7890",
    ],
)
def test_roster_phone_forms_are_stored_as_e164(db: str, tmp_path: Path, phone: str) -> None:
    load_base(tmp_path, db)
    row = f'"{phone}",Sutrisno,kpps,3576011001001,id'
    report = import_roster(write(tmp_path, "o.csv", [ROSTER_HEADER, row]), db)
    assert report.errors == []
    assert officer(db, "+6281234567890") is not None


def test_roster_scopes_kpps_to_a_tps_and_pps_to_a_village(db: str, tmp_path: Path) -> None:
    load_base(tmp_path, db)
    rows = [
        ROSTER_HEADER,
        "081234567801,Sutrisno,kpps,3576011001001,id",
        "081234567802,Dewi,KPPS,35.76.01.1001-002,EN",
        "081234567809,Slamet,pps,3576011001,",
        "081234567810,Rahayu,pps,3576011002001,id",
    ]
    report = import_roster(write(tmp_path, "o.csv", rows), db)
    assert report.errors == []
    assert report.kinds == {"kpps": 2, "pps": 2}
    kpps = officer(db, "+6281234567801")
    assert (kpps.role, kpps.tps_code, kpps.village_code, kpps.language) == (
        "kpps",
        "3576011001001",
        "3576011001",
        "id",
    )
    assert officer(db, "+6281234567802").language == "en"
    by_village = officer(db, "+6281234567809")
    assert (by_village.role, by_village.tps_code, by_village.village_code, by_village.language) == (
        "pps",
        None,
        "3576011001",
        "id",
    )
    by_tps = officer(db, "+6281234567810")
    assert (by_tps.tps_code, by_tps.village_code) == (None, "3576011002")
    with session_scope(db) as session:
        tps1, tps2, other = (
            session.get(Tps, c) for c in ("3576011001001", "3576011001002", "3576011002001")
        )
    assert kpps.may_report(tps1) and not kpps.may_report(tps2)
    assert by_village.may_report(tps1) and by_village.may_report(tps2)
    assert not by_village.may_report(other) and by_tps.may_report(other)


# (row on file line 3, after one good row; reason)
BAD_ROSTER_ROWS = [
    ("12345,Salah,kpps,3576011001001,id", "phone '12345' is not a phone number"),
    ("0812abc,Salah,kpps,3576011001001,id", "is not a phone number"),
    (",Salah,kpps,3576011001001,id", "phone missing"),
    ("081234567899,,kpps,3576011001001,id", "empty name"),
    ("081234567899,Salah,ketua,3576011001001,id", "role 'ketua' must be kpps or pps"),
    ("081234567899,Salah,,3576011001001,id", "role missing"),
    ("081234567899,Salah,kpps,3576011001,id", "must be a 13-digit TPS code for a kpps officer"),
    ("081234567899,Salah,pps,357601,id", "10-digit village code or a 13-digit TPS code"),
    ("081234567899,Salah,kpps,3576011001009,id", "TPS 3576011001009 is not loaded"),
    ("081234567899,Salah,pps,3576011009001,id", "TPS 3576011009001 is not loaded"),
    ("081234567899,Salah,pps,3576011009,id", "village 3576011009 is not loaded"),
    ("081234567899,Salah,pps,357601,id", "must be a 10-digit village code"),
    ("081234567899,Salah,kpps,3576011001001,jv", "language 'jv' must be id or en"),
]


@pytest.mark.parametrize("batch_size", [5000, 2], ids=["one-batch", "small-batches"])
@pytest.mark.parametrize(("row", "reason"), BAD_ROSTER_ROWS)
def test_roster_bad_row_is_reported_with_its_line(
    db: str, tmp_path: Path, row: str, reason: str, batch_size: int
) -> None:
    load_base(tmp_path, db)
    rows = [
        ROSTER_HEADER,
        "081234567801,Sutrisno,kpps,3576011001001,id",
        row,
        "081234567803,Bambang,pps,3576011002,id",
    ]
    report = import_roster(write(tmp_path, "o.csv", rows), db, batch_size=batch_size)
    assert len(report.errors) == 1, report.errors
    assert report.errors[0][0] == 3
    assert reason in report.errors[0][1]
    assert report.inserted == 2
    assert count(db, Officer) == 2


@pytest.mark.parametrize("batch_size", [5000, 2], ids=["one-batch", "small-batches"])
def test_roster_later_row_for_a_phone_wins_with_a_note(
    db: str, tmp_path: Path, batch_size: int
) -> None:
    load_base(tmp_path, db)
    rows = [
        ROSTER_HEADER,
        "081234567801,Sutrisno,kpps,3576011001001,id",
        "081234567802,Dewi,kpps,3576011001002,id",
        "081234567803,Bambang,kpps,3576011002001,id",
        "+6281234567801,Sutrisno Baru,pps,3576011001,en",
    ]
    report = import_roster(write(tmp_path, "o.csv", rows), db, batch_size=batch_size)
    assert report.errors == []
    assert report.inserted == 3
    assert report.notes == [(5, "phone +6281234567801 also on line 2: this later row replaces it")]
    assert count(db, Officer) == 3
    winner = officer(db, "+6281234567801")
    assert (winner.name, winner.role, winner.tps_code, winner.language) == (
        "Sutrisno Baru",
        "pps",
        None,
        "en",
    )


def test_roster_rerun_is_unchanged_and_an_update_keeps_the_telegram_link(
    db: str, tmp_path: Path
) -> None:
    load_base(tmp_path, db)
    path = write(
        tmp_path,
        "o.csv",
        [
            ROSTER_HEADER,
            "081234567801,Sutrisno,kpps,3576011001001,",
            "081234567802,Dewi,kpps,3576011001002,en",
        ],
    )
    import_roster(path, db)
    with session_scope(db) as session:
        session.scalar(
            select(Officer).where(Officer.phone == "+6281234567801")
        ).telegram_user_id = 4242
    again = import_roster(path, db)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    moved = write(
        tmp_path, "o2.csv", [ROSTER_HEADER, "081234567801,Sutrisno,kpps,3576011001002,en"]
    )
    report = import_roster(moved, db)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    moved_officer = officer(db, "+6281234567801")
    assert (moved_officer.tps_code, moved_officer.language) == ("3576011001002", "en")
    assert moved_officer.telegram_user_id == 4242 and moved_officer.reachable
    assert moved_officer.created_at is not None
    assert count(db, Officer) == 2


def test_roster_unreadable_file_raises(db: str, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="header lacks role, tps_code"):
        import_roster(write(tmp_path, "o.csv", ["phone,name", "0812,X"]), db)


def test_roster_at_modest_scale(db: str, tmp_path: Path) -> None:
    """50,000 officers, 7 per TPS: counts must be exact on the first load and on a re-run."""
    tps_count = 50_000 // 7 + 1
    regions = [HEADER, "35,P,,,", "3576,K,35,,", "357601,D,3576,,"]
    tps_codes = []
    for v in range(tps_count // 10 + 1):
        village = f"357601{2000 + v}"
        regions.append(f"{village},Desa {v},357601,,")
        for t in range(1, 11):
            regions.append(f"{village}{t:03d},TPS {t:03d},{village},,250")
            tps_codes.append(f"{village}{t:03d}")
    assert load_regions(write(tmp_path, "r.csv", regions), db).errors == []
    forms = ("0812{:08d}", "+62812{:08d}", "62812{:08d}")
    roster = [ROSTER_HEADER]
    for i in range(50_000):
        tps = tps_codes[i // 7]
        pps = i % 7 == 6
        roster.append(
            f"{forms[i % 3].format(i)},Petugas {i},{'pps' if pps else 'kpps'},"
            f"{tps[:10] if pps else tps},id"
        )
    path = write(tmp_path, "o.csv", roster)
    calls: list[tuple[int, float]] = []
    report = import_roster(path, db, progress=lambda rows, done: calls.append((rows, done)))
    assert (report.rows, report.inserted, report.errors) == (50_000, 50_000, [])
    assert report.kinds == {"kpps": 42_858, "pps": 7_142}
    assert count(db, Officer) == 50_000
    assert calls[-1] == (50_000, 1.0) and len(calls) == 11
    again = import_roster(path, db)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 50_000)
    assert count(db, Officer) == 50_000


# --------------------------------------------------------------------------- demo data


def test_demo_files_load_without_errors(db: str) -> None:
    for report in (
        load_election(DEMO / "election.yaml", db),
        load_regions(DEMO / "regions.csv", db),
        import_roster(DEMO / "roster.csv", db),
    ):
        assert report.errors == [] and report.notes == []
    assert count(db, Officer) == 20
    with session_scope(db) as session:
        assert session.get(Tps, "3576011001001").registered_voters >= 260
        regencies = set(session.scalars(select(Region.code).where(Region.level == "regency")))
        assert regencies == {"3576", "3277", "3403", "1213"}
        officers = session.scalars(select(Officer)).all()
        assert {o.village_code[:4] for o in officers} == regencies
        for tps in session.scalars(select(Tps)):
            assert 180 <= tps.registered_voters <= 300
    first, second, pps = (officer(db, f"+62812345678{n}") for n in ("01", "02", "09"))
    assert (first.role, first.tps_code, first.language) == ("kpps", "3576011001001", "id")
    assert (second.role, second.tps_code, second.language) == ("kpps", "3576011001002", "en")
    assert (pps.role, pps.tps_code, pps.village_code) == ("pps", None, "3576011001")


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(db: str):
    app = Flask(__name__)
    app.config["DATABASE_URL"] = db
    register(app)
    return app.test_cli_runner()


def test_cli_loads_the_demo_files(cli) -> None:
    for args in (
        ["election", "load", str(DEMO / "election.yaml")],
        ["regions", "load", str(DEMO / "regions.csv")],
        ["roster", "import", str(DEMO / "roster.csv")],
    ):
        result = cli.invoke(args=args)
        assert result.exit_code == 0, result.output
        assert " inserted, 0 updated, 0 unchanged, 0 errors" in result.output
    result = cli.invoke(args=["roster", "import", str(DEMO / "roster.csv")])
    assert "20 rows: 0 inserted, 0 updated, 20 unchanged, 0 errors" in result.output


def test_cli_prints_errors_and_notes_by_line(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", [HEADER, *BASE_REGIONS, "3576011001009,TPS 009,,,0"])
    result = cli.invoke(args=["regions", "load", str(path)])
    assert result.exit_code == 3  # rows refused: the good ones loaded, the file needs fixing
    assert "9 rows: 8 inserted, 0 updated, 0 unchanged, 1 error" in result.output
    assert "line 10: registered_voters 0 outside 1..1000" in result.output
    assert "1 refused: exit 3 (fix the file and re-run, or pass --skip-bad-rows)" in result.output
    skipped = cli.invoke(args=["regions", "load", "--skip-bad-rows", str(path)])
    assert skipped.exit_code == 0
    assert "9 rows: 0 inserted, 0 updated, 8 unchanged, 1 error" in skipped.output
    assert "line 10: registered_voters 0 outside 1..1000" in skipped.output
    roster = write(
        tmp_path,
        "o.csv",
        [ROSTER_HEADER, "081234567801,A,kpps,3576011001001,", "081234567801,B,kpps,3576011001002,"],
    )
    result = cli.invoke(args=["roster", "import", str(roster)])
    assert result.exit_code == 0  # a note is not a refused row
    assert "line 3: note: phone +6281234567801 also on line 2" in result.output
    bad_roster = write(tmp_path, "b.csv", [ROSTER_HEADER, "081234567899,C,kpps,3576019999999,"])
    result = cli.invoke(args=["roster", "import", str(bad_roster)])
    assert result.exit_code == 3
    skipped = cli.invoke(args=["roster", "import", "--skip-bad-rows", str(bad_roster)])
    assert skipped.exit_code == 0 and "1 error" in skipped.output


def test_cli_caps_printed_errors_at_50(cli, tmp_path: Path) -> None:
    bad = [f"3576011001{n:03d},TPS,,,0" for n in range(100, 175)]
    result = cli.invoke(
        args=["regions", "load", str(write(tmp_path, "r.csv", [HEADER, *BASE_REGIONS, *bad]))]
    )
    assert result.exit_code == 3
    assert "75 errors" in result.output
    assert result.output.count("outside 1..1000") == 50
    assert "… and 25 more errors" in result.output


@pytest.mark.parametrize(
    ("args", "content"),
    [
        (["regions", "load"], "kode,nama\n"),
        (["roster", "import"], "phone\n"),
        (["election", "load"], "contests: [oops"),
    ],
)
def test_cli_exits_1_when_the_file_cannot_be_read(
    cli, tmp_path: Path, args: list[str], content: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    result = cli.invoke(args=[*args, str(path)])
    assert result.exit_code == 1
    assert "error:" in result.output
    result = cli.invoke(args=[*args, str(tmp_path / "missing.csv")])
    assert result.exit_code == 1
    assert "cannot read" in result.output


# --------------------------------------------------------------------------- progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_prints_on_a_terminal_only() -> None:
    assert terminal_progress("roster", io.StringIO()) is None
    screen = FakeTerminal()
    printer = terminal_progress("roster", screen)
    assert isinstance(printer, ProgressPrinter)
    printer(5_000, 0.5)
    printer(10_000, 1.0)
    printer.close()
    text = screen.getvalue()
    assert "10,000 rows" in text and "100%" in text and "rows/s" in text
    assert text.endswith("\n")


def test_progress_tells_the_time_left() -> None:
    assert time_left(10.0, 0.25) == "30 s left"
    assert time_left(90.0, 0.5) == "1 min 30 s left"
    assert time_left(3000.0, 0.4) == "1 h 15 min left"
    assert time_left(0.1, 0.01) == "time left: estimating"
    assert time_left(42.4, 1.0) == "done in 42 s"
    screen = FakeTerminal()
    printer = ProgressPrinter("roster", screen, interval=0.0)
    printer.started -= 20.0  # twenty seconds in, a quarter of the file read
    printer(5_000, 0.25)
    assert "1 min 00 s left" in screen.getvalue()


def test_cli_writes_every_refused_row_to_the_errors_file(cli, tmp_path: Path) -> None:
    bad = [f"3576011001{n:03d},TPS,,,0" for n in range(100, 175)]
    path = write(tmp_path, "r.csv", [HEADER, *BASE_REGIONS, *bad])
    errors = tmp_path / "errors.csv"
    result = cli.invoke(args=["regions", "load", "--errors-file", str(errors), str(path)])
    assert result.exit_code == 3
    assert f"every refused row: {errors}" in result.output
    assert result.output.count("outside 1..1000") == 50  # the screen keeps its cap
    with errors.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 75  # the file has them all
    assert rows[0] == {"line": "10", "error": "registered_voters 0 outside 1..1000"}
    assert [int(row["line"]) for row in rows] == list(range(10, 85))
    fixed = write(tmp_path, "fixed.csv", [HEADER, *BASE_REGIONS])
    clean = cli.invoke(args=["regions", "load", "--errors-file", str(errors), str(fixed)])
    assert clean.exit_code == 0
    assert errors.read_text(encoding="utf-8") == "line,error\n"  # a clean load: header only
    unwritable = cli.invoke(
        args=["regions", "load", "--errors-file", str(tmp_path / "no" / "e.csv"), str(fixed)]
    )
    assert unwritable.exit_code == 1 and "cannot write" in unwritable.output
