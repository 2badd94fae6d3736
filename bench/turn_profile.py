"""Profile one text message through the worker's job functions, in this process.

    .venv/bin/python bench/turn_profile.py [--messages 600] [--warm 100] [--top 40]
                                           [--sql] [--plain] [--database-url URL]

Stores signed-free SMS tallies (one per generated officer) through relay.intake.accept, then
calls jobs.inbound.process_inbound and the send job (jobs.outbound.send_outbound, against the
fake Twilio) for each, after `--warm` messages of warm-up, under cProfile. Prints CPU per
message for each job (the bench's own read of the replies' ids between the two jobs is
counted in neither, and its SQL is listed as "bench"), SQL statements per job (`--sql`),
and the profile's top functions.
"""

from __future__ import annotations

import argparse
import os
import pstats
import time
from collections import Counter

from benchkit.options import add_database_url
from benchkit.profiling import cpu_profiled
from benchkit.system import message_sid, running_system, tally_text
from sqlalchemy import event, select


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--warm", type=int, default=100)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sql", action="store_true", help="count SQL statements per job")
    add_database_url(parser)
    parser.add_argument(
        "--plain",
        action="store_true",
        help="every message without cProfile (to sample with py-spy record --gil instead)",
    )
    args = parser.parse_args()
    with running_system(officers=args.messages, database_url=args.database_url) as system:
        os.environ.update(system.env)
        from channels.base import Incoming
        from jobs.inbound import process_inbound
        from jobs.outbound import send_outbound
        from relay.config import settings_frozen
        from relay.db import get_engine, session_scope
        from relay.intake import accept
        from relay.models import OutboundMessage

        incoming = [
            Incoming("twilio", message_sid(i), o.phone, tally_text(o, i), "{}")
            for i, o in enumerate(system.officers)
        ]
        ids = [i for i, _ in accept(incoming)]
        statements: Counter[str] = Counter()
        current = ["-"]

        def count(_conn, _cursor, statement, *_a) -> None:
            statements[current[0]] += 1
            statements[current[0] + ": " + statement.split("\n")[0][:90]] += 1

        if args.sql:
            event.listen(get_engine(), "before_cursor_execute", count)

        spent = {"inbound": 0.0, "send": 0.0}  # CPU seconds of each job, in its own thread

        def one(inbound_id: int) -> None:
            current[0] = "inbound"
            started = time.thread_time()
            process_inbound(inbound_id)
            spent["inbound"] += time.thread_time() - started
            current[0] = "bench"  # this bench's own read, not the job's
            with session_scope() as session:
                out = session.scalars(
                    select(OutboundMessage.id).where(OutboundMessage.inbound_id == inbound_id)
                ).all()
            current[0] = "send"
            started = time.thread_time()
            for outbound_id in out:
                send_outbound(outbound_id)
            spent["send"] += time.thread_time() - started
            current[0] = "-"

        frozen = settings_frozen()  # as the worker runs its jobs (jobs.scheduling)
        frozen.__enter__()
        for inbound_id in ids[: args.warm]:
            one(inbound_id)
        statements.clear()
        spent.update(inbound=0.0, send=0.0)
        half = len(ids) - args.warm if args.plain else (len(ids) - args.warm) // 2
        plain, rest = ids[args.warm : args.warm + half], ids[args.warm + half :]
        cpu, own = time.process_time(), time.thread_time()
        for inbound_id in plain:
            one(inbound_id)
        cpu, own = time.process_time() - cpu, time.thread_time() - own
        print(
            f"{len(plain)} messages: {cpu * 1000 / len(plain):.2f} ms CPU per message "
            f"(inbound + send jobs, the fake Twilio's threads included; "
            f"{own * 1000 / len(plain):.2f} ms in the jobs' own thread: inbound job "
            f"{spent['inbound'] * 1000 / len(plain):.2f} ms, send job "
            f"{spent['send'] * 1000 / len(plain):.2f} ms), no profiler"
        )
        if args.plain:
            return
        statements.clear()
        cpu, profile = cpu_profiled(one, rest)
        n = len(rest)
        print(f"{n} messages: {cpu * 1000 / n:.2f} ms CPU per message under cProfile")
        stats = pstats.Stats(profile)
        for name in ("process_inbound", "send_outbound"):
            for func, row in stats.stats.items():  # type: ignore[attr-defined]
                if func[2] == name:
                    print(f"  {name}: {row[3] * 1000 / n:.2f} ms cumulative per message")
        frozen.__exit__(None, None, None)
        if args.sql:
            for key, calls in sorted(statements.items()):
                print(f"  sql {calls / n:5.2f}  {key}")
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
