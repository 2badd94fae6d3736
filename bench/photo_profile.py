"""Profile a photo tally through the worker's job functions, in this process, the reading in
a reader process (jobs.reader_process) as the worker does it.

    .venv/bin/python bench/photo_profile.py [--photos 60] [--warm 10] [--top 40]
                                            [--database-url URL]

WhatsApp photos of hand-filled PPWP forms (bench/benchkit/forms.py) hosted by the fake
Twilio are stored through relay.intake.accept; then, for each, the jobs the worker and the
sender run: the conversation turn (jobs.inbound.process_inbound), the download into the
photo store (jobs.media.fetch_media, which reads the photos too when this process has a
reader), the reading (jobs.photo.read_photos, when the download left it to a job of its own)
and the sends of both replies (jobs.outbound.send_outbound). Prints, per photo, the CPU of
this thread (the jobs; the fake Twilio's threads are not counted) per job, the reader
process's CPU (from /proc), and the profile's top functions by this thread's CPU.
"""

from __future__ import annotations

import argparse
import os
import pstats
import time
from collections import defaultdict
from pathlib import Path

from benchkit.options import add_database_url
from benchkit.system import WHATSAPP_NUMBER, message_sid, running_system
from e2e import photos_for
from sqlalchemy import select

TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--seed", type=int, default=11)
    add_database_url(parser)
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the start")
    with running_system(officers=args.photos, database_url=args.database_url) as system:
        os.environ.update(system.env)
        import jobs.worker  # noqa: F401  (what the worker preloads and warms)
        from channels.base import Incoming
        from jobs import reader_process
        from jobs.inbound import process_inbound
        from jobs.media import fetch_media
        from jobs.outbound import send_outbound
        from jobs.photo import read_photos
        from relay.config import settings_frozen
        from relay.db import session_scope
        from relay.intake import accept
        from relay.models import InboundMessage, OutboundMessage

        photos = photos_for(system, 1, args.seed)
        incoming = [
            Incoming(
                "whatsapp",
                message_sid(i),
                o.phone,
                "",
                "{}",
                media=[{"url": photos[i].url, "content_type": "image/jpeg"}],
            )
            for i, o in enumerate(system.officers)
        ]
        ids = [i for i, _ in accept(incoming)]
        assert WHATSAPP_NUMBER
        reader = reader_process.start_reader()
        per_job: dict[str, float] = defaultdict(float)

        def sends(inbound_id: int) -> None:
            with session_scope() as session:
                out = session.scalars(
                    select(OutboundMessage.id).where(
                        OutboundMessage.inbound_id == inbound_id,
                        OutboundMessage.status != "sent",
                    )
                ).all()
            for outbound_id in out:
                send_outbound(outbound_id)

        def waits_for_reading(inbound_id: int) -> bool:
            """Whether the message still waits for its reading job (the download job of a
            worker with a reader reads the photos itself: jobs.media)."""
            with session_scope() as session:
                return session.get_one(InboundMessage, inbound_id).follow_up == "photo"

        def one(inbound_id: int) -> None:
            for name, job in (
                ("turn", process_inbound),
                ("send 1", sends),
                ("fetch", fetch_media),
                ("read", read_photos),
                ("send 2", sends),
            ):
                if job is read_photos and not waits_for_reading(inbound_id):
                    continue  # read by the fetch job; this check is counted in neither
                cpu = time.thread_time()
                job(inbound_id)
                per_job[name] += time.thread_time() - cpu

        with settings_frozen():  # as the worker runs its jobs (jobs.scheduling)
            for inbound_id in ids[: args.warm]:
                one(inbound_id)
            per_job.clear()
            rest = ids[args.warm :]
            half = len(rest) // 2
            plain, profiled = rest[:half], rest[half:]
            reader_cpu, cpu = process_cpu(reader.pid or 0), time.thread_time()
            for inbound_id in plain:
                one(inbound_id)
            cpu, reader_cpu = time.thread_time() - cpu, process_cpu(reader.pid or 0) - reader_cpu
            n = len(plain)
            print(
                f"{n} photos: {cpu * 1000 / n:.1f} ms CPU per photo in the jobs' thread "
                f"(no profiler), the reader process {reader_cpu * 1000 / n:.1f} ms"
            )
            for name, seconds in per_job.items():
                print(f"  {name:7} {seconds * 1000 / n:6.1f} ms")
            profile = __import__("cProfile").Profile(time.thread_time)
            profile.enable()
            for inbound_id in profiled:
                one(inbound_id)
            profile.disable()
        reader_process.stop_reader()
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
