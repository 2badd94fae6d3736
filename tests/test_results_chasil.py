"""The whole C.Hasil in the results: a DPR tally's party totals, own votes, candidate votes and
sections summed at every region level, moved by an operator's change or accept, checked by
`results verify`, repaired by `results rebuild`, and published on the dashboard, /api/v1,
the CSV export and the TPS page.

The world (regions, a DPR contest with two dapils and their candidate lists, confirmed
tallies) is built here with the models, independent of the demo election and the grammar.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from bots import review
from relay import results
from relay.db import session_scope
from relay.models import (
    Candidate,
    Contest,
    Dapil,
    InboundMessage,
    Officer,
    PartyCandidate,
    Region,
    ResultCandidateVote,
    ResultSection,
    Submission,
    Tps,
)

TPS_A1, TPS_A2, TPS_B1 = "3576011001001", "3576011001002", "3577011001001"

# T1: a full DPR form in dapil A (DPTb/DPK voters, ballots, disabled voters, candidates).
FULL = {
    "own": {"1": 10, "2": 5, "3": 3},
    "candidates": {"1.1": 40, "1.2": 20, "2.1": 30, "2.2": 10, "3.1": 12},
    "sections": dict(
        DPT=200,
        DPTB=3,
        DPK=2,
        PHP=134,
        PDPT=129,
        PDPTB=3,
        PDPK=2,
        SSD=204,
        SSR=1,
        SSTD=69,
        SS=134,
        DIS=2,
        PDIS=1,
    ),
    "sah": 130,
    "ts": 4,
}
# T2: a quick count in dapil A (party votes only, two sections).
QUICK = {
    "own": {"1": 50, "2": 30, "3": 20},
    "candidates": {},
    "sections": {"DPT": 150, "PHP": 102},
    "sah": 100,
    "ts": 2,
}
# T3: dapil B, whose candidate numbers are other people.
OTHER_DAPIL = {
    "own": {"1": 5, "2": 5, "3": 5},
    "candidates": {"1.1": 25, "2.1": 15},
    "sections": {"DPT": 100, "PHP": 56, "SS": 56},
    "sah": 55,
    "ts": 1,
}
NAMES = {
    "A": {(1, 1): "Ani Lestari", (1, 2): "Budi <b>Santoso</b>", (2, 1): "Citra", (2, 2): "Dodi",
          (3, 1): "Eka"},
    "B": {(1, 1): "Fajar", (2, 1): "Gita"},
}  # fmt: skip
LEVELS = ["", "35", "3576", "357601", "3576011001", "3577", "357701", "3577011001"]
_serial = itertools.count(1)


def _submit(
    session: Any,
    officer: Officer,
    tps: str,
    form: dict[str, Any],
    status: str = "confirmed",
    reason: str | None = None,
) -> Submission:
    n = next(_serial)
    inbound = InboundMessage(
        channel="sms-gateway",
        provider_id=f"chasil-{n}",
        sender=officer.phone,
        text="DPR …",
        payload="{}",
        officer_id=officer.id,
        status="processed",
    )
    session.add(inbound)
    session.flush()
    submission = Submission(
        receipt_code=f"RC{n:06d}",
        tps_code=tps,
        contest_code="DPR",
        officer_id=officer.id,
        inbound_id=inbound.id,
        votes=dict(form["own"]),
        candidate_votes=dict(form["candidates"]),
        sections=dict(form["sections"]),
        sah=form["sah"],
        ts=form["ts"],
        status=status,
        reason=reason,
        decided_at=datetime.now(UTC) if status != "pending" else None,
    )
    session.add(submission)
    session.flush()
    if status == "confirmed":
        results.tally_confirmed(session, submission)  # as the worker does, same transaction
    return submission


@pytest.fixture
def world(db: str) -> str:
    regions = [
        ("35", "Jawa Timur", "province", None),
        ("3576", "Kota Mojokerto", "regency", "35"),
        ("357601", "Prajurit Kulon", "district", "3576"),
        ("3576011001", "Blooto", "village", "357601"),
        ("3577", "Kota Madiun", "regency", "35"),
        ("357701", "Manguharjo", "district", "3577"),
        ("3577011001", "Nambangan", "village", "357701"),
    ]
    with session_scope() as session:
        for code, name, level, parent in regions:
            session.add(Region(code=code, name=name, level=level, parent_code=parent))
            session.flush()
        for code in (TPS_A1, TPS_A2, TPS_B1):
            session.add(Tps(code=code, name=f"TPS {code[-3:]}", village_code=code[:10],
                            registered_voters=200))  # fmt: skip
        contest = Contest(code="DPR", name="DPR RI", kind="parties", region_scope=[])
        session.add(contest)
        session.flush()
        for n in (1, 2, 3):
            session.add(Candidate(contest_code="DPR", ballot_number=n, name=f"Partai {n}"))
        session.add(Dapil(contest_code="DPR", code="A", name="Jatim A", regions=["3576"]))
        session.add(Dapil(contest_code="DPR", code="B", name="Jatim B", regions=["3577"]))
        for dapil, names in NAMES.items():
            for (party, k), name in names.items():
                session.add(
                    PartyCandidate(
                        contest_code="DPR",
                        dapil_code=dapil,
                        party_number=party,
                        candidate_number=k,
                        name=name,
                    )
                )
        session.flush()
        officers = {}
        for i, code in enumerate((TPS_A1, TPS_A2, TPS_B1)):
            officers[code] = Officer(
                phone=f"+6281200000{i:02d}",
                name=f"Petugas {i}",
                role="kpps",
                tps_code=code,
                village_code=code[:10],
            )
            session.add(officers[code])
        session.flush()
        _submit(session, officers[TPS_A1], TPS_A1, FULL)
        _submit(session, officers[TPS_A2], TPS_A2, QUICK)
        _submit(session, officers[TPS_B1], TPS_B1, OTHER_DAPIL)
    return db


def slow(prefix: str) -> dict[str, Any]:
    """Every total the slow way, from the confirmed tallies under `prefix`."""
    votes: dict[int, int] = defaultdict(int)
    candidates: dict[tuple[int, int], int] = defaultdict(int)
    sections: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    n = sah = ts = 0
    with session_scope() as session:
        for s in session.scalars(
            select(Submission).where(
                Submission.status == "confirmed", Submission.tps_code.startswith(prefix)
            )
        ):
            n, sah, ts = n + 1, sah + s.sah, ts + s.ts
            for number, v in s.votes_by_ballot().items():
                votes[number] += v
            for pair, v in s.candidate_votes_by_number().items():
                candidates[pair] += v
            for key, v in s.sections.items():
                sections[key][0] += v
                sections[key][1] += 1
    return {
        "tps": n, "sah": sah, "ts": ts, "votes": dict(votes), "candidates": dict(candidates),
        "sections": {k: tuple(v) for k, v in sections.items()},
    }  # fmt: skip


def area(code: str) -> results.Area:
    with session_scope() as session:
        return results.area(session, session.get_one(Contest, "DPR"), code, code)


@pytest.mark.parametrize("code", LEVELS)
def test_totals_of_a_dpr_tally_with_candidates_and_sections_at_every_level(world, code) -> None:
    fast, want = area(code), slow(code)
    assert (fast.tps_confirmed, fast.sah, fast.ts) == (want["tps"], want["sah"], want["ts"])
    assert fast.votes == want["votes"]  # party totals: own + candidates
    assert {k: (fast.sections[k], fast.sections_reported[k]) for k in fast.sections} == (
        want["sections"]
    )
    sums: dict[int, int] = defaultdict(int)
    for (party, _), v in want["candidates"].items():
        sums[party] += v
    assert fast.own_votes() == {p: v - sums.get(p, 0) for p, v in want["votes"].items()}
    within_one_dapil = code.startswith(("3576", "3577"))
    assert fast.dapil == ({"3576": "A", "3577": "B"}[code[:4]] if within_one_dapil else None)
    assert fast.candidate_votes == (want["candidates"] if within_one_dapil else {})


def test_a_region_within_a_dapil_shows_candidates_a_larger_one_party_totals(world) -> None:
    dapil_a, province = area("3576"), area("35")
    assert dapil_a.votes == {1: 120, 2: 75, 3: 35}
    assert dapil_a.own_votes() == {1: 60, 2: 35, 3: 23}
    assert dapil_a.candidate_votes == {(1, 1): 40, (1, 2): 20, (2, 1): 30, (2, 2): 10, (3, 1): 12}
    assert (dapil_a.sections["DPT"], dapil_a.sections_reported["DPT"]) == (350, 2)
    assert (dapil_a.sections["SSD"], dapil_a.sections_reported["SSD"]) == (204, 1)
    # Jawa Timur spans both dapils: candidate 1.1 is Ani in A and Fajar in B, never summed.
    assert province.dapil is None and province.candidate_votes == {}
    assert province.votes == {1: 150, 2: 95, 3: 40}
    assert province.own_votes() == {1: 65, 2: 40, 3: 28}
    assert (province.sections["PHP"], province.sections_reported["PHP"]) == (292, 3)


def test_dapil_of_region_refuses_a_region_split_between_dapils() -> None:
    a = Dapil(contest_code="X", code="A", name="A", regions=["3576"])
    b = Dapil(contest_code="X", code="B", name="B", regions=["357602"])  # carved out of A
    assert results.dapil_of_region([a, b], "357601") is a
    assert results.dapil_of_region([a, b], "357602") is b
    assert results.dapil_of_region([a, b], "3576") is None
    assert results.dapil_of_region([a, b], "35") is None


def test_verify_reports_candidate_and_section_drift_and_rebuild_repairs_it(world) -> None:
    with session_scope() as session:
        assert results.verify(session) == []
    with session_scope() as session:
        session.execute(
            update(ResultCandidateVote)
            .where(
                ResultCandidateVote.region_code == "3576",
                ResultCandidateVote.party_number == 1,
                ResultCandidateVote.candidate_number == 1,
            )
            .values(votes=ResultCandidateVote.votes + 7)
        )
        session.execute(
            update(ResultSection)
            .where(ResultSection.region_code == "35", ResultSection.key == "PHP")
            .values(tps_reported=1)
        )
        session.execute(
            delete(ResultSection).where(
                ResultSection.region_code == "3577011001", ResultSection.key == "SS"
            )
        )
    with session_scope() as session:
        drifts = {(d.region_code, d.field, d.expected, d.stored) for d in results.verify(session)}
    assert drifts == {
        ("3576", "candidate 01.1", 40, 47),
        ("35", "section PHP tps_reported", 3, 1),
        ("3577011001", "section SS", 56, 0),
        ("3577011001", "section SS tps_reported", 1, 0),
    }
    from webhooks import create_app

    cli = create_app().test_cli_runner()
    verify = cli.invoke(args=["results", "verify"])
    assert verify.exit_code == 1
    assert "drift: DPR 3576 candidate 01.1: expected 40, stored 47" in verify.output
    assert "drift: DPR 3577011001 section SS: expected 56, stored 0" in verify.output
    rebuilt = cli.invoke(args=["results", "rebuild"])
    assert rebuilt.exit_code == 0 and "from 3 confirmed tallies" in rebuilt.output
    verified = cli.invoke(args=["results", "verify"])
    assert verified.exit_code == 0 and "results verified" in verified.output
    assert area("3576").candidate_votes[(1, 1)] == 40
    assert area("3577011001").sections["SS"] == 56


def _confirmed(session: Any, tps: str) -> Submission:
    return session.scalars(
        select(Submission).where(Submission.tps_code == tps, Submission.status == "confirmed")
    ).one()


def test_a_change_moves_candidate_and_section_totals(world) -> None:
    with session_scope() as session:
        tally = _confirmed(session, TPS_A1)
        before = results.numbers_of(tally)
        tally.candidate_votes = {**tally.candidate_votes, "1.1": 35, "2.2": 15}  # 5 moved
        tally.sections = {k: v for k, v in tally.sections.items() if k != "SSD"} | {"DIS": 3}
        results.tally_changed(session, "DPR", TPS_A1, before, results.numbers_of(tally))
    with session_scope() as session:
        assert results.verify(session) == []
    changed = area("3576")
    assert changed.candidate_votes[(1, 1)] == 35 and changed.candidate_votes[(2, 2)] == 15
    assert changed.votes == {1: 115, 2: 80, 3: 35}
    assert "SSD" not in changed.sections or changed.sections_reported["SSD"] == 0
    assert (changed.sections["DIS"], changed.sections_reported["DIS"]) == (3, 1)
    assert area("35").tps_confirmed == 3  # the TPS still counts once


def test_an_operator_change_keeps_sections_counted(world) -> None:
    """bots.review.change_tally moves the totals by the row's numbers before and after."""
    with session_scope() as session:
        tally = _confirmed(session, TPS_A2)
        review.change_tally(
            session, "op", tally, {1: 45, 2: 35, 3: 20}, 100, 2, "typo", approved=True
        )
    with session_scope() as session:
        assert results.verify(session) == []
    changed = area("3576011001")
    assert changed.votes == {1: 115, 2: 80, 3: 35}
    assert (changed.sections["PHP"], changed.sections_reported["PHP"]) == (236, 2)


def test_accepting_a_conflict_moves_candidate_and_section_totals(world) -> None:
    corrected = {
        **FULL,
        "candidates": {"1.1": 45, "1.2": 15, "2.1": 30, "2.2": 10, "3.1": 12},
        "sections": {**FULL["sections"], "SSR": 2, "SSTD": 68, "DIS": 4, "PDIS": 2},
    }
    with session_scope() as session:
        officer = session.scalars(select(Officer).where(Officer.tps_code == TPS_A1)).one()
        conflict = _submit(session, officer, TPS_A1, corrected, "rejected", "locked_conflict")
        item = review.open_item(session, "conflict", submission_id=conflict.id)
        review.accept(session, "op", item, "the second count is right", approved=True)
    with session_scope() as session:
        assert results.verify(session) == []
    accepted = area("357601")
    assert accepted.candidate_votes[(1, 1)] == 45 and accepted.candidate_votes[(1, 2)] == 15
    assert accepted.votes[1] == 120  # the party total is unchanged: 10 + 45 + 15
    assert accepted.sections["SSR"] == 2 and accepted.sections["SSTD"] == 68
    assert accepted.sections["DIS"] == 4 and accepted.sections_reported["DIS"] == 1
    assert accepted.tps_confirmed == 2


def test_training_tallies_are_never_counted(world) -> None:
    with session_scope() as session:
        officer = session.scalars(select(Officer).where(Officer.tps_code == TPS_B1)).one()
        _submit(session, officer, TPS_B1, {**FULL, "candidates": {}}, "pending")
        training = session.scalars(
            select(Submission).where(Submission.tps_code == TPS_B1, Submission.status == "pending")
        ).one()
        training.training, training.status = True, "confirmed"
        results.tally_confirmed(session, training)
    with session_scope() as session:
        assert results.verify(session) == []
    assert area("3577").sections["DPT"] == 100


# --- the public face ---------------------------------------------------------------------------


@pytest.fixture
def web(world):
    from webhooks import create_app

    return create_app().test_client()


def test_api_region_results_carry_parties_candidates_and_sections(web) -> None:
    dapil_a = web.get("/api/v1/results/DPR/3576").get_json()
    region = dapil_a["region"]
    assert region["votes"] == {"01": 120, "02": 75, "03": 35}  # unchanged field: party totals
    assert region["parties"]["01"] == {"own": 60, "candidates": 60, "total": 120}
    assert region["dapil"] == "A"
    assert region["candidate_votes"]["01.1"] == 40 and region["candidate_votes"]["03.1"] == 12
    assert dapil_a["party_candidates"]["01.1"] == "Ani Lestari"
    assert region["sections"]["DPT"] == {"value": 350, "tps_reported": 2}
    assert region["sections"]["SSD"] == {"value": 204, "tps_reported": 1}
    province = web.get("/api/v1/results/DPR/35").get_json()
    assert province["region"]["dapil"] is None and province["region"]["candidate_votes"] is None
    assert province["party_candidates"] == {}
    assert province["region"]["parties"]["03"] == {"own": 28, "candidates": 12, "total": 40}
    child = next(c for c in province["children"] if c["code"] == "3577")
    assert child["dapil"] == "B" and child["candidate_votes"] is None  # one level down has them
    assert child["parties"]["01"] == {"own": 5, "candidates": 25, "total": 30}
    assert web.get("/api/v1/results/DPR/3577").get_json()["region"]["candidate_votes"] == {
        "01.1": 25,
        "02.1": 15,
    }


def test_api_tps_carries_every_section_and_candidate(web) -> None:
    tps = web.get(f"/api/v1/tps/{TPS_A1}").get_json()
    dpr = next(c for c in tps["contests"] if c["contest"] == "DPR")
    tally = dpr["tally"]
    assert tally["votes"] == {"01": 70, "02": 45, "03": 15}
    assert tally["own_votes"] == {"01": 10, "02": 5, "03": 3}
    assert tally["candidate_votes"]["01.2"] == 20
    assert tally["sections"] == FULL["sections"]
    party_1 = dpr["parties"][0]
    assert (party_1["own"], party_1["total"]) == (10, 70)
    assert [(c["number"], c["name"], c["votes"]) for c in party_1["candidates"]] == [
        (1, "Ani Lestari", 40),
        (2, "Budi <b>Santoso</b>", 20),
    ]
    assert dpr["checks"] is None


def test_csv_export_has_sections_own_votes_and_candidates(web) -> None:
    def rows(url: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(web.get(url).get_data(as_text=True))))

    village = rows("/export/DPR.csv?region=3576011001")
    assert village[0]["01"] == "120" and village[0]["01_own"] == "60"
    assert village[0]["01.1"] == "40" and village[0]["DPT"] == "350"
    assert village[0]["DPT_tps"] == "2" and village[0]["SSD_tps"] == "1"
    by_code = {r["code"]: r for r in village[1:]}
    assert by_code[TPS_A1]["PDPTB"] == "3" and by_code[TPS_A1]["01.2"] == "20"
    assert by_code[TPS_A2]["SSD"] == "" and by_code[TPS_A2]["SSD_tps"] == "0"
    national = rows("/export/DPR.csv")
    assert "01.1" not in national[0]  # the country spans dapils: no candidate columns
    assert national[0]["02_own"] == "40" and national[0]["PHP"] == "292"


def test_region_page_shows_turnout_ballots_and_candidates_escaped(web) -> None:
    page = web.get("/results/DPR/3576").get_data(as_text=True)
    assert 'data-section="DPTB"' in page and "Pemilih DPTb" in page and "2 / 2" in page
    assert 'data-candidate="1.1"' in page and "Ani Lestari" in page
    assert "Budi &lt;b&gt;Santoso&lt;/b&gt;" in page and "<b>Santoso" not in page
    province = web.get("/results/DPR/35").get_data(as_text=True)
    assert 'data-party="1"' in province and 'data-candidate="' not in province
    assert "satu dapil" in province
    english = web.get("/results/DPR/3576", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Ballots received (DPT + 2% reserve)" in english and "Party-only votes" in english


def test_tps_page_shows_every_section_and_the_rule_that_failed(web) -> None:
    with session_scope() as session:
        officer = session.scalars(select(Officer).where(Officer.tps_code == TPS_A2)).one()
        bad = {**QUICK, "sah": 99, "sections": {"PHP": 102, "DPT": 150}}
        held = _submit(session, officer, TPS_A2, bad, "pending", "checks_failed")
        review.open_item(
            session,
            "failed_checks",
            submission_id=held.id,
            detail={"rules": ["sah_mismatch", "<script>x</script>"]},
        )
    full = web.get(f"/tps/{TPS_A1}").get_data(as_text=True)
    for key, value in FULL["sections"].items():
        assert f'<tr data-section="{key}"><td class="mono">{key}</td>' in full
        assert f'<td class="num section-value">{value}</td>' in full
    assert "Ani Lestari" in full and "Suara partai saja" in full
    assert 'class="notice checks"' not in full
    held_page = web.get(f"/tps/{TPS_A2}").get_data(as_text=True)
    assert "tidak lolos pemeriksaan" in held_page
    assert "SAH tidak sama dengan jumlah suara" in held_page
    assert "gagal pemeriksaan" in held_page  # the review item's kind
    assert "&lt;script&gt;" in held_page and "<script>x" not in held_page
    api = web.get(f"/api/v1/tps/{TPS_A2}").get_json()
    checks = next(c for c in api["contests"] if c["contest"] == "DPR")["checks"]
    assert checks["failed"] and checks["rules"][0] == "sah_mismatch"
    assert checks["review"] == ["failed_checks"]
    assert checks["receipt"] == held.receipt_code


def test_review_items_of_training_tallies_stay_private(web) -> None:
    with session_scope() as session:
        officer = session.scalars(select(Officer).where(Officer.tps_code == TPS_B1)).one()
        practice = _submit(session, officer, TPS_B1, QUICK, "pending", "checks_failed")
        practice.training = True
        review.open_item(
            session, "failed_checks", submission_id=practice.id, detail={"rules": ["sah_mismatch"]}
        )
    assert "tidak lolos" not in web.get(f"/tps/{TPS_B1}").get_data(as_text=True)
