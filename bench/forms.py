"""Printing forms for a whole regency: pages per second of `forms render` for a multi-page form.

    .venv/bin/python bench/forms.py [--tps 20] [--dpi 300] [--parties 18] [--candidates 10]

Renders the DPR C.Hasil of one dapil (18 parties × 10 candidates: 9-10 pages) for --tps polling
stations as `forms render` does: PNG pages + a PDF per TPS, then the PDF-only variant
(`--no-png`), and prints pages per second on one core (CPU time: other load does not count).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocr.render import TpsInfo, write_form  # noqa: E402
from ocr.templates import build_template  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tps", type=int, default=20)
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--parties", type=int, default=18)
    parser.add_argument("--candidates", type=int, default=10)
    args = parser.parse_args()
    template = build_template(
        "DPR", "Dewan Perwakilan Rakyat",
        [(n, f"Partai {n}") for n in range(1, args.parties + 1)],
        {n: [(k, f"Calon {n}.{k}") for k in range(1, args.candidates + 1)]
         for n in range(1, args.parties + 1)},
        dapil="BENCH-1",
    )
    stations = [TpsInfo(f"3576011{n:06d}", f"TPS {n:03d}", 280) for n in range(1, args.tps + 1)]
    print(f"forms render: DPR {args.parties} parties × {args.candidates} candidates = "
          f"{len(template.fields)} fields on {template.pages} pages, {args.tps} TPS, "
          f"{args.dpi} dpi")
    for png in (True, False):
        with tempfile.TemporaryDirectory() as out:
            started, cpu = time.perf_counter(), time.process_time()
            files = sum(len(write_form(template, tps, Path(out), args.dpi, png=png))
                        for tps in stations)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            size = sum(p.stat().st_size for p in Path(out).iterdir())
        pages = template.pages * len(stations)
        print(f"  {'PNG + PDF' if png else 'PDF only '}  {pages / cpu:6.1f} pages/s of CPU "
              f"(wall clock {pages / elapsed:.1f}; {pages} pages, {files} files, "
              f"{size / pages / 1024:.0f} KB a page)")


if __name__ == "__main__":
    main()
