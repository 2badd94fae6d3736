"""Bulk-load speed: a generated region/TPS file, then a generated roster of N officers.

    .venv/bin/python bench/roster_import.py [--rows 1000000] [--database-url URL]

Seven officers per TPS (six kpps, one pps), phones in mixed forms (08…, +628…, 628…). Without
--database-url it loads into a fresh SQLite file in a temporary directory; with one, that
database must be migrated and should be empty (the generated codes start at province 11).
Prints rows/s for regions, roster, and a re-run of the roster (every row unchanged).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchkit.options import MIGRATED, add_database_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from relay.loaders.report import LoadReport  # noqa: E402

OFFICERS_PER_TPS = 7
TPS_PER_VILLAGE = 10
VILLAGES_PER_DISTRICT = 10
DISTRICTS_PER_REGENCY = 20
REGENCIES_PER_PROVINCE = 20


def write_regions(path: Path, tps_wanted: int) -> list[str]:
    """The region file; returns the TPS codes in file order."""
    tps_codes: list[str] = []
    with path.open("w", encoding="utf-8") as out:
        out.write("code,name,parent,level,registered_voters\n")
        province = 10
        while len(tps_codes) < tps_wanted:
            province += 1
            p = f"{province:02d}"
            out.write(f"{p},Provinsi {p},,province,\n")
            for r in range(1, REGENCIES_PER_PROVINCE + 1):
                if len(tps_codes) >= tps_wanted:
                    break
                rc = f"{p}{r:02d}"
                out.write(f"{rc},Kabupaten {rc},{p},regency,\n")
                for d in range(1, DISTRICTS_PER_REGENCY + 1):
                    if len(tps_codes) >= tps_wanted:
                        break
                    dc = f"{rc}{d:02d}"
                    out.write(f"{dc},Kecamatan {dc},{rc},district,\n")
                    for v in range(1, VILLAGES_PER_DISTRICT + 1):
                        if len(tps_codes) >= tps_wanted:
                            break
                        vc = f"{dc}{2000 + v}"
                        out.write(f"{vc},Desa {vc},{dc},village,\n")
                        for t in range(1, TPS_PER_VILLAGE + 1):
                            code = f"{vc}{t:03d}"
                            out.write(f"{code},TPS {t:03d},{vc},tps,{180 + (t * 37) % 121}\n")
                            tps_codes.append(code)
    return tps_codes


def write_roster(path: Path, rows: int, tps_codes: list[str]) -> None:
    forms = ("0812{:08d}", "+62812{:08d}", "62812{:08d}")
    with path.open("w", encoding="utf-8") as out:
        out.write("phone,name,role,tps_code,language\n")
        for i in range(rows):
            tps = tps_codes[i // OFFICERS_PER_TPS]
            pps = i % OFFICERS_PER_TPS == OFFICERS_PER_TPS - 1
            out.write(
                f"{forms[i % 3].format(i)},Petugas {i},{'pps' if pps else 'kpps'},"
                f"{tps[:10] if pps else tps},{'en' if i % 10 == 0 else 'id'}\n"
            )


def timed(label: str, load: Callable[[], LoadReport]) -> LoadReport:
    start = time.perf_counter()
    report = load()
    seconds = time.perf_counter() - start
    print(
        f"{label:<22} {report.rows:>10,} rows in {seconds:6.1f} s = "
        f"{report.rows / seconds:>9,.0f} rows/s   ({report.summary()})"
    )
    assert not report.errors, report.errors[:5]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="roster rows (officers)")
    add_database_url(parser, MIGRATED)
    args = parser.parse_args()

    from relay.loaders.regions import load_regions
    from relay.loaders.roster import import_roster
    from relay.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="bench-roster-") as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'bench.db'}"
        if not args.database_url:
            upgrade(url)
        start = time.perf_counter()
        tps_codes = write_regions(work / "regions.csv", -(-args.rows // OFFICERS_PER_TPS))
        write_roster(work / "roster.csv", args.rows, tps_codes)
        del tps_codes
        print(f"generated files in {time.perf_counter() - start:.1f} s; database {url}")
        timed("regions load", lambda: load_regions(work / "regions.csv", url))
        timed("roster import", lambda: import_roster(work / "roster.csv", url))
        timed("roster import (again)", lambda: import_roster(work / "roster.csv", url))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
