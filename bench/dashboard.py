"""The dashboard at national size: ~84,000 villages and ~823,000 TPS, N confirmed tallies.

    .venv/bin/python bench/dashboard.py [--tps 823000] [--confirm 5000] [--database-url URL]

Builds a generated region tree (38 provinces … villages of 10 TPS) in a fresh SQLite file
(or the given migrated, empty database), recounts the TPS per region (`results rebuild`'s
first half), confirms N tallies through `relay.results.tally_confirmed` (one transaction
each, as the worker does), then times the public views: the country, a province, a regency,
a district and a village. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROVINCES = 38
TPS_PER_VILLAGE = 10
VILLAGES_PER_DISTRICT = 12
DISTRICTS_PER_REGENCY = 14


def build(url: str, tps_wanted: int) -> list[str]:
    from sqlalchemy import insert

    from relay.db import session_scope
    from relay.models import Candidate, Contest, Region, Tps

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
    parser.add_argument("--database-url")
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
        start = time.perf_counter()
        for code in chosen:
            a, b, c = rng.randint(0, 90), rng.randint(0, 90), rng.randint(0, 60)
            tally = Submission(
                tps_code=code,
                contest_code="PPWP",
                votes={"1": a, "2": b, "3": c},
                sah=a + b + c,
                ts=rng.randint(0, 5),
            )
            with session_scope(url) as session:
                results.tally_confirmed(session, tally)
        took = time.perf_counter() - start
        print(
            f"confirmed {len(chosen)} tallies in {took:.1f} s: "
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
            contest = session.get_one(Contest, "PPWP")
            for label, code in views:
                timed(f"view {label}", lambda code=code: public.region_view(session, contest, code))
            timed("home (every contest, nationally)", lambda: results.contests_overview(session))
            national = results.area(session, contest, "", "Indonesia")
            print(
                f"national: {national.tps_confirmed}/{national.tps_total} TPS, SAH {national.sah}"
            )


if __name__ == "__main__":
    main()
