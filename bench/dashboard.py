"""The dashboard at national size: ~84,000 villages and ~823,000 TPS, N confirmed tallies.

    .venv/bin/python bench/dashboard.py [--tps 823000] [--confirm 5000] [--database-url URL]

Builds a generated region tree (38 provinces … villages of 10 TPS) in a fresh SQLite file
(or the given migrated, empty database), recounts the TPS per region (`results rebuild`'s
first half), confirms N tallies through `relay.results.tally_confirmed` (one transaction
each, as the worker does), then times the public views: the country, a province, a regency,
a district and a village. Prints the figures; asserts nothing.

Two forms: PPWP (3 candidates, with the voters and ballots sections, 14 numbers) and the
whole DPR C.Hasil (18 parties with 10 candidates each in one dapil per province, all 13
sections: ~210 numbers), N of each (`--confirm`).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchkit.options import MIGRATED, add_database_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROVINCES = 38
PARTIES = 18
CANDIDATES_PER_PARTY = 10
TPS_PER_VILLAGE = 10
VILLAGES_PER_DISTRICT = 12
DISTRICTS_PER_REGENCY = 14


def build(url: str, tps_wanted: int) -> list[str]:
    from sqlalchemy import insert

    from relay.db import session_scope
    from relay.models import Candidate, Contest, Dapil, PartyCandidate, Region, Tps

    regions: list[dict[str, object]] = []
    stations: list[dict[str, object]] = []
    per_province = -(-tps_wanted // PROVINCES)
    for p in range(11, 11 + PROVINCES):
        pc = f"{p:02d}"
        regions.append(
            {"code": pc, "name": f"Provinsi {pc}", "level": "province", "parent_code": None}
        )
        count = 0
        r = 0
        while count < per_province and len(stations) < tps_wanted:
            r += 1
            rc = f"{pc}{r:02d}"
            regions.append({"code": rc, "name": f"Kab {rc}", "level": "regency", "parent_code": pc})
            for d in range(1, DISTRICTS_PER_REGENCY + 1):
                dc = f"{rc}{d:02d}"
                regions.append(
                    {"code": dc, "name": f"Kec {dc}", "level": "district", "parent_code": rc}
                )
                for v in range(1, VILLAGES_PER_DISTRICT + 1):
                    vc = f"{dc}{v + 1000:04d}"
                    regions.append(
                        {"code": vc, "name": f"Desa {vc}", "level": "village", "parent_code": dc}
                    )
                    for t in range(1, TPS_PER_VILLAGE + 1):
                        stations.append(
                            {
                                "code": f"{vc}{t:03d}",
                                "name": f"TPS {t:03d}",
                                "village_code": vc,
                                "registered_voters": 250,
                            }
                        )
                        count += 1
    with session_scope(url) as session:
        session.add(Contest(code="PPWP", name="Presiden", position=0, region_scope=[]))
        session.flush()
        for n in (1, 2, 3):
            session.add(Candidate(contest_code="PPWP", ballot_number=n, name=f"Calon {n}"))
        session.add(Contest(code="DPR", name="DPR", position=1, region_scope=[], kind="parties"))
        session.flush()
        for n in range(1, PARTIES + 1):
            session.add(Candidate(contest_code="DPR", ballot_number=n, name=f"Partai {n}"))
        provinces = [str(r["code"]) for r in regions if r["level"] == "province"]
        session.add_all(
            Dapil(contest_code="DPR", code=f"D{pc}", name=f"Dapil {pc}", regions=[pc])
            for pc in provinces
        )
        session.flush()
        session.execute(
            insert(PartyCandidate),
            [
                {
                    "contest_code": "DPR",
                    "dapil_code": f"D{pc}",
                    "party_number": party,
                    "candidate_number": k,
                    "name": f"Calon {pc}-{party}.{k}",
                }
                for pc in provinces
                for party in range(1, PARTIES + 1)
                for k in range(1, CANDIDATES_PER_PARTY + 1)
            ],
        )
        for start in range(0, len(regions), 20_000):
            session.execute(insert(Region), regions[start : start + 20_000])
        for start in range(0, len(stations), 50_000):
            session.execute(insert(Tps), stations[start : start + 50_000])
    villages = sum(1 for r in regions if r["level"] == "village")
    print(
        f"generated: {len(regions) - villages} regions above villages, {villages} villages, "
        f"{len(stations)} TPS"
    )
    return [str(s["code"]) for s in stations]


def ppwp_form(rng: random.Random) -> dict[str, object]:
    """A presidential tally with the voters and ballots sections."""
    votes = {str(n): rng.randint(0, 90) for n in (1, 2, 3)}
    sah, ts = sum(votes.values()), rng.randint(0, 5)
    sections = {"DPT": 250, "DPTB": 2, "DPK": 1, "PHP": sah + ts, "SSD": 255}
    sections |= {"SSR": 0, "SS": sah + ts, "SSTD": 255 - sah - ts}
    return {"contest_code": "PPWP", "votes": votes, "sah": sah, "ts": ts, "sections": sections}


def dpr_form(rng: random.Random) -> dict[str, object]:
    """The whole DPR C.Hasil: every party's own votes, every candidate's, every section."""
    own = {str(p): rng.randint(0, 4) for p in range(1, PARTIES + 1)}
    candidates = {
        f"{p}.{k}": rng.randint(0, 2)
        for p in range(1, PARTIES + 1)
        for k in range(1, CANDIDATES_PER_PARTY + 1)
    }
    sah, ts = sum(own.values()) + sum(candidates.values()), rng.randint(0, 5)
    used = sah + ts
    sections = {"DPT": 250, "DPTB": 2, "DPK": 1, "PHP": used, "PDPT": used - 3, "PDPTB": 2}
    sections |= {"PDPK": 1, "SSD": 255, "SSR": 0, "SSTD": 255 - used, "SS": used}
    sections |= {"DIS": 3, "PDIS": 2}
    return {
        "contest_code": "DPR",
        "votes": own,
        "candidate_votes": candidates,
        "sah": sah,
        "ts": ts,
        "sections": sections,
    }


def timed(label: str, func, repeat: int = 7) -> None:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        runs.append(time.perf_counter() - start)
    print(
        f"{label:<34} median {statistics.median(runs) * 1000:8.1f} ms   "
        f"max {max(runs) * 1000:8.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tps", type=int, default=823_000)
    parser.add_argument("--confirm", type=int, default=5_000)
    add_database_url(parser, MIGRATED)
    args = parser.parse_args()

    from relay import results
    from relay.db import session_scope
    from relay.migrate import upgrade
    from relay.models import Contest, Submission
    from web import public

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        start = time.perf_counter()
        codes = build(url, args.tps)
        print(f"load: {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        with session_scope(url) as session:
            counted = results.rebuild_region_stats(session)
        print(f"region stats rebuilt for {counted} TPS in {time.perf_counter() - start:.1f} s")

        rng = random.Random(4)
        chosen = rng.sample(codes, min(args.confirm, len(codes)))
        for label, form in (("PPWP", ppwp_form), ("DPR full-form", dpr_form)):
            start = time.perf_counter()
            for code in chosen:
                tally = Submission(tps_code=code, **form(rng))
                with session_scope(url) as session:
                    results.tally_confirmed(session, tally)
            took = time.perf_counter() - start
            print(
                f"confirmed {len(chosen)} {label} tallies in {took:.1f} s: "
                f"{len(chosen) / took:,.0f}/s ({took / len(chosen) * 1000:.2f} ms each, "
                "one transaction each)"
            )

        sample = chosen[0]
        views = [
            ("country (38 provinces)", ""),
            ("province", sample[:2]),
            ("regency", sample[:4]),
            ("district", sample[:6]),
            ("village (TPS list)", sample[:10]),
        ]
        with session_scope(url) as session:
            for code_of_contest in ("PPWP", "DPR"):
                contest = session.get_one(Contest, code_of_contest)
                for label, code in views:
                    timed(
                        f"{contest.code} view {label}",
                        lambda code=code, contest=contest: public.region_view(
                            session, contest, code
                        ),
                    )
            timed("home (every contest, nationally)", lambda: results.contests_overview(session))
            for code_of_contest in ("PPWP", "DPR"):
                contest = session.get_one(Contest, code_of_contest)
                national = results.area(session, contest, "", "Indonesia")
                print(
                    f"{contest.code} national: {national.tps_confirmed}/{national.tps_total} TPS, "
                    f"SAH {national.sah}, sections {len(national.sections)}"
                )


if __name__ == "__main__":
    main()
