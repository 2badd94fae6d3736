"""Lean workers: worker CPU and Redis commands per text message, and the web tier's share of
the bare-Flask ceiling, measured in one short run (< 1 minute on 2 cores).

    .venv/bin/python bench/workers.py [--messages 6000] [--rounds 4] [--turn 1.5]
                                      [--rq-workers 1] [--database-url URL]

1. Web: the bare Flask ceiling (bench/benchkit/ceiling_app.py) and the real `web` (gunicorn
   with gunicorn.conf.py) take turns, `--rounds` times, acknowledging signed Twilio SMS
   tallies (each from its own officer) over 4 connections from a separate load process.
   The ratio is the median of each round's rate against the ceiling run just before it. No
   worker runs yet, so the Redis commands counted here are the web's alone (the enqueue).
2. Workers: the queued jobs are set aside while the Procfile's `worker` (`--rq-workers` of
   them) and `sender` start, so their start-up (imports, the digit model, registration) is not
   counted; then the jobs are put back and the workers drain every acked message
   (conversation + reply through the fake Twilio). Counted from the put-back until the last
   reply is sent: the CPU time of the worker and sender processes and all their children
   (work horses, the scheduler), from
   /proc, and Redis's `INFO commandstats` deltas (a pipeline's or a script's commands count
   one by one; EVALSHA counts once plus the commands the script runs).

Goals (issue #13): ≤ 5 ms of worker CPU and ≤ 30 Redis commands per text message; the web
at ≥ 40% of the ceiling.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from collections import Counter
from pathlib import Path

from benchkit.load import Result, closed_loop
from benchkit.system import (
    account,
    message_sid,
    running_system,
    signed_twilio_request,
    tally_text,
    wait_drained,
)
from redis import Redis

from tests.live import Gunicorn, RqWorker, children_of

TICKS = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"
QUEUE_KEY = "rq:queue:inbound"


def tree_cpu_seconds(pid: int) -> float:
    """CPU (user + system) of `pid` and every live descendant, plus their reaped children's."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        # fields[11:15]: utime, stime, cutime, cstime (proc(5) fields 14–17)
        total += sum(int(f) for f in fields[11:15]) / TICKS
        todo.extend(children_of(current))
    return total


def command_stats(redis: Redis) -> Counter[str]:
    """Calls per Redis command so far (INFO commandstats)."""
    stats = redis.info("commandstats")
    calls = Counter({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()})
    del calls["info"]  # this benchmark's own
    return calls


def start_monitor(url: str, path: str) -> threading.Event:
    """Copy every command Redis runs into `path` until the returned event is set."""
    stop = threading.Event()
    ready = threading.Event()

    def copy() -> None:
        with Redis.from_url(url).monitor() as monitor, open(path, "w") as out:
            ready.set()
            for command in monitor.listen():
                out.write(
                    f"{command['time']:.6f} {command['client_address']} {command['command']}\n"
                )
                if stop.is_set():
                    break

    threading.Thread(target=copy, daemon=True).start()
    ready.wait(5)
    return stop


def redis_cpu(redis: Redis) -> float:
    cpu = redis.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def rate(results: list[Result]) -> float:
    if not results:
        return 0.0
    span = max(r.started + r.latency for r in results) - min(r.started for r in results)
    return sum(1 for r in results if r.status == 200) / span if span > 0 else 0.0


def web_rounds(
    env: dict[str, str], raws: list[bytes], rounds: int, turn: float, log: object
) -> tuple[list[float], list[Result]]:
    """Ceiling and web take turns; returns each round's ratio and the web's results."""
    from benchkit.system import BENCH

    ratios: list[float] = []
    acked: list[Result] = []
    with (
        Gunicorn(env, log=log, app="benchkit.ceiling_app:app", pythonpath=str(BENCH)) as bare,
        Gunicorn(env, log=log) as web,
    ):
        warm = 600  # each gunicorn worker past its first requests (imports, pools, caches)
        closed_loop(HOST, bare.port, raws[:warm], 4, 30)
        acked += closed_loop(HOST, web.port, raws[:warm], 4, 30)
        start = warm
        for _ in range(rounds):
            if len(raws) - start < 200:  # each message comes from its own officer, once
                print(f"round      out of messages after {start}: raise --messages")
                break
            ceiling = closed_loop(HOST, bare.port, raws, 4, turn, repeat=True)
            sent = closed_loop(HOST, web.port, raws[start:], 4, turn)
            sent = [Result(r.index + start, r.status, r.started, r.latency) for r in sent]
            start += len(sent)
            acked += sent
            if rate(ceiling):
                ratios.append(rate(sent) / rate(ceiling))
            print(
                f"round      ceiling {rate(ceiling):6.0f} req/s, web {rate(sent):5.0f} req/s "
                f"= {rate(sent) / max(rate(ceiling), 1e-9):.0%}"
            )
    return ratios, [r for r in acked if r.status == 200]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=6000, help="officers (messages at most)")
    parser.add_argument("--rounds", type=int, default=4, help="turns of ceiling and web")
    parser.add_argument("--turn", type=float, default=1.5, help="seconds of load per turn")
    parser.add_argument("--rq-workers", type=int, default=1, help="the Procfile's worker, N times")
    parser.add_argument("--monitor", help="write Redis MONITOR's lines of the drain to this file")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (postgresql+psycopg://…): a throwaway database is made there; "
        "default: SQLite in a temporary directory",
    )
    args = parser.parse_args()
    os.environ.setdefault("WEB_CONCURRENCY", "2")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the start")
    with running_system(officers=args.messages, database_url=args.database_url) as system:
        redis = Redis.from_url(system.redis.url)
        log = (system.work / "processes.log").open("wb")
        raws = [
            signed_twilio_request(HOST, officer, tally_text(officer, i), message_sid(i))
            for i, officer in enumerate(system.officers)
        ]
        before_web = command_stats(redis)
        ratios, acked = web_rounds(system.env, raws, args.rounds, args.turn, log)
        web_commands = command_stats(redis) - before_web
        n = len(acked)
        ratio = statistics.median(ratios) if ratios else 0.0
        print(
            f"web        {ratio:.0%} of the bare-Flask ceiling (median of {len(ratios)} rounds, "
            f"{os.environ['WEB_CONCURRENCY']} gunicorn workers); "
            f"{web_commands.total() / n:.1f} Redis commands per acked message"
        )

        queued = redis.lrange(QUEUE_KEY, 0, -1)
        redis.delete(QUEUE_KEY)
        workers = [
            RqWorker(system.env, log=log, extra_args=("--quiet",)) for _ in range(args.rq_workers)
        ]
        sender = RqWorker(system.env, log=log, extra_args=("--quiet",), process="sender")
        for process in [*workers, sender]:
            process.start()
        deadline = time.monotonic() + 60
        while redis.scard("rq:workers") < len(workers) + 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # past the start-up: the scheduler forked, the first idle round
        cpu_before = {p.pid: tree_cpu_seconds(p.pid) for p in [*workers, sender]}
        redis_cpu_before, before = redis_cpu(redis), command_stats(redis)
        monitor = start_monitor(system.redis.url, args.monitor) if args.monitor else None
        redis.rpush(QUEUE_KEY, *queued)  # wakes the waiting worker(s)
        seconds = wait_drained(n, timeout=600)
        cpu = {p.pid: tree_cpu_seconds(p.pid) - cpu_before[p.pid] for p in [*workers, sender]}
        worker_ms = sum(cpu[w.pid] for w in workers) * 1000 / n
        sender_ms = cpu[sender.pid] * 1000 / n
        commands = command_stats(redis) - before
        if monitor:
            monitor.set()
        redis_seconds = redis_cpu(redis) - redis_cpu_before
        for process in [*workers, sender]:
            process.stop()
        log.close()
        print(
            f"drain      {n} SMS tallies (conversation + reply) by {args.rq_workers} worker(s) "
            f"and a sender in {seconds:.1f} s = {n / max(seconds, 1e-9):.0f}/s"
        )
        print(
            f"worker CPU {worker_ms + sender_ms:.1f} ms per text message (worker "
            f"{worker_ms:.1f} ms + sender {sender_ms:.1f} ms; Redis's own CPU "
            f"{redis_seconds * 1000 / n:.2f} ms)"
        )
        total = commands.total() / n + web_commands.total() / n
        print(
            f"Redis      {commands.total() / n:.1f} commands per text message in the workers "
            f"+ {web_commands.total() / n:.1f} in the web = {total:.1f}"
        )
        top = ", ".join(f"{name} {calls / n:.1f}" for name, calls in commands.most_common(12))
        print(f"           workers' per message: {top}")
        sent_to = [str(m["To"]) for m in system.twilio.sent_messages()]
        sms_acked = {message_sid(r.index): system.officers[r.index].phone for r in acked}
        print(f"loss       SMS: {account('twilio', sms_acked, sent_to).line()}")
        goals = [
            ("≤ 5 ms CPU", worker_ms + sender_ms <= 5),
            ("≤ 30 Redis commands", total <= 30),
            ("web ≥ 40%", ratio >= 0.4),
        ]
        print("goals      " + ", ".join(f"{g}: {'met' if ok else 'MISSED'}" for g, ok in goals))
        print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()
