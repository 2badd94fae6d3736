"""End to end: SMS tallies and WhatsApp photos of the tally form at a fixed rate through the
whole system (signed Twilio webhook → gunicorn → store → RQ → conversation or media fetch and
OCR → replies through the fake Twilio REST API), printing the received → reply-sent latency
and the backlog over time.

    .venv/bin/python bench/e2e.py [--rate 120] [--duration 15] [--photo-every 6] [--rq-workers 2]

The default is issue #13's run: 100 SMS tallies and 20 WhatsApp photos per second (goal: photo
received → reading sent p95 ≤ 3 s, nothing lost).

Starts everything itself (see bench/ingest.py): the Procfile's `web` and `worker`s against
a temporary SQLite database (or a throwaway PostgreSQL one), a private redis-server and the
fake Twilio.
Every message comes from its own officer, so each reply is matched to its message by the
recipient. Latency runs from the moment the load process sends the webhook to the moment
the fake Twilio receives the reply: what an officer would wait, less the carrier.
One request in `--photo-every` is a photo: a simulated phone photo of the PPWP form for the
officer's TPS, filled in by hand (bench/benchkit/forms.py), hosted by the fake Twilio, sent
from the officer's WhatsApp number. Its officer gets two replies — "received, reading…" at
once, then what was read (a pending tally, with the annotated page) — both timed, and what
was read is compared with what was written.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from benchkit.forms import demo_templates, photo_of_filled_form, uci_source
from benchkit.load import open_loop, percentile
from benchkit.options import add_database_url
from benchkit.system import (
    System,
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
from workers import tree_cpu_seconds

from jobs.queues import INBOUND, OUTBOUND_QUEUES, PHOTO
from ocr.render import TpsInfo
from tests.live import Gunicorn, RqWorker, children_of

TEXT_FIRST = " inbound photo inbound-unknown"  # the Procfile `worker`'s queues, in order
PHOTO_FIRST = " photo inbound inbound-unknown"


class PhotoFirstWorker(RqWorker):
    """The Procfile's `worker` taking the photo queue before the text one: as production's
    photo workers (deploy/systemd/relay-photo-worker@.service), which take photos only, but
    also turning text messages when no photo waits, since this box has 2 workers in all."""

    def command(self) -> str:
        command = super().command()
        assert command.endswith(TEXT_FIRST), command
        return command.removesuffix(TEXT_FIRST) + PHOTO_FIRST


def backlog_sampler(redis_url: str, stop: threading.Event, rows: list[tuple]) -> None:
    """Every second: queued inbound/photo/outbound jobs, scheduled retries, replies sent."""
    from relay.db import session_scope
    from relay.models import InboundMessage, OutboundMessage

    redis = Redis.from_url(redis_url)
    inbound = Queue(INBOUND, connection=redis)
    photo = Queue(PHOTO, connection=redis)
    outbound = [Queue(name, connection=redis) for name in OUTBOUND_QUEUES]
    start = time.monotonic()
    while not stop.wait(1.0):
        with session_scope() as session:
            stored = session.scalar(select(func.count()).select_from(InboundMessage))
            sent = session.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.status == "sent")
            )
        scheduled = sum(ScheduledJobRegistry(queue=q).count for q in outbound)
        waiting = sum(q.count for q in outbound)
        rows.append(
            (time.monotonic() - start, stored, inbound.count, photo.count, waiting, scheduled, sent)
        )


def cpu_by_process(web: Gunicorn, workers: list[RqWorker], redis_pid: int) -> dict[str, float]:
    """CPU seconds so far (user + system, from /proc) of each process tree of the run: the
    web (gunicorn master and workers), each worker and its reader, the sender, Redis,
    and this process (the fake Twilio's threads, the backlog sampler, the drain's polling).
    The load generator, a child of this process, is counted apart (cpu_of_children); a
    reader replaced during the run is counted with its worker from then on (reaped)."""
    split = {"web": tree_cpu_seconds(web.proc.pid)}  # type: ignore[union-attr]
    for n, worker in enumerate(workers[:-1], 1):
        readers = [pid for pid in children_of(worker.pid) if _is_reader(pid)]
        reading = sum(tree_cpu_seconds(pid) for pid in readers)
        split[f"worker {n}"] = tree_cpu_seconds(worker.pid) - reading
        split[f"worker {n}'s reader"] = reading
    split["sender"] = tree_cpu_seconds(workers[-1].pid)
    split["redis"] = tree_cpu_seconds(redis_pid)
    mine = os.times()
    split["bench (fake Twilio, sampler)"] = mine.user + mine.system
    return split


def _is_reader(pid: int) -> bool:
    """Whether `pid` is a photo reader process (jobs.reader_process)."""
    try:
        return b"jobs.reader_process" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def cpu_of_children() -> float:
    """CPU seconds of this process's reaped children (the load generator, once joined)."""
    mine = os.times()
    return mine.children_user + mine.children_system


def print_cpu_split(before: dict[str, float], after: dict[str, float], seconds: float) -> None:
    total = sum(after[k] - before[k] for k in after)
    print(f"\nCPU by process tree over {seconds:.1f} s (load + drain), {total:.1f} CPU s:")
    for name in after:
        used = after[name] - before[name]
        print(
            f"  {name:30} {used:6.1f} s  {used / max(seconds, 1e-9):5.2f} cores  "
            f"{100 * used / max(total, 1e-9):4.0f}%"
        )


def wait_for_workers(redis_url: str, count: int, timeout: float = 60) -> None:
    """Until `count` workers have registered with Redis (imports done, ready to dequeue)."""
    from rq import Worker

    redis = Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while Worker.count(connection=redis) < count and time.monotonic() < deadline:
        time.sleep(0.1)


@dataclass(frozen=True)
class Photo:
    url: str  # where the fake Twilio serves it
    tps_code: str
    values: dict[str, int]  # what was written on the form


def photos_for(system: System, every: int, seed: int) -> dict[int, Photo]:
    """Request index → the photo its officer sends: one in `every`, PPWP for the officer's TPS."""
    if every <= 0:
        return {}
    from relay.db import session_scope
    from relay.models import Tps

    indexes = [i for i in range(len(system.officers)) if i % every == every // 2]
    codes = [system.officers[i].tps_code for i in indexes]
    with session_scope() as session:
        rows = session.execute(
            select(Tps.code, Tps.name, Tps.registered_voters).where(Tps.code.in_(codes))
        )
        tps = {code: TpsInfo(code, name, registered) for code, name, registered in rows}
    template = demo_templates()["PPWP"]
    made = _made_photos(template, [tps[code] for code in codes], seed)
    return {
        i: Photo(system.twilio.add_media(jpeg, "image/jpeg"), code, values)
        for i, code, (jpeg, values) in zip(indexes, codes, made, strict=True)
    }


def _made_photos(template, tps: list[TpsInfo], seed: int) -> list[tuple[bytes, dict[str, int]]]:  # type: ignore[no-untyped-def]
    """The photos (JPEG, numbers written) of these TPS' forms, made once (~0.7 s of CPU each)
    and kept in the temporary directory for the next run with the same forms and seed."""
    key = hashlib.sha256(
        pickle.dumps((template.version, [tuple(t.__dict__.values()) for t in tps], seed))
    ).hexdigest()[:16]
    kept = Path(tempfile.gettempdir()) / "relay-bench-photos" / f"{key}.pickle"
    if kept.exists():
        return pickle.loads(kept.read_bytes())  # type: ignore[no-any-return]  # our own file
    rng, source = np.random.default_rng(seed), uci_source(seed)
    made = [photo_of_filled_form(template, info, rng, source) for info in tps]
    kept.parent.mkdir(exist_ok=True)
    partial = kept.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(pickle.dumps(made))
    partial.replace(kept)
    return made


def print_photo_figures(
    system: System,
    photos: dict[int, Photo],
    acked: set[int],
    started_at: dict[int, float],
    replies: dict[str, list[float]],
) -> tuple[float, int]:
    """Latency to each of a photo's two replies, whether both came, and what was read; returns
    the reading's p95 (ms) and how many photos were not answered twice."""
    from relay.db import session_scope
    from relay.models import InboundMessage, Submission

    first, reading, answered = [], [], 0
    for i in acked:
        times = replies.get("whatsapp:" + system.officers[i].phone, [])
        if times:
            first.append((times[0] - started_at[i]) * 1000)
        if len(times) >= 2:
            reading.append((times[-1] - started_at[i]) * 1000)
        answered += len(times) == 2
    print(
        f"photo      received → first reply p50 {percentile(first, 50):6.0f} ms  "
        f"p95 {percentile(first, 95):6.0f} ms;  → reading sent p50 "
        f"{percentile(reading, 50):6.0f} ms  p95 {percentile(reading, 95):6.0f} ms  "
        f"p99 {percentile(reading, 99):6.0f} ms  max {max(reading, default=0):6.0f} ms"
    )
    with session_scope() as session:
        read = {
            sid: (votes, sah, ts)
            for sid, votes, sah, ts in session.execute(
                select(InboundMessage.provider_id, Submission.votes, Submission.sah, Submission.ts)
                .join(Submission, Submission.inbound_id == InboundMessage.id)
                .where(InboundMessage.channel == "whatsapp")
            )
        }
    exact = 0
    for i in acked:
        values = photos[i].values
        written = (
            {str(int(key)): values[key] for key in values if key.isdigit()},
            values["SAH"],
            values["TS"],
        )
        got = read.get(message_sid(i))
        exact += got is not None and ({str(k): v for k, v in got[0].items()}, *got[1:]) == written
    print(
        f"photo      {len(acked)} acked, {answered} answered with exactly 2 replies; "
        f"{len(read)} read into a pending tally, {exact} with every number as written"
    )
    return percentile(reading, 95), len(acked) - answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=120.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of load")
    parser.add_argument("--rq-workers", type=int, default=2, help="the Procfile's worker, N times")
    parser.add_argument(
        "--photo-first",
        type=int,
        default=1,
        help="of the workers, how many take the photo queue before the text one (the others "
        "take text first, as the Procfile's `worker`)",
    )
    parser.add_argument(
        "--photo-every", type=int, default=6, help="one request in N is a photo (0: none)"
    )
    parser.add_argument("--seed", type=int, default=5, help="for the photos")
    add_database_url(parser)
    parser.add_argument("--log", help="keep the web and worker processes' log in this file")
    args = parser.parse_args()
    count = int(args.rate * args.duration)
    host = "127.0.0.1"
    with running_system(officers=count, database_url=args.database_url) as system:
        started = time.monotonic()
        photos = photos_for(system, args.photo_every, args.seed)
        if photos:
            print(
                f"{len(photos)} photos of filled forms made in {time.monotonic() - started:.0f} s"
            )
        raws = [
            signed_twilio_request(host, officer, "", message_sid(i), photos[i].url)
            if i in photos
            else signed_twilio_request(host, officer, tally_text(officer, i), message_sid(i))
            for i, officer in enumerate(system.officers)
        ]
        log = (system.work / "processes.log").open("wb")
        photo_first = min(args.photo_first, args.rq_workers)
        workers = [PhotoFirstWorker(system.env, log=log) for _ in range(photo_first)]
        workers += [RqWorker(system.env, log=log) for _ in range(args.rq_workers - photo_first)]
        workers.append(RqWorker(system.env, log=log, process="sender"))  # the replies
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
                f"{count - len(photos)} SMS tallies and {len(photos)} WhatsApp photos at "
                f"{args.rate:.0f}/s for {args.duration:.0f} s; {args.rq_workers} workers "
                f"({photo_first} photo first, {args.rq_workers - photo_first} text first) and "
                "a sender; "
                f"database {system.database_url.split(':')[0]}"
            )
            cpu_before = cpu_by_process(web, workers, system.redis.proc.pid)  # type: ignore[union-attr]
            children_before, load_started = cpu_of_children(), time.monotonic()
            load_average = os.getloadavg()
            results = open_loop(host, web.port, raws, args.rate)
            load_cpu = cpu_of_children() - children_before
            acked = {message_sid(r.index): r for r in results if r.status == 200}
            photo_acked = {r.index for r in results if r.status == 200 and r.index in photos}
            # A photo is answered twice: "received, reading…", then the reading.
            waited = wait_drained(len(acked) + len(photo_acked), timeout=600)
            cpu_after = cpu_by_process(web, workers, system.redis.proc.pid)  # type: ignore[union-attr]
            cpu_before["load generator"], cpu_after["load generator"] = 0.0, load_cpu
            elapsed = time.monotonic() - load_started
            stop.set()
            sampler.join()
        for worker in workers:
            worker.stop()
        log.close()
        if args.log:
            shutil.copyfile(system.work / "processes.log", args.log)

        print_cpu_split(cpu_before, cpu_after, elapsed)
        print(
            "load average "
            + " ".join(f"{x:.1f}" for x in load_average)
            + " before the load, "
            + " ".join(f"{x:.1f}" for x in os.getloadavg())
            + " at the end"
        )
        print(
            "\n   t (s)  stored  inbound queue  photo queue  outbound queue  retries  replies sent"
        )
        for t, stored, inbound, photo, outbound, scheduled, sent in rows:
            print(
                f"{t:8.0f} {stored:7} {inbound:14} {photo:12} {outbound:15} {scheduled:8} {sent:13}"
            )

        replies: dict[str, list[float]] = {}
        for request in system.twilio.requests:
            if request.status == 201 and request.form:
                replies.setdefault(request.form["To"][-1], []).append(request.at)
        phone_of = {
            message_sid(i): o.phone for i, o in enumerate(system.officers) if i not in photos
        }
        latencies = [
            (replies[phone_of[sid]][0] - r.started) * 1000
            for sid, r in acked.items()
            if phone_of.get(sid) in replies
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
        photo_p95, photos_unanswered = 0.0, 0
        if photos:
            started_at = {r.index: r.started for r in results}
            photo_p95, photos_unanswered = print_photo_figures(
                system, photos, photo_acked, started_at, replies
            )
        sent_to = [str(m["To"]) for m in system.twilio.sent_messages()]
        sms_acked = {sid: phone_of[sid] for sid in acked if sid in phone_of}
        result = account("twilio", sms_acked, sent_to)
        print(f"loss       SMS: {result.line()}")
        lost = result.lost + photos_unanswered + (count - len(acked))
        print(
            f"goals      photo → reading p95 ≤ 3 s: {'met' if photo_p95 <= 3000 else 'MISSED'} "
            f"({photo_p95 / 1000:.1f} s); nothing lost: {'met' if not lost else 'MISSED'} "
            f"({lost} lost or refused of {count})"
        )


if __name__ == "__main__":
    main()
