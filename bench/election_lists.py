"""Election-file speed at national size: generated DPR, DPRD-provinsi and DPRD-kabupaten/kota
contests with their dapils and party candidate lists (CSV companions of one election file).

    .venv/bin/python bench/election_lists.py [--dprk-dapils 2325] [--database-url URL]

18 parties; DPR 84 dapils × 10 candidates per party (15,120 rows), DPRP 301 dapils × 10
(54,180), DPRK N dapils × 8 (default 2,325 dapils: 334,800). Prints rows/s for the first load,
a re-run (every row unchanged) and the peak memory (the file is streamed, so it stays flat).
Without --database-url it loads into a fresh SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from benchkit.options import MIGRATED, add_database_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARTIES = 18


def write_contest(work: Path, code: str, dapils: int, per_party: int) -> int:
    """dapil_<code>.csv and caleg_<code>.csv; each dapil is one generated district code."""
    rows = 0
    with (work / f"dapil_{code}.csv").open("w", encoding="utf-8") as out:
        out.write("code,name,regions\n")
        for d in range(dapils):
            region = f"{11 + d // 2000:02d}{d // 100 % 20 + 1:02d}{d % 100:02d}"
            out.write(f"{code}-{d},Dapil {code} {d},{region}\n")
    with (work / f"caleg_{code}.csv").open("w", encoding="utf-8") as out:
        out.write("dapil,party,number,name\n")
        for d in range(dapils):
            for p in range(1, PARTIES + 1):
                for k in range(1, per_party + 1):
                    out.write(f"{code}-{d},{p},{k},Calon Legislatif {d}-{p}-{k}\n")
                    rows += 1
    return rows


def write_election(work: Path, dprk_dapils: int) -> int:
    parties = "".join(f"      - {{number: {p}, name: Partai {p}}}\n" for p in range(1, PARTIES + 1))
    contests = []
    rows = 0
    for code, dapils, per_party in (("DPR", 84, 10), ("DPRP", 301, 10), ("DPRK", dprk_dapils, 8)):
        rows += write_contest(work, code, dapils, per_party)
        contests.append(
            f"  - code: {code}\n    name: {code}\n    parties:\n{parties}"
            f"    dapils: dapil_{code}.csv\n    candidates: caleg_{code}.csv\n"
        )
    (work / "election.yaml").write_text("election: Bench\ncontests:\n" + "".join(contests))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dprk-dapils", type=int, default=2_325)
    add_database_url(parser, MIGRATED)
    args = parser.parse_args()

    from relay.loaders.election import load_election
    from relay.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="bench-election-") as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'bench.db'}"
        if not args.database_url:
            upgrade(url)
        rows = write_election(work, args.dprk_dapils)
        print(f"generated {rows:,} candidate rows; database {url}")
        for label in ("election load", "election load (again)"):
            start = time.perf_counter()
            report = load_election(work / "election.yaml", url)
            seconds = time.perf_counter() - start
            assert not report.errors, report.errors[:5]
            assert report.kinds["list candidates"] == rows
            print(
                f"{label:<22} {rows:>10,} rows in {seconds:6.1f} s = "
                f"{rows / seconds:>9,.0f} rows/s   ({report.summary()})"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
