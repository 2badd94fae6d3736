"""The photo store's cost per photo: what a photo job's work horse spends to get an S3 client
(cold, and warmed by the worker before it forks, as jobs.worker does), and put / get / exists /
signed link for a form photo, against the local directory and an S3-protocol server on
127.0.0.1 (moto's server mode: a Python emulator, so its times are an upper bound for a MinIO
next door, not a measure of AWS).

    .venv/bin/python bench/photo_store.py [--rounds 30] [--forks 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.s3_support import MotoServer, s3_env  # noqa: E402

PHOTO = (ROOT / "tests" / "data" / "ocr" / "ppwp_clean.jpg").read_bytes()


def horse_ms(forks: int) -> float:
    """Median ms a forked child spends in its first media.store() (S3: builds its client)."""
    from relay import media

    times = []
    for _ in range(forks):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            started = time.perf_counter()
            media.store()
            os.write(write, str(time.perf_counter() - started).encode())
            os._exit(0)
        os.waitpid(pid, 0)
        times.append(float(os.read(read, 64)) * 1000)
        os.close(read)
        os.close(write)
    return statistics.median(times)


def timed(rounds: int, action: Callable[[int], object]) -> float:
    times = []
    for n in range(rounds):
        started = time.perf_counter()
        action(n)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def store_figures(label: str, rounds: int) -> None:
    from relay import media

    photos = [PHOTO + n.to_bytes(4, "big") for n in range(rounds)]  # distinct keys
    keys = [media.key_for(p, "image/jpeg") for p in photos]
    put = timed(rounds, lambda n: media.save(photos[n], "image/jpeg"))
    get = timed(rounds, lambda n: media.load(keys[n]))
    exists = timed(rounds, lambda n: media.exists(keys[n]))
    link = timed(rounds, lambda n: media.signed_link(keys[n]))
    print(f"  {label:<22} put {put:6.1f} ms   get {get:6.1f} ms   exists {exists:5.1f} ms   "
          f"signed link {link:5.2f} ms   ({len(PHOTO) / 1024:.0f} KB photo, median of {rounds})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--forks", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("RELAY_ENV", "development")
    print("photo store")
    with tempfile.TemporaryDirectory() as directory:
        os.environ["MEDIA_DIR"] = directory
        os.environ.pop("MEDIA_URL", None)
        store_figures("local directory", args.rounds)
    with MotoServer() as server:
        os.environ.update(s3_env(server, server.new_bucket()))
        cold = horse_ms(args.forks)
        print(f"  S3 client in a work horse: {cold:6.0f} ms cold (boto3 imported)", end="")
        from relay import media

        media.warm()
        print(f", {horse_ms(args.forks):4.0f} ms warmed before the fork (median of {args.forks})")
        store_figures("S3 (moto, 127.0.0.1)", args.rounds)


if __name__ == "__main__":
    main()
