"""Upright photos: how long the server takes to render one (find the page, straighten it,
read its QR code, encode the JPEG), and to serve it again from the cache.

    .venv/bin/python bench/upright.py [--rounds 5]

Renders each golden photo of tests/data/ocr (one a page upside down, one no form at all)
--rounds times and prints the median per photo, then the cached read (relay.photo_view).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocr.upright import upright  # noqa: E402

PHOTOS = ROOT / "tests" / "data" / "ocr"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    names = sorted(p.name for p in PHOTOS.glob("*.jpg"))
    rendered_ms = []
    print(f"upright rendering, {len(names)} photos × {args.rounds} rounds (median per photo)")
    for name in names:
        data = (PHOTOS / name).read_bytes()
        times, shown = [], None
        for _ in range(args.rounds):
            started = time.perf_counter()
            shown = upright(data)
            times.append((time.perf_counter() - started) * 1000)
        median = statistics.median(times)
        rendered_ms.append(median)
        print(f"  {name:28s} {median:6.1f} ms  rectified={shown.rectified} "
              f"rotation={shown.rotation} {len(shown.jpeg) // 1024} KB")
    print(f"render: median {statistics.median(rendered_ms):.1f} ms, "
          f"worst {max(rendered_ms):.1f} ms per photo")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["MEDIA_DIR"] = f"{folder}/media"
        os.environ["PHOTO_CACHE_DIR"] = f"{folder}/cache"
        from relay import media, photo_view

        key = media.save((PHOTOS / "ppwp_upside_down.jpg").read_bytes(), "image/jpeg")
        started = time.perf_counter()
        photo_view.upright_of(key)
        cold = (time.perf_counter() - started) * 1000
        times = []
        for _ in range(50):
            started = time.perf_counter()
            photo_view.upright_of(key)
            times.append((time.perf_counter() - started) * 1000)
        print(f"cache: first request {cold:.1f} ms, then {statistics.median(times):.2f} ms "
              f"(median of 50)")


if __name__ == "__main__":
    main()
