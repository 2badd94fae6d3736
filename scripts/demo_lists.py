"""Write the demo's party candidate lists (demo/caleg_*.csv) from demo/election.yaml's dapils.

    .venv/bin/python scripts/demo_lists.py

The names are fictitious, built from common Indonesian given and family names; the lists
are deterministic so re-running gives the same files. Per dapil every party fields up to
`SEATS[dapil]` candidates (at most 10), some small parties fewer, as on a real ballot.
"""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"

GIVEN = (
    "Ahmad Agus Budi Citra Dedi Dewi Eko Fajar Fitri Gilang Hadi Hendra Indah Irfan Joko "
    "Kartika Lestari Lukman Made Maya Nanda Nur Putri Rahmat Ratna Rizky Sari Siti Taufik "
    "Teguh Umar Wahyu Wulan Yanti Yusuf Zainal"
).split()
FAMILY = (
    "Santoso Wijaya Hidayat Saputra Kurniawan Susanto Pratama Setiawan Nasution Lubis "
    "Siregar Harahap Rangkuti Hasibuan Permana Sumarna Gunawan Suryadi Wibowo Purnomo "
    "Handayani Rahayu Utami Lestari Maharani Firmansyah Ramadhan Syahputra Hakim Prasetyo"
).split()
# Candidates per party in each dapil (≤ the dapil's seats, at most 10).
SEATS = {
    ("DPR", "JATIM-8"): 10,
    ("DPR", "JABAR-1"): 7,
    ("DPR", "DIY"): 8,
    ("DPR", "SUMUT-2"): 10,
    ("DPRP", "JATIM-10"): 8,
    ("DPRP", "JABAR-3"): 6,
    ("DPRP", "DIY-5"): 6,
    ("DPRP", "SUMUT-7"): 7,
}
DPRK_SEATS = 4  # the regency/city dapils are small: a full DPRK tally stays one long SMS
HEADER = "# Illustrative, fictitious candidate names (not the real 2024 lists).\n"


def names(seed: int) -> str:
    given = GIVEN[(seed * 7) % len(GIVEN)]
    family = FAMILY[(seed * 11 + seed // len(GIVEN)) % len(FAMILY)]
    return f"{given} {family}"


def dapils_of(contest: dict, base: Path) -> list[str]:
    raw = contest.get("dapils")
    if isinstance(raw, str):
        with (base / raw).open(encoding="utf-8") as source:
            rows = csv.DictReader(line for line in source if not line.startswith("#"))
            return [row["code"] for row in rows]
    return [d["code"] for d in raw or []]


def main() -> None:
    election = yaml.safe_load((DEMO / "election.yaml").read_text(encoding="utf-8"))
    seed = 0
    for contest in election["contests"]:
        target = contest.get("candidates")
        if "parties" not in contest or not isinstance(target, str):
            continue
        parties = [p["number"] for p in contest["parties"]]
        with (DEMO / target).open("w", encoding="utf-8", newline="") as out:
            out.write(HEADER)
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["dapil", "party", "number", "name"])
            for dapil in dapils_of(contest, DEMO):
                seats = SEATS.get((contest["code"], dapil), DPRK_SEATS)
                for index, party in enumerate(parties):
                    fielded = seats - (index % 5 == 4) - (index % 7 == 6)  # some field fewer
                    for number in range(1, max(fielded, 1) + 1):
                        seed += 1
                        writer.writerow([dapil, party, number, names(seed)])
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
