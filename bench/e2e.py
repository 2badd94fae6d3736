"""End to end: SMS tallies at a fixed rate through the whole system (signed Twilio webhook →
gunicorn → store → RQ → conversation → reply through the fake Twilio REST API), printing the
received → reply-sent latency and the backlog over time.

    .venv/bin/python bench/e2e.py [--rate 30] [--duration 30] [--rq-workers 2]

Starts everything itself (see bench/ingest.py): the Procfile's `web` and `worker`s against
a temporary SQLite database (or a throwaway PostgreSQL one), a private redis-server and the
fake Twilio.
Every message comes from its own officer, so each reply is matched to its message by the
recipient. Latency runs from the moment the load process sends the webhook to the moment
the fake Twilio receives the reply: what an officer would wait, less the carrier.
Photos (OCR) are not in this run yet.
"""

from __future__ import annotations

import argparse
import shutil
import threading
import time

from benchkit.load import open_loop, percentile
from benchkit.system import (
    account,
    message_sid,
    running_system,
    signed_twilio_request,
    tally_text,
    wait_drained,
)
from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from tests.live import Gunicorn, RqWorker


def backlog_sampler(redis_url: str, stop: threading.Event, rows: list[tuple]) -> None:
    """Every second: queued inbound/outbound jobs, scheduled retries, replies sent so far."""
    from relay.db import session_scope
    from relay.models import InboundMessage, OutboundMessage

    redis = Redis.from_url(redis_url)
    inbound, outbound = Queue("inbound", connection=redis), Queue("outbound", connection=redis)
    start = time.monotonic()
    while not stop.wait(1.0):
        with session_scope() as session:
            stored = session.scalar(select(func.count()).select_from(InboundMessage))
            sent = session.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.status == "sent")
            )
        scheduled = ScheduledJobRegistry(queue=outbound).count
        rows.append(
            (time.monotonic() - start, stored, inbound.count, outbound.count, scheduled, sent)
        )


def wait_for_workers(redis_url: str, count: int, timeout: float = 60) -> None:
    """Until `count` workers have registered with Redis (imports done, ready to dequeue)."""
    from rq import Worker

    redis = Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while Worker.count(connection=redis) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=30.0, help="tallies per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--rq-workers", type=int, default=2, help="the Procfile's worker, N times")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server (postgresql+psycopg://…): a throwaway database is made there; "
        "default: SQLite in a temporary directory",
    )
    parser.add_argument("--log", help="keep the web and worker processes' log in this file")
    args = parser.parse_args()
    count = int(args.rate * args.duration)
    host = "127.0.0.1"
    with running_system(officers=count, database_url=args.database_url) as system:
        raws = [
            signed_twilio_request(host, officer, tally_text(officer, i), message_sid(i))
            for i, officer in enumerate(system.officers)
        ]
        log = (system.work / "processes.log").open("wb")
        workers = [RqWorker(system.env, log=log) for _ in range(args.rq_workers)]
        rows: list[tuple] = []
        stop = threading.Event()
        with Gunicorn(system.env, log=log) as web:
            for worker in workers:
                worker.start()
            wait_for_workers(system.redis.url, len(workers))
            sampler = threading.Thread(
                target=backlog_sampler, args=(system.redis.url, stop, rows), daemon=True
            )
            sampler.start()
            print(
                f"{count} tallies at {args.rate:.0f}/s for {args.duration:.0f} s; "
                f"{args.rq_workers} workers; database {system.database_url.split(':')[0]}"
            )
            results = open_loop(host, web.port, raws, args.rate)
            acked = {message_sid(r.index): r for r in results if r.status == 200}
            waited = wait_drained(len(acked), timeout=600)
            stop.set()
            sampler.join()
        for worker in workers:
            worker.stop()
        log.close()
        if args.log:
            shutil.copyfile(system.work / "processes.log", args.log)

        print("\n   t (s)  stored  inbound queue  outbound queue  retries  replies sent")
        for t, stored, inbound, outbound, scheduled, sent in rows:
            print(f"{t:8.0f} {stored:7} {inbound:14} {outbound:15} {scheduled:8} {sent:13}")

        first_reply: dict[str, float] = {}
        for request in system.twilio.requests:
            if request.status == 201 and request.form:
                to = request.form["To"][-1]
                first_reply.setdefault(to, request.at)
        phone_of = {message_sid(i): o.phone for i, o in enumerate(system.officers)}
        latencies = [
            (first_reply[phone_of[sid]] - r.started) * 1000
            for sid, r in acked.items()
            if phone_of[sid] in first_reply
        ]
        acks = [r.latency * 1000 for r in acked.values()]
        print(
            f"\nack        p50 {percentile(acks, 50):6.1f} ms  p95 {percentile(acks, 95):6.1f} ms"
            f"  p99 {percentile(acks, 99):6.1f} ms"
        )
        print(
            f"reply sent p50 {percentile(latencies, 50):6.0f} ms  "
            f"p95 {percentile(latencies, 95):6.0f} ms  p99 {percentile(latencies, 99):6.0f} ms"
            f"  max {max(latencies, default=0):6.0f} ms  ({len(latencies)} replies; "
            f"the last {waited:.1f} s after the load ended)"
        )
        sent_to = [str(m["To"]) for m in system.twilio.sent_messages()]
        result = account("twilio", {sid: phone_of[sid] for sid in acked}, sent_to)
        print(f"loss       {result.line()}")


if __name__ == "__main__":
    main()
