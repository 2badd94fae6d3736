"""The election file with party contests: kinds, required sections, dapils and per-dapil party
candidate lists (inline and from companion CSV files), their row errors by file and line,
streaming a national-size list, re-runs, and what `relay.ballots.ballot_for` makes of the demo.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from relay.ballots import ballot_for
from relay.config import ROOT
from relay.db import session_scope
from relay.loaders.election import load_election
from relay.loaders.regions import load_regions
from relay.models import Contest, Dapil, PartyCandidate, Tps
from webhooks.cli_data import register

DEMO = ROOT / "demo"
DEMO_TPS = [
    row[0]
    for row in csv.reader(line for line in DEMO.joinpath("regions.csv").open() if line[0] != "#")
    if len(row[0]) == 13
]

PARTIES = "    parties:\n      - {number: 1, name: Satu}\n      - {number: 2, name: Dua}\n"


def count(url: str, model: type, *where: object) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def party_contest(tmp_path: Path, body: str, code: str = "DPR", head: str = "") -> Path:
    """An election file with one party contest (parties 1 and 2) whose contest line is 3;
    `head` goes on line 5, the parties take 2 lines + 1 each, `body` follows."""
    ballot = PARTIES if "kind: candidates" not in head else PARTIES.replace("parties", "candidates")
    return write(
        tmp_path / "election.yaml",
        f"election: Uji\ncontests:\n  - code: {code}\n    name: Uji\n{head}{ballot}{body}",
    )


def lists(url: str, contest: str = "DPR") -> dict[tuple[str, int, int], str]:
    with session_scope(url) as session:
        return {
            (c.dapil_code, c.party_number, c.candidate_number): c.name
            for c in session.scalars(
                select(PartyCandidate).where(PartyCandidate.contest_code == contest)
            )
        }


# --------------------------------------------------------------------------- the demo


def test_demo_has_every_contest_type_with_kinds_and_required_sections(db: str) -> None:
    report = load_election(DEMO / "election.yaml", db)
    assert report.errors == [] and report.notes == []
    with session_scope(db) as session:
        contests = session.scalars(select(Contest).order_by(Contest.position)).all()
        assert [(c.code, c.kind) for c in contests] == [
            ("PPWP", "candidates"),
            ("DPR", "parties"),
            ("DPD", "candidates"),
            ("DPRP", "parties"),
            ("DPRK", "parties"),
            ("GUB", "candidates"),
            ("BUP", "candidates"),
            ("WAL", "candidates"),
        ]
        required = {c.code: c.required_sections for c in contests if c.required_sections}
        assert required == {"DPRK": ["candidates"], "GUB": ["voters", "ballots"]}
        dpr = session.get_one(Contest, "DPR")
        assert [c.ballot_number for c in dpr.candidates] == [*range(1, 18), 24]
        assert {
            d.code for d in session.scalars(select(Dapil).where(Dapil.contest_code == "DPR"))
        } == {
            "JATIM-8",
            "JABAR-1",
            "DIY",
            "SUMUT-2",
        }


def test_demo_dpr_ballot_at_the_first_demo_tps_has_its_dapil_and_party_lists(db: str) -> None:
    load_election(DEMO / "election.yaml", db)
    with session_scope(db) as session:
        ballot = ballot_for(session, session.get_one(Contest, "DPR"), "3576011001001")
        assert ballot is not None and ballot.is_party_contest
        assert ballot.dapil == "JATIM-8"
        assert ballot.numbers == (*range(1, 18), 24)
        assert ballot.names[2] == "Partai Gerakan Indonesia Raya"
        assert set(ballot.party_candidates) == set(ballot.numbers)
        for party, numbers in ballot.party_candidates.items():
            assert numbers == tuple(range(1, len(numbers) + 1)), party  # 1..n in ballot order
            assert 1 <= len(numbers) <= 10
        assert len(ballot.party_candidates[1]) == 10  # Jawa Timur VIII has 10 seats
        assert ballot.candidate_names[(1, 1)]
        assert ballot.required == frozenset()
        cimahi = ballot_for(session, session.get_one(Contest, "DPR"), "3277011001001")
        assert cimahi is not None and cimahi.dapil == "JABAR-1"
        assert cimahi.candidate_names[(1, 1)] != ballot.candidate_names[(1, 1)]


def test_demo_every_tps_is_in_a_dapil_of_every_party_contest(db: str) -> None:
    load_election(DEMO / "election.yaml", db)
    assert len(DEMO_TPS) == 53
    with session_scope(db) as session:
        for code in ("DPR", "DPRP", "DPRK"):
            contest = session.get_one(Contest, code)
            for tps in DEMO_TPS:
                ballot = ballot_for(session, contest, tps)
                assert ballot is not None and ballot.dapil, (code, tps)
                assert all(ballot.party_candidates.values()), (code, tps)
        dprk = session.get_one(Contest, "DPRK")
        assert ballot_for(session, dprk, "3576011001001").dapil == "MOJOKERTO-1"
        assert ballot_for(session, dprk, "3576021001001").dapil == "MOJOKERTO-2"
        assert ballot_for(session, dprk, "3576011001001").requires("candidates")


def test_demo_regional_contests_apply_only_in_their_areas(db: str) -> None:
    """DPD in every demo province, GUB in three (DI Yogyakarta elects no governor), BUP in the
    two regencies, WAL in the two cities; each area with its own list."""
    load_election(DEMO / "election.yaml", db)
    with session_scope(db) as session:
        gub, wal, bup, dpd = (session.get_one(Contest, c) for c in ("GUB", "WAL", "BUP", "DPD"))
        for tps in DEMO_TPS:
            assert ballot_for(session, dpd, tps) is not None, tps
            ballot = ballot_for(session, gub, tps)
            if tps.startswith("34"):
                assert ballot is None
            else:
                assert ballot is not None and ballot.area is not None
                assert ballot.required == frozenset({"voters", "ballots"})
        jatim = ballot_for(session, gub, "3576011001001")
        assert jatim is not None and (jatim.area, jatim.numbers) == ("JATIM", (1, 2, 3))
        assert ballot_for(session, wal, "3576011001001").area == "MOJOKERTO"
        assert ballot_for(session, wal, "3277011001001").area == "CIMAHI"
        assert ballot_for(session, wal, "3403012001001") is None
        assert ballot_for(session, bup, "3403012001001").area == "GUNUNGKIDUL"
        assert ballot_for(session, bup, "1213051001001").area == "MADINA"
        assert ballot_for(session, bup, "3576011001001") is None
        assert sorted(wal.region_scope) == ["3277", "3576"]


def test_demo_rerun_changes_nothing(db: str) -> None:
    first = load_election(DEMO / "election.yaml", db)
    stored = lists(db, "DPRK")
    again = load_election(DEMO / "election.yaml", db)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.inserted)
    assert lists(db, "DPRK") == stored
    assert count(db, PartyCandidate) == first.kinds["list candidates"]


# --------------------------------------------------------------------------- the format

INLINE = """\
    required: [candidates, voters]
    dapils:
      - code: A-1
        name: Dapil A 1
        regions: ["35.76", "3577"]
        candidates:
          1: [Ani, Budi, {number: 3, name: Cici}]
          '02': [Dodi]
      - {code: B-1, name: Dapil B 1, regions: ["32"]}
"""


def test_inline_dapils_and_lists_with_the_default_kind(db: str, tmp_path: Path) -> None:
    report = load_election(party_contest(tmp_path, INLINE), db)
    assert report.errors == [], report.errors
    assert report.kinds == {"parties": 2, "dapils": 2, "list candidates": 4}
    with session_scope(db) as session:
        contest = session.get_one(Contest, "DPR")
        assert contest.kind == "parties"  # the default for DPR
        assert contest.required_sections == ["candidates", "voters"]
        ballot = ballot_for(session, contest, "3576011001001")
        assert ballot is not None and ballot.dapil == "A-1"
        assert ballot.party_candidates == {1: (1, 2, 3), 2: (1,)}
        assert ballot.candidate_names[(1, 3)] == "Cici"
        other = ballot_for(session, contest, "3277011001001")
        assert (
            other is not None
            and other.dapil == "B-1"
            and other.party_candidates
            == {
                1: (),
                2: (),
            }
        )
        assert ballot_for(session, contest, "1213011001001") is None  # in no dapil


def test_companion_files_with_a_contest_column_and_semicolons(db: str, tmp_path: Path) -> None:
    write(tmp_path / "dapil.csv", "contest;code;name;regions\nDPR;X-1;Dapil X;35.76 | 3577\n")
    write(
        tmp_path / "caleg.csv",
        '# a comment\ncontest,dapil,party,number,name\nDPR,X-1,1,1,Ani\nDPR,X-1,2,1,"Budi, S.H."\n',
    )
    body = "    dapils: dapil.csv\n    candidates: caleg.csv\n"
    report = load_election(party_contest(tmp_path, body), db)
    assert report.errors == []
    assert lists(db) == {("X-1", 1, 1): "Ani", ("X-1", 2, 1): "Budi, S.H."}
    with session_scope(db) as session:
        assert session.get_one(Dapil, ("DPR", "X-1")).regions == ["3576", "3577"]


def test_a_party_contest_without_dapils_is_one_nationwide_party_list(
    db: str, tmp_path: Path
) -> None:
    path = party_contest(tmp_path, INLINE)
    load_election(path, db)
    assert count(db, PartyCandidate) == 4
    path.write_text(path.read_text().split("    required")[0])
    report = load_election(path, db)
    assert (report.updated, report.errors) == (1, [])
    assert count(db, PartyCandidate) == 0 and count(db, Dapil) == 0
    with session_scope(db) as session:
        ballot = ballot_for(session, session.get_one(Contest, "DPR"), "1213011001001")
        assert ballot is not None and ballot.dapil is None and ballot.numbers == (1, 2)


# --------------------------------------------------------------------------- row errors

# (dapil csv, candidate csv, file, line, reason): line 2 of each file is its first data row.
DAPILS = "code,name,regions\nX-1,Dapil X 1,3576\nX-2,Dapil X 2,3277\n"
GOOD_ROWS = "dapil,party,number,name\nX-1,1,1,Ani\nX-2,2,1,Budi\n"
ROW_ERRORS = [
    (
        DAPILS,
        GOOD_ROWS + "X-1,3,1,Cici\n",
        "caleg.csv",
        4,
        "unknown party 3 (the contest's parties: 1, 2)",
    ),
    (
        DAPILS,
        GOOD_ROWS + "X-1,1,1,Cici\n",
        "caleg.csv",
        4,
        "duplicate candidate number 1 for party 1 in dapil X-1 (first on line 2)",
    ),
    (DAPILS, GOOD_ROWS + "X-9,1,1,Cici\n", "caleg.csv", 4, "unknown dapil 'X-9'"),
    (DAPILS, GOOD_ROWS + "X-1,1,0,Cici\n", "caleg.csv", 4, "candidate number must be a whole"),
    (DAPILS, GOOD_ROWS + "X-1,1,1000,Cici\n", "caleg.csv", 4, "number 1..999"),
    (DAPILS, GOOD_ROWS + "X-1,satu,2,Cici\n", "caleg.csv", 4, "party must be a whole number"),
    (DAPILS, GOOD_ROWS + "X-1,1,2,\n", "caleg.csv", 4, "candidate 1.2: empty name"),
    (DAPILS, GOOD_ROWS + "X-1,1,2," + "n" * 301 + "\n", "caleg.csv", 4, "longer than 300"),
    (
        DAPILS,
        "contest,dapil,party,number,name\nDPR,X-1,1,1,Ani\nDPR,X-2,2,1,Budi\nDPRP,X-1,1,2,C\n",
        "caleg.csv",
        4,
        "row for contest 'DPRP' in this contest's file",
    ),
    (DAPILS, GOOD_ROWS + "X-1,1,2,Cici,extra,more\n", "caleg.csv", 4, "6 fields but the header"),
    (
        DAPILS + "X-3,Dapil X 3,357601\n",
        GOOD_ROWS,
        "dapil.csv",
        4,
        "dapil X-3: region 357601 overlaps region 3576 of dapil X-1 (line 2)",
    ),
    (
        DAPILS + "X-3,Dapil X 3,32\n",
        GOOD_ROWS,
        "dapil.csv",
        4,
        "dapil X-3: region 32 overlaps region 3277 of dapil X-2 (line 3)",
    ),
    (
        DAPILS + "X-3,Dapil X 3,3578 35781\n",
        GOOD_ROWS,
        "dapil.csv",
        4,
        "region '35781' must be a 2, 4, 6 or 10-digit",
    ),
    (
        DAPILS + "X-3,Dapil X 3,1213 121305\n",
        GOOD_ROWS,
        "dapil.csv",
        4,
        "overlaps its own region 1213",
    ),
    (
        DAPILS + "X-1,Dapil X 1 lagi,1213\n",
        GOOD_ROWS,
        "dapil.csv",
        4,
        "duplicate code (first on line 2)",
    ),
    (DAPILS + "X-3,Dapil X 3,\n", GOOD_ROWS, "dapil.csv", 4, "regions must be a non-empty list"),
    (DAPILS + "X 3!,Dapil X 3,1213\n", GOOD_ROWS, "dapil.csv", 4, "dapil code must be 1-20"),
    (DAPILS + "X-3,,1213\n", GOOD_ROWS, "dapil.csv", 4, "dapil X-3: empty name"),
]


@pytest.mark.parametrize(("dapils", "rows", "file", "line", "reason"), ROW_ERRORS)
def test_row_errors_name_file_line_and_reason_and_good_rows_load(
    db: str, tmp_path: Path, dapils: str, rows: str, file: str, line: int, reason: str
) -> None:
    write(tmp_path / "dapil.csv", dapils)
    write(tmp_path / "caleg.csv", rows)
    body = "    dapils: dapil.csv\n    candidates: caleg.csv\n"
    report = load_election(party_contest(tmp_path, body), db)
    assert len(report.errors) == 1, report.errors
    at, text = report.errors[0]
    assert at == line and text.startswith(f"{file}: contest DPR: "), report.errors
    assert reason in text
    assert report.inserted == 1
    assert lists(db) == {("X-1", 1, 1): "Ani", ("X-2", 2, 1): "Budi"}
    assert count(db, Dapil) == 2


@pytest.mark.parametrize(
    ("regions", "reason"),
    [
        ("35", "dapil X-3: region 35 overlaps region 3576 of dapil X-1 (line 2)"),
        ("357", "dapil X-3: region '357' must be a 2, 4, 6 or 10-digit region code"),
    ],
)
def test_rows_of_a_refused_dapil_are_refused_with_a_pointer(
    db: str, tmp_path: Path, regions: str, reason: str
) -> None:
    write(tmp_path / "dapil.csv", DAPILS + f"X-3,Dapil X 3,{regions}\n")
    write(tmp_path / "caleg.csv", GOOD_ROWS + "X-3,1,1,Cici\n")
    body = "    dapils: dapil.csv\n    candidates: caleg.csv\n"
    report = load_election(party_contest(tmp_path, body), db)
    assert [(line, text.split(": ", 2)[2]) for line, text in report.errors] == [
        (4, reason),
        (4, "dapil X-3 was refused (line 4)"),
    ]
    assert report.errors[0][1].startswith("dapil.csv") and report.errors[1][1].startswith(
        "caleg.csv"
    )


# Contest-level mistakes: the contest is skipped whole; its line (or the key's) is named.
CONTEST_ERRORS = [
    (
        "PPWP",
        "    kind: candidates\n",
        "    dapils: [{code: A, name: A, regions: ['35']}]\n",
        9,
        "dapils are for party contests (kind: parties), this one is kind: candidates",
    ),
    ("DPR", "    kind: partai\n", "", 5, "kind must be one of candidates, parties, got 'partai'"),
    ("DPR", "    required: [suara]\n", "", 5, "required section 'suara' is not one of"),
    (
        "PPWP",
        "    kind: candidates\n    required: [candidates]\n",
        "",
        6,
        "required section 'candidates' is for party contests only",
    ),
    ("DPR", "", "    dapils: nowhere.csv\n", 8, "file nowhere.csv not found next to the election"),
    (
        "DPR",
        "",
        "    candidates: [{number: 1, name: A}]\n",
        8,
        "candidates of a party contest must be a CSV file name",
    ),
    ("DPR", "", "    dapils: 7\n", 8, "dapils must be a list or a CSV file name"),
    (
        "DPR",
        "",
        "    regions: ['35']\n    dapils: [{code: A, name: A, regions: ['32']}]\n",
        9,
        "region 32 is outside the contest's regions (35)",
    ),
]


@pytest.mark.parametrize(("code", "head", "body", "line", "reason"), CONTEST_ERRORS)
def test_contest_level_errors(
    db: str, tmp_path: Path, code: str, head: str, body: str, line: int, reason: str
) -> None:
    path = party_contest(tmp_path, body, code=code, head=head)
    report = load_election(path, db)
    assert len(report.errors) == 1, report.errors
    assert report.errors[0][0] == line, report.errors
    assert reason in report.errors[0][1]
    if "outside" not in reason:  # a refused dapil is a row error: the contest still loads
        assert count(db, Contest) == 0


def test_inline_list_errors_are_reported_by_line(db: str, tmp_path: Path) -> None:
    body = (
        "    dapils:\n"  # line 8
        "      - code: A\n"
        "        name: A\n"
        "        regions: ['35']\n"
        "        candidates:\n"
        "          1: [Ani, '']\n"  # line 13: empty name
        "          5: [Eko]\n"  # line 14: unknown party
        "          2: Budi\n"  # line 15: not a list
        "      - just text\n"  # line 16
    )
    report = load_election(party_contest(tmp_path, body), db)
    assert [(line, text.split(": ", 1)[1]) for line, text in report.errors] == [
        (13, "candidate 1.2: empty name"),
        (14, "unknown party 5 (the contest's parties: 1, 2)"),
        (15, "dapil A: party 2: expected a list of names"),
        (16, "dapil must be a mapping with code, name, regions"),
    ]
    assert lists(db) == {("A", 1, 1): "Ani"}


# --------------------------------------------------------------------------- national size


def national_files(tmp_path: Path, dapils: int, parties: int, per_party: int) -> None:
    """A generated DPR-like contest: `dapils` dapils (one regency each) with `per_party`
    candidates for each of `parties` parties, written in shuffled dapil order."""
    with (tmp_path / "dapil.csv").open("w") as out:
        out.write("code,name,regions\n")
        for d in range(dapils):
            out.write(f"D-{d},Dapil {d},{11 + d // 20:02d}{d % 20 + 1:02d}\n")
    with (tmp_path / "caleg.csv").open("w") as out:
        out.write("contest,dapil,party,number,name\n")
        for d in sorted(range(dapils), key=lambda d: (d * 37) % dapils):
            for p in range(1, parties + 1):
                for k in range(1, per_party + 1):
                    out.write(f"DPR,D-{d},{p},{k},Calon {d}-{p}-{k}\n")
    numbers = "".join(f"      - {{number: {p}, name: Partai {p}}}\n" for p in range(1, parties + 1))
    write(
        tmp_path / "election.yaml",
        "election: Uji\ncontests:\n  - code: DPR\n    name: DPR\n    parties:\n"
        f"{numbers}    dapils: dapil.csv\n    candidates: caleg.csv\n",
    )


def test_national_size_list_streams_in_batches_and_reruns_idempotently(
    db: str, tmp_path: Path
) -> None:
    national_files(tmp_path, dapils=84, parties=18, per_party=3)  # 4,536 rows
    path = tmp_path / "election.yaml"
    report = load_election(path, db, batch_size=500)
    assert report.errors == [] and report.inserted == 1
    assert report.kinds["list candidates"] == 4_536 and report.kinds["dapils"] == 84
    assert count(db, PartyCandidate) == 4_536
    again = load_election(path, db, batch_size=500)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    assert count(db, PartyCandidate) == 4_536
    # A renamed candidate, a withdrawn one, and a row with a typo (kept, not deleted).
    caleg = tmp_path / "caleg.csv"
    text = caleg.read_text()
    text = text.replace("DPR,D-5,3,2,Calon 5-3-2\n", "DPR,D-5,3,2,Nama Baru\n")
    text = text.replace("DPR,D-6,4,3,Calon 6-4-3\n", "")
    text = text.replace("DPR,D-7,1,1,Calon 7-1-1\n", "DPR,D-7,1,1,\n")
    caleg.write_text(text)
    edited = load_election(path, db, batch_size=500)
    assert (edited.inserted, edited.updated, edited.unchanged) == (0, 1, 0)
    assert [text.split(": ", 1)[1] for _, text in edited.errors] == [
        "contest DPR: candidate 1.1: empty name"
    ]
    assert [text for _, text in edited.notes] == [
        "contest DPR: 1 candidates no longer in the file removed"
    ]
    stored = lists(db)
    assert len(stored) == 4_535
    assert stored[("D-5", 3, 2)] == "Nama Baru"
    assert ("D-6", 4, 3) not in stored
    assert stored[("D-7", 1, 1)] == "Calon 7-1-1"


def test_demo_regions_and_dapils_agree(db: str, tmp_path: Path) -> None:
    """Every TPS in the demo regions file is covered by exactly one dapil per party contest."""
    load_regions(DEMO / "regions.csv", db)
    load_election(DEMO / "election.yaml", db)
    with session_scope(db) as session:
        codes = session.scalars(select(Tps.code)).all()
        dapils = session.scalars(select(Dapil)).all()
        for tps in codes:
            for contest in ("DPR", "DPRP", "DPRK"):
                holders = [
                    d.code
                    for d in dapils
                    if d.contest_code == contest and any(tps.startswith(r) for r in d.regions)
                ]
                assert len(holders) == 1, (tps, contest, holders)


# --------------------------------------------------------------------------- exit codes


@pytest.fixture
def cli(db: str):
    app = Flask(__name__)
    app.config["DATABASE_URL"] = db
    register(app)
    return app.test_cli_runner()


def test_election_load_exits_3_on_refused_rows_unless_skipped(cli, db: str, tmp_path: Path) -> None:
    write(tmp_path / "dapil.csv", DAPILS)
    write(tmp_path / "caleg.csv", GOOD_ROWS + "X-1,3,1,Cici\n")
    path = party_contest(tmp_path, "    dapils: dapil.csv\n    candidates: caleg.csv\n")
    result = cli.invoke(args=["election", "load", str(path)])
    assert result.exit_code == 3, result.output
    assert "line 4: caleg.csv: contest DPR: unknown party 3" in result.output
    assert "1 refused: exit 3" in result.output
    assert lists(db) == {("X-1", 1, 1): "Ani", ("X-2", 2, 1): "Budi"}  # the good rows loaded
    skipped = cli.invoke(args=["election", "load", "--skip-bad-rows", str(path)])
    assert skipped.exit_code == 0, skipped.output
    assert "line 4: caleg.csv: contest DPR: unknown party 3" in skipped.output
    good = cli.invoke(args=["election", "load", str(DEMO / "election.yaml")])
    assert good.exit_code == 0 and " 0 errors" in good.output


def test_a_refused_dapil_row_keeps_what_is_stored_until_fixed(db: str, tmp_path: Path) -> None:
    write(tmp_path / "dapil.csv", DAPILS)
    write(tmp_path / "caleg.csv", GOOD_ROWS)
    path = party_contest(tmp_path, "    dapils: dapil.csv\n    candidates: caleg.csv\n")
    assert load_election(path, db).errors == []
    write(tmp_path / "dapil.csv", DAPILS.replace("X-2,Dapil X 2,3277", "X-2,Dapil X 2,327"))
    report = load_election(path, db)
    assert [line for line, _ in report.errors] == [3, 3]  # the dapil, then its candidate row
    assert report.notes == []
    assert lists(db) == {("X-1", 1, 1): "Ani", ("X-2", 2, 1): "Budi"}
    with session_scope(db) as session:
        assert session.get_one(Dapil, ("DPR", "X-2")).regions == ["3277"]
    write(tmp_path / "dapil.csv", "code,name,regions\nX-1,Dapil X 1,3576\n")
    write(tmp_path / "caleg.csv", "dapil,party,number,name\nX-1,1,1,Ani\n")
    removed = load_election(path, db)
    assert removed.errors == [] and removed.updated == 1
    assert [text for _, text in removed.notes] == [
        "contest DPR: dapils no longer in the file removed: X-2"
    ]
    assert lists(db) == {("X-1", 1, 1): "Ani"}


def test_a_contest_turned_candidates_kind_loses_its_dapils(db: str, tmp_path: Path) -> None:
    path = party_contest(tmp_path, INLINE, code="DPRP")
    load_election(path, db)
    assert count(db, Dapil) == 2 and count(db, PartyCandidate) == 4
    path.write_text(
        "election: Uji\ncontests:\n  - code: DPRP\n    name: Uji\n    kind: candidates\n"
        "    candidates: [{number: 1, name: A}]\n"
    )
    report = load_election(path, db)
    assert (report.updated, report.errors) == (1, [])
    assert count(db, Dapil) == 0 and count(db, PartyCandidate) == 0
