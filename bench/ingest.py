"""Ingest: how fast the `web` process acknowledges signed webhooks (Twilio SMS, Telegram
updates), against the ceiling of a bare Flask app under the same gunicorn settings, and
whether every acked message is then stored, processed once and answered once.

    .venv/bin/python bench/ingest.py [--duration 8] [--rounds 4] [--concurrency 4]
                                     [--database-url URL]

Starts everything itself in a temporary directory: redis-server, a SQLite database (or a
throwaway one on the PostgreSQL server of --database-url) with the demo election and one
generated officer per message, the fake Twilio and Telegram APIs, gunicorn with
gunicorn.conf.py (the Procfile's `web`), then the Procfile's `worker`s to drain the acked
messages. The load comes from a separate process (closed loop: each connection sends its
next request when the previous answer arrived; a new connection per request, as gunicorn's
sync workers do not keep alive). The ceiling and the real `web` run side by side and take
turns, `--rounds` times; the ratio is the median of each round's against the ceiling run just
before it, which stays steady while the machine's speed drifts.
Goals: ≥ 50% of the ceiling's requests/s, p99 ≤ 50 ms, zero loss.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import replace

from benchkit.load import Result, closed_loop, percentile
from benchkit.options import add_database_url
from benchkit.system import (
    BENCH,
    account,
    database_bytes,
    message_sid,
    redis_figures,
    running_system,
    signed_twilio_request,
    tally_text,
    telegram_request,
    telegram_user,
    wait_drained,
)

from tests.live import Gunicorn, RqWorker, rss_kib

WARMUP = 200


def rate(results: list[Result]) -> float:
    """Requests answered 200 per second over the run's span."""
    if not results:
        return 0.0
    span = max(r.started + r.latency for r in results) - min(r.started for r in results)
    return sum(1 for r in results if r.status == 200) / span if span > 0 else 0.0


def median_ratio(runs: list[list[Result]], ceilings: list[list[Result]]) -> float:
    ratios = [
        rate(run) / rate(bare) for run, bare in zip(runs, ceilings, strict=True) if rate(bare)
    ]
    return statistics.median(ratios) if ratios else 0.0


def summarise(label: str, rounds: list[list[Result]]) -> float:
    """Print requests/s and ack latencies over all rounds; return p99 ms."""
    results = [r for round_ in rounds for r in round_]
    ok = [r for r in results if r.status == 200]
    if not results:
        print(f"{label:<10} no requests")
        return 0.0
    span = sum(
        max(r.started + r.latency for r in round_) - min(r.started for r in round_)
        for round_ in rounds
        if round_
    )
    per_second = len(ok) / span if span > 0 else 0.0
    ms = [r.latency * 1000 for r in ok]
    others = len(results) - len(ok)
    print(
        f"{label:<10} {len(ok):>7} × 200 in {span:4.1f} s = {per_second:6.0f} req/s   "
        f"ack p50 {percentile(ms, 50):5.1f} ms  p95 {percentile(ms, 95):5.1f} ms  "
        f"p99 {percentile(ms, 99):5.1f} ms  max {max(ms, default=0):6.1f} ms"
        + (f"   ({others} not 200)" if others else "")
    )
    return percentile(ms, 99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration",
        type=float,
        default=8.0,
        help="seconds of load per server, split over the rounds",
    )
    parser.add_argument("--concurrency", type=int, default=4, help="connections at once")
    parser.add_argument(
        "--rounds", type=int, default=4, help="turns of ceiling, Twilio and Telegram load"
    )
    parser.add_argument("--rq-workers", type=int, default=2, help="workers for the drain")
    parser.add_argument("--max-sms", type=int, default=8000, help="Twilio requests at most")
    parser.add_argument(
        "--max-telegram",
        type=int,
        default=500,
        help="Telegram updates at most (their replies go out at the bot's 25/s)",
    )
    add_database_url(parser)
    args = parser.parse_args()
    os.environ.setdefault("WEB_CONCURRENCY", "2")
    host, n_sms, n_tg = "127.0.0.1", args.max_sms + WARMUP, args.max_telegram
    print(
        f"{os.cpu_count()} CPUs; gunicorn.conf.py with {os.environ['WEB_CONCURRENCY']} sync "
        f"workers; load from another process over {args.concurrency} connections"
    )
    started = time.monotonic()
    with running_system(officers=n_sms, database_url=args.database_url) as system:
        print(
            f"set up in {time.monotonic() - started:.1f} s: {len(system.officers)} officers, "
            f"database {system.database_url.split(':')[0]}"
        )
        log = (system.work / "processes.log").open("wb")
        db_before = database_bytes(system.database_url)
        redis_memory_before, _ = redis_figures(system.redis.url)
        sms = [
            signed_twilio_request(host, officer, tally_text(officer, i), message_sid(i))
            for i, officer in enumerate(system.officers)
        ]
        tg = [telegram_request(host, 10_000 + i, telegram_user(i), "STATUS") for i in range(n_tg)]

        # Both servers run side by side and take turns, round by round: this machine's speed
        # drifts (shared vCPUs), and a ratio between neighbouring runs is what stays stable.
        bare: list[list[Result]] = []
        real: list[list[Result]] = []
        updates: list[list[Result]] = []
        with (
            Gunicorn(
                system.env, log=log, app="benchkit.ceiling_app:app", pythonpath=str(BENCH)
            ) as ceiling,
            Gunicorn(system.env, log=log) as web,
        ):
            closed_loop(host, ceiling.port, sms[:WARMUP], args.concurrency, 30)
            warm = closed_loop(host, web.port, sms[:WARMUP], args.concurrency, 30)
            sms_next, tg_next = WARMUP, 0
            turn = args.duration / args.rounds
            for _ in range(args.rounds):
                bare.append(
                    closed_loop(host, ceiling.port, sms, args.concurrency, turn, repeat=True)
                )
                sent = closed_loop(host, web.port, sms[sms_next:], args.concurrency, turn)
                real.append([replace(r, index=r.index + sms_next) for r in sent])
                sms_next += len(sent)
                share = n_tg // args.rounds
                sent = closed_loop(
                    host, web.port, tg[tg_next : tg_next + share], args.concurrency, turn
                )
                updates.append([replace(r, index=r.index + tg_next) for r in sent])
                tg_next += len(sent)
            rss = sum(rss_kib(pid) for pid in web.worker_pids())

        print()
        summarise("ceiling", bare)
        sms_p99 = summarise("twilio", real)
        tg_p99 = summarise("telegram", updates)
        ratio = median_ratio(real, bare)
        tg_ratio = median_ratio(updates, bare)
        print(
            f"ratio      twilio {ratio:.0%}, telegram {tg_ratio:.0%} of the ceiling (median of "
            f"{args.rounds} rounds, each against the ceiling run just before it); "
            f"web workers' RSS {rss / 1024:.0f} MiB"
        )

        sms_acked = {
            message_sid(r.index): system.officers[r.index].phone
            for r in warm + [r for round_ in real for r in round_]
            if r.status == 200
        }
        tg_acked = {
            str(10_000 + r.index): str(telegram_user(r.index))
            for round_ in updates
            for r in round_
            if r.status == 200
        }
        total = len(sms_acked) + len(tg_acked)
        redis_memory_queued, commands_before = redis_figures(system.redis.url)
        workers = [
            RqWorker(system.env, log=log, extra_args=("--quiet",), process=process).start()
            for process in ["worker"] * args.rq_workers + ["sender"]
        ]
        try:
            seconds = wait_drained(total, timeout=900)
        finally:
            for worker in workers:
                worker.stop()
        print(
            f"drain      {total} messages (conversation + reply through the fake provider) by "
            f"{args.rq_workers} workers in {seconds:.1f} s = {total / max(seconds, 1e-9):.0f}/s"
            f" (Telegram replies paced at 25/s)"
        )
        redis_memory_done, commands_after = redis_figures(system.redis.url)
        db_growth = database_bytes(system.database_url) - db_before
        queued_bytes = (redis_memory_queued - redis_memory_before) / total
        done_bytes = (redis_memory_done - redis_memory_before) / total
        print(
            f"sizes      per message: database +{db_growth / total / 1024:.1f} KiB; Redis "
            f"{queued_bytes:.0f} B while queued, {done_bytes:.0f} B once done, "
            f"{(commands_after - commands_before) / total:.0f} Redis commands to process it"
        )
        sms_sent = [str(m["To"]) for m in system.twilio.sent_messages()]
        tg_sent = [str(m["chat_id"]) for m in system.telegram.sent_messages()]
        results = [
            ("twilio", account("twilio", sms_acked, sms_sent)),
            ("telegram", account("telegram", tg_acked, tg_sent)),
        ]
        for label, result in results:
            print(f"loss       {label}: {result.line()}")
        log.close()
        lossless = all(r.lost == 0 and r.doubled == 0 for _, r in results)
        goals = [
            ("≥ 50% of the ceiling", min(ratio, tg_ratio) >= 0.5),
            ("p99 ≤ 50 ms", max(sms_p99, tg_p99) <= 50),
            ("zero loss", lossless),
        ]
        verdicts = (f"{name}: {'met' if ok else 'MISSED'}" for name, ok in goals)
        print("goals      " + ", ".join(verdicts))


if __name__ == "__main__":
    main()
