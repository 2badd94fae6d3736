"""What `audit verify`'s check of the published tallies (relay.published) costs.

    .venv/bin/python bench/published_check.py [--tallies 100000] [--database-url URL]

Stores N confirmed PPWP tallies (one TPS each), each with its `tally_received` and
`tally_confirmed` entries as the pipeline writes them (the latter carrying the published
form), in a fresh SQLite file (or the given migrated, empty database); then times the walk
of the chain (relay.audit_verify) and the published check, three rounds each. Prints the
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchkit.options import MIGRATED, add_database_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BATCH = 5000


def build(url: str, tallies: int) -> None:
    from sqlalchemy import insert

    from relay import published
    from relay.audit import record
    from relay.db import session_scope
    from relay.models import Contest, InboundMessage, Officer, Region, Submission, Tps

    with session_scope(url) as session:
        session.execute(insert(Region), [
            {"code": "11", "name": "P", "level": "province", "parent_code": None},
            {"code": "1101", "name": "R", "level": "regency", "parent_code": "11"},
            {"code": "110101", "name": "D", "level": "district", "parent_code": "1101"},
            {"code": "1101011001", "name": "V", "level": "village", "parent_code": "110101"},
        ])  # fmt: skip
        session.add(Contest(code="PPWP", name="Presiden", kind="candidates", region_scope=[]))
        session.add(Officer(phone="+6281100000000", name="PPS", role="pps",
                            village_code="1101011001"))  # fmt: skip
    for start in range(0, tallies, BATCH):
        numbers = range(start, min(start + BATCH, tallies))
        with session_scope(url) as session:
            officer_id = session.query(Officer.id).scalar()
            session.execute(insert(Tps), [
                {"code": f"1101011{n:06d}", "name": f"TPS {n}", "village_code": "1101011001",
                 "registered_voters": 300} for n in numbers
            ])  # fmt: skip
            session.execute(insert(InboundMessage), [
                {"id": n + 1, "channel": "sms-gateway", "provider_id": f"b-{n}",
                 "sender": "+6281100000000", "payload": "{}", "status": "processed"}
                for n in numbers
            ])  # fmt: skip
            rows = [
                {"id": n + 1, "receipt_code": f"R{n:07d}", "tps_code": f"1101011{n:06d}",
                 "contest_code": "PPWP", "officer_id": officer_id, "inbound_id": n + 1,
                 "votes": {"1": 100 + n % 50, "2": 90, "3": 40}, "candidate_votes": {},
                 "sections": {"DPT": 280, "PHP": 235 + n % 50}, "sah": 230 + n % 50, "ts": 5,
                 "status": "confirmed"}
                for n in numbers
            ]  # fmt: skip
            session.execute(insert(Submission), rows)
            for row in rows:
                tally = Submission(**row)
                record(session, "officer:1", "tally_received", "submission", row["id"],
                       {"receipt": row["receipt_code"], "values": "…"})  # fmt: skip
                record(session, "officer:1", "tally_confirmed", "submission", row["id"],
                       {"receipt": row["receipt_code"], **published.entry(tally)})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tallies", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    add_database_url(parser, MIGRATED)
    args = parser.parse_args()

    from sqlalchemy.orm import Session

    from relay import published
    from relay.audit_verify import verify
    from relay.db import get_engine
    from relay.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        start = time.perf_counter()
        build(url, args.tallies)
        took = time.perf_counter() - start
        print(f"{get_engine(url).dialect.name}: {args.tallies} confirmed tallies, "
              f"{2 * args.tallies} audit entries stored in {took:.1f} s")  # fmt: skip
        chain, check = [], []
        for _ in range(args.rounds):  # alternated, so both meet the same machine load
            start = time.perf_counter()
            with get_engine(url).connect() as conn:
                assert verify(conn).intact
            chain.append(time.perf_counter() - start)
            start = time.perf_counter()
            with Session(get_engine(url)) as session:
                assert list(published.check(session)) == []
            check.append(time.perf_counter() - start)
        load = os.getloadavg()[0]
        print(f"chain walk: median {statistics.median(chain):.2f} s "
              f"({', '.join(f'{t:.2f}' for t in chain)})")  # fmt: skip
        print(f"published check: median {statistics.median(check):.2f} s "
              f"({', '.join(f'{t:.2f}' for t in check)}); load average {load:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
