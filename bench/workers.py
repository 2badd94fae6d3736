"""Lean workers: worker CPU and Redis commands per text message, and the web tier's share of
the bare-Flask ceiling, measured in one short run (< 1 minute on 2 cores).

    .venv/bin/python bench/workers.py [--messages 6000] [--rounds 4] [--turn 1.5]
                                      [--rq-workers 1] [--web-only] [--database-url URL]

1. Web: the bare Flask ceiling (bench/benchkit/ceiling_app.py) and the real `web` (gunicorn
   with gunicorn.conf.py) take turns, `--rounds` times, acknowledging signed Twilio SMS
   tallies (each from its own officer) over 4 connections from a separate load process.
   Two ratios: by CPU (the goal's), the ceiling's CPU per answered request over the web's,
   each the user + system time of its gunicorn master and workers (/proc) during its own
   turns, summed over the rounds; and by throughput, the median of each round's rate
   against the ceiling's turn just before it, which on a shared machine mostly measures who
   else had the cores. No worker runs yet, so the Redis commands counted here are the web's
   alone (the enqueue). `--web-only` stops here.
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
from dataclasses import dataclass, field
from pathlib import Path

from benchkit.load import Result, closed_loop
from benchkit.options import add_database_url
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


def span(results: list[Result]) -> float:
    """Seconds from the first request sent to the last answer received."""
    if not results:
        return 0.0
    return max(r.started + r.latency for r in results) - min(r.started for r in results)


@dataclass
class Turns:
    """What one server did over its turns: answered requests, seconds of load, CPU seconds
    of its gunicorn master and workers (their user + system time from /proc)."""

    ok: int = 0
    seconds: float = 0.0
    cpu: float = 0.0

    def add(self, results: list[Result], cpu: float) -> None:
        self.ok += sum(1 for r in results if r.status == 200)
        self.seconds += span(results)
        self.cpu += cpu

    @property
    def cpu_ms(self) -> float:
        """Milliseconds of server CPU per answered request."""
        return self.cpu * 1000 / self.ok if self.ok else 0.0

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


@dataclass
class WebFigures:
    throughput: list[float] = field(default_factory=list)  # per round: web rate / ceiling rate
    cpu: list[float] = field(default_factory=list)  # per round: ceiling CPU/req / web CPU/req
    ceiling: Turns = field(default_factory=Turns)
    web: Turns = field(default_factory=Turns)
    acked: list[Result] = field(default_factory=list)


def measured(
    server: Gunicorn, raws: list[bytes], turn: float, repeat: bool
) -> tuple[list[Result], float]:
    """One turn of closed-loop load on `server`: its results and the CPU seconds its
    gunicorn (master and workers) spent meanwhile."""
    assert server.proc is not None
    before = tree_cpu_seconds(server.proc.pid)
    results = closed_loop(HOST, server.port, raws, 4, turn, repeat=repeat)
    return results, tree_cpu_seconds(server.proc.pid) - before


def web_rounds(
    env: dict[str, str], raws: list[bytes], rounds: int, turn: float, log: object
) -> WebFigures:
    """Ceiling and web take turns on the same gunicorn config; each round gives a throughput
    ratio and a CPU-per-request ratio (the ceiling's CPU per request over the web's)."""
    from benchkit.system import BENCH

    figures = WebFigures()
    with (
        Gunicorn(env, log=log, app="benchkit.ceiling_app:app", pythonpath=str(BENCH)) as bare,
        Gunicorn(env, log=log) as web,
    ):
        warm = 600  # each gunicorn worker past its first requests (imports, pools, caches)
        closed_loop(HOST, bare.port, raws[:warm], 4, 30)
        figures.acked += closed_loop(HOST, web.port, raws[:warm], 4, 30)
        start = warm
        for _ in range(rounds):
            if len(raws) - start < 200:  # each message comes from its own officer, once
                print(f"round      out of messages after {start}: raise --messages")
                break
            ceiling, ceiling_cpu = measured(bare, raws, turn, repeat=True)
            sent, web_cpu = measured(web, raws[start:], turn, repeat=False)
            sent = [Result(r.index + start, r.status, r.started, r.latency) for r in sent]
            start += len(sent)
            figures.acked += sent
            this_ceiling, this_web = Turns(), Turns()
            this_ceiling.add(ceiling, ceiling_cpu)
            this_web.add(sent, web_cpu)
            figures.ceiling.add(ceiling, ceiling_cpu)
            figures.web.add(sent, web_cpu)
            if this_ceiling.rate and this_web.cpu_ms:
                figures.throughput.append(this_web.rate / this_ceiling.rate)
                figures.cpu.append(this_ceiling.cpu_ms / this_web.cpu_ms)
            print(
                f"round      throughput: ceiling {this_ceiling.rate:6.0f} req/s, web "
                f"{this_web.rate:5.0f} req/s = {this_web.rate / max(this_ceiling.rate, 1e-9):.0%}"
                f" | CPU/request: ceiling {this_ceiling.cpu_ms:.2f} ms, web "
                f"{this_web.cpu_ms:.2f} ms = {this_ceiling.cpu_ms / max(this_web.cpu_ms, 1e-9):.0%}"
            )
    figures.acked = [r for r in figures.acked if r.status == 200]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=6000, help="officers (messages at most)")
    parser.add_argument("--rounds", type=int, default=4, help="turns of ceiling and web")
    parser.add_argument("--turn", type=float, default=1.5, help="seconds of load per turn")
    parser.add_argument("--rq-workers", type=int, default=1, help="the Procfile's worker, N times")
    parser.add_argument("--web-only", action="store_true", help="stop after the web rounds")
    parser.add_argument("--monitor", help="write Redis MONITOR's lines of the drain to this file")
    add_database_url(parser)
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
        web = web_rounds(system.env, raws, args.rounds, args.turn, log)
        web_commands = command_stats(redis) - before_web
        acked = web.acked
        n = len(acked)
        ratio = web.ceiling.cpu_ms / web.web.cpu_ms if web.web.cpu_ms else 0.0
        throughput = statistics.median(web.throughput) if web.throughput else 0.0
        print(
            f"web CPU    {ratio:.0%} of the bare-Flask ceiling by CPU per request: ceiling "
            f"{web.ceiling.cpu_ms:.2f} ms, web {web.web.cpu_ms:.2f} ms of gunicorn CPU per "
            f"answered request, over all {len(web.cpu)} rounds ({web.ceiling.ok} and {web.web.ok}"
            f" requests; rounds {', '.join(f'{r:.0%}' for r in web.cpu)})"
        )
        print(
            f"web rate   {throughput:.0%} of the bare-Flask ceiling by throughput (median of "
            f"{len(web.throughput)} rounds; ceiling {web.ceiling.rate:.0f} req/s, web "
            f"{web.web.rate:.0f} req/s); {os.environ['WEB_CONCURRENCY']} gunicorn workers; "
            f"{web_commands.total() / n:.1f} Redis commands per acked message"
        )
        if args.web_only:
            log.close()
            print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")
            return

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
            ("web ≥ 40% (CPU per request)", ratio >= 0.4),
        ]
        print("goals      " + ", ".join(f"{g}: {'met' if ok else 'MISSED'}" for g, ok in goals))
        print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()
