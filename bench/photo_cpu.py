"""Worker CPU per photo tally, measured like bench/workers.py measures a text message.

    .venv/bin/python bench/photo_cpu.py [--photos 60] [--rq-workers 1] [--photo-reader fork]

WhatsApp photos of hand-filled PPWP forms (bench/benchkit/forms.py, writers never seen in
training) are acknowledged by the `web`; their jobs are set aside until the Procfile's
`worker` and `sender` are idle (the worker's reader process warm), then put back and drained:
the conversation turn, the media fetch (from the fake Twilio into the photo store), the
reading (in the worker's long-lived reader process, jobs.reader_process; `--photo-reader
fork`: in a work horse forked per photo job, as before), the two replies ("received,
reading…" and the reading with its annotated page). CPU is user + system time of the worker
and sender processes and all their children (the reader included) from /proc, per photo:
what capacity planning needs, where the OCR bench (bench/ocr.py) gives the reading alone.
"""

from __future__ import annotations

import argparse
import os
import time

from benchkit.load import closed_loop
from benchkit.options import add_database_url
from benchkit.system import message_sid, running_system, signed_twilio_request, wait_drained
from e2e import photos_for
from redis import Redis
from workers import HOST, QUEUE_KEY, tree_cpu_seconds

from tests.live import Gunicorn, RqWorker

READ_IN = {"process": "in its reader process", "fork": "in a forked horse"}


def _settled(cpu: dict[int, float], timeout: float = 60.0) -> dict[int, float]:
    """The processes' CPU once they are idle (imports done, the reader warm)."""
    deadline = time.monotonic() + timeout
    while True:
        time.sleep(1.0)
        now = {pid: tree_cpu_seconds(pid) for pid in cpu}
        if sum(now.values()) - sum(cpu.values()) < 0.02 or time.monotonic() > deadline:
            return now
        cpu = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=60, help="photos, one per officer")
    parser.add_argument("--rq-workers", type=int, default=1, help="the Procfile's worker, N times")
    parser.add_argument("--seed", type=int, default=11, help="for the forms' handwriting")
    add_database_url(parser)
    parser.add_argument(
        "--photo-reader",
        choices=("process", "fork"),
        default="process",
        help="PHOTO_READER of the worker: its reader process (default) or a horse per photo",
    )
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the start")
    with running_system(officers=args.photos, database_url=args.database_url) as system:
        photos = photos_for(system, 1, args.seed)  # every officer sends one photo
        raws = [
            signed_twilio_request(HOST, officer, "", message_sid(i), photos[i].url)
            for i, officer in enumerate(system.officers)
        ]
        redis = Redis.from_url(system.redis.url)
        log = (system.work / "processes.log").open("wb")
        with Gunicorn(system.env, log=log) as web:
            acked = [r for r in closed_loop(HOST, web.port, raws, 2, 120) if r.status == 200]
        queued = redis.lrange(QUEUE_KEY, 0, -1)
        redis.delete(QUEUE_KEY)
        env = {**system.env, "PHOTO_READER": args.photo_reader}
        workers = [RqWorker(env, log=log, extra_args=("--quiet",)) for _ in range(args.rq_workers)]
        sender = RqWorker(system.env, log=log, extra_args=("--quiet",), process="sender")
        processes = [*workers, sender]
        for process in processes:
            process.start()
        deadline = time.monotonic() + 60
        while redis.scard("rq:workers") < len(processes) and time.monotonic() < deadline:
            time.sleep(0.1)
        before = _settled({p.pid: 0.0 for p in processes})  # past the start-up
        redis.rpush(QUEUE_KEY, *queued)
        n = len(acked)
        seconds = wait_drained(2 * n, timeout=900)  # two replies per photo
        cpu = {p.pid: tree_cpu_seconds(p.pid) - before[p.pid] for p in processes}
        worker_ms = sum(cpu[w.pid] for w in workers) * 1000 / n
        sender_ms = cpu[sender.pid] * 1000 / n
        for process in processes:
            process.stop()
        log.close()
        print(
            f"drain      {n} photos by {args.rq_workers} worker(s) and a sender in {seconds:.1f} s "
            f"= {n / max(seconds, 1e-9):.1f} photos/s"
        )
        print(
            f"worker CPU {worker_ms + sender_ms:.0f} ms per photo tally (worker {worker_ms:.0f} "
            f"ms: turn, fetch, reading {READ_IN[args.photo_reader]}; sender {sender_ms:.0f} "
            f"ms: two replies) = {1000 / (worker_ms + sender_ms):.1f} photos/s per core"
        )
        print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()
