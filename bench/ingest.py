"""Ingest: how fast the `web` process acknowledges signed Twilio SMS webhooks, against the
ceiling of a bare Flask app under the same gunicorn settings, and whether every acked
message is then stored, processed once and answered once.

    .venv/bin/python bench/ingest.py [--duration 8] [--concurrency 4] [--rq-workers 2]

Starts everything itself in a temporary directory: redis-server, a SQLite database (or
--database-url, migrated and empty) with the demo election and one generated officer per
message, the fake Twilio REST API, gunicorn with gunicorn.conf.py (the Procfile's `web`),
then `rq worker`s (the Procfile's `worker`) to drain what was acked. The load comes from a
separate process (closed loop: each connection sends its next request when the previous
answer arrived; a new connection per request, as gunicorn's sync workers do not keep alive).
Goals: app ≥ 50% of the ceiling's requests/s, app p99 ≤ 50 ms, zero loss.
"""

from __future__ import annotations

import argparse
import os
import time

from benchkit.load import Result, closed_loop, percentile
from benchkit.system import (
    BENCH,
    Officer,
    account,
    message_sid,
    running_system,
    signed_twilio_request,
    tally_text,
    wait_drained,
)

from tests.live import Gunicorn, RqWorker, rss_kib


def summarise(label: str, results: list[Result]) -> tuple[float, float]:
    ok = [r for r in results if r.status == 200]
    if not results:
        print(f"{label:<10} no requests")
        return 0.0, 0.0
    span = max(r.started + r.latency for r in results) - min(r.started for r in results)
    rate = len(ok) / span if span > 0 else 0.0
    ms = [r.latency * 1000 for r in ok]
    others = len(results) - len(ok)
    print(
        f"{label:<10} {len(ok):>7} × 200 in {span:5.1f} s = {rate:8.0f} req/s   "
        f"ack p50 {percentile(ms, 50):5.1f} ms  p95 {percentile(ms, 95):5.1f} ms  "
        f"p99 {percentile(ms, 99):5.1f} ms  max {max(ms, default=0):6.1f} ms"
        + (f"   ({others} not 200)" if others else "")
    )
    return rate, percentile(ms, 99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measured run")
    parser.add_argument("--concurrency", type=int, default=4, help="connections at once")
    parser.add_argument("--rq-workers", type=int, default=2, help="rq workers for the drain")
    parser.add_argument("--max-messages", type=int, default=12000, help="app requests at most")
    parser.add_argument("--database-url", help="a migrated, empty database (default: temp SQLite)")
    args = parser.parse_args()
    os.environ.setdefault("WEB_CONCURRENCY", "2")
    web_workers = int(os.environ["WEB_CONCURRENCY"])
    warmup = 200
    total = args.max_messages + warmup

    print(
        f"{os.cpu_count()} CPUs; gunicorn.conf.py with {web_workers} sync workers; "
        f"{args.concurrency} connections; {args.duration:.0f} s per run"
    )
    started = time.monotonic()
    with running_system(officers=total, database_url=args.database_url) as system:
        print(
            f"set up {len(system.officers)} officers in {time.monotonic() - started:.1f} s; "
            f"database {system.database_url.split('://')[0]}"
        )
        log = (system.work / "web.log").open("wb")
        officers: dict[str, Officer] = {}
        raws: list[bytes] = []
        for i, officer in enumerate(system.officers):
            sid = message_sid(i)
            officers[sid] = officer
            raws.append(signed_twilio_request("127.0.0.1", officer, tally_text(officer, i), sid))

        with Gunicorn(
            system.env, log=log, app="benchkit.ceiling_app:app", pythonpath=str(BENCH)
        ) as ceiling:
            closed_loop("127.0.0.1", ceiling.port, raws[:warmup], args.concurrency, 30)
            bare = closed_loop(
                "127.0.0.1", ceiling.port, raws, args.concurrency, args.duration, repeat=True
            )

        with Gunicorn(system.env, log=log) as web:
            warm = closed_loop("127.0.0.1", web.port, raws[:warmup], args.concurrency, 30)
            real = closed_loop(
                "127.0.0.1", web.port, raws[warmup:], args.concurrency, args.duration
            )
            real = [Result(r.index + warmup, r.status, r.started, r.latency) for r in real]
            rss = sum(rss_kib(pid) for pid in web.worker_pids())

        print()
        ceiling_rate, _ = summarise("ceiling", bare)
        app_rate, app_p99 = summarise("relay", real)
        ratio = app_rate / ceiling_rate if ceiling_rate else 0.0
        print(f"ratio      {ratio:.0%} of the ceiling; web workers' RSS {rss / 1024:.0f} MiB")

        acked = {
            message_sid(r.index): officers[message_sid(r.index)]
            for r in warm + real
            if r.status == 200
        }
        unacked = len(warm) + len(real) - len(acked)
        workers = [
            RqWorker(system.env, log=log, extra_args=("--quiet",)).start()
            for _ in range(args.rq_workers)
        ]
        try:
            seconds = wait_drained(system.redis.url, len(acked), timeout=600)
        finally:
            for worker in workers:
                worker.stop()
        drained = len(acked) / seconds if seconds else 0.0
        print(
            f"drain      {len(acked)} messages (inbound job + reply through fake Twilio) by "
            f"{args.rq_workers} rq workers in {seconds:.1f} s = {drained:.0f} messages/s"
        )
        result = account(acked, system.twilio)
        print(f"loss       {result.line()}" + (f"; {unacked} not acked" if unacked else ""))
        log.close()
        goals = [
            ("≥ 50% of the ceiling", ratio >= 0.5),
            ("p99 ≤ 50 ms", app_p99 <= 50),
            ("zero loss", result.lost == 0 and result.doubled == 0),
        ]
        verdicts = (f"{name}: {'met' if ok else 'MISSED'}" for name, ok in goals)
        print("goals      " + ", ".join(verdicts))


if __name__ == "__main__":
    main()
