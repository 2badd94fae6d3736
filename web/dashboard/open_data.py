"""Open data: every TPS of a contest, nationally or in one region, as one streamed CSV row
each (docs/OPEN-DATA.md documents the columns).

Rows are written as they are read: the TPS in code order merged with the contest's tallies
in the same order (both ranges of an index), so a national file of 823,000 TPS needs neither
the memory nor the time to build it first. The status is the public page's (web.public).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay import results
from relay.ballots import SECTION_KEYS
from relay.models import AreaCandidate, Contest, Submission, TallyEvidence, Tps
from web.public import tps_status

BATCH = 5000
KEPT = ("confirmed", "pending", "rejected")  # what tps_status reads


def numbers_of_contest(db: Session, contest: Contest) -> list[int]:
    """Every ballot number the contest's rows may carry (regional: any area's)."""
    numbers = {c.ballot_number for c in contest.candidates}
    numbers |= set(
        db.scalars(
            select(AreaCandidate.ballot_number).where(AreaCandidate.contest_code == contest.code)
        )
    )
    return sorted(numbers)


def header(numbers: list[int]) -> list[str]:
    return [
        "contest", "tps_code", "tps_name", "village_code", "registered_voters", "status",
        "receipt_code", "source", "confirmed_at", "sah", "ts",
        *[f"{n:02d}" for n in numbers], *SECTION_KEYS, "photo_url",
    ]


def _range(column, prefix: str):  # type: ignore[no-untyped-def]
    """`column` starts with `prefix`, as a range an index can serve."""
    if not prefix:
        return column.is_not(None)
    return column.between(prefix, prefix + "\uffff")


def rows(
    db: Session, contest: Contest, region: str, base_url: str, numbers: list[int]
) -> Iterator[list[object]]:
    """One row per TPS on the contest's ballot within `region`; `numbers` as in the header."""
    scope = contest.region_scope or []
    evidence = dict(
        db.execute(
            select(TallyEvidence.submission_id, TallyEvidence.id)
            .join(Submission, Submission.id == TallyEvidence.submission_id)
            .where(Submission.contest_code == contest.code, _range(Submission.tps_code, region))
            .order_by(TallyEvidence.id.desc())
        ).all()
    )  # the first evidence photo of each tally
    stations = db.execute(
        select(Tps.code, Tps.name, Tps.village_code, Tps.registered_voters)
        .where(_range(Tps.code, region))
        .order_by(Tps.code)
        .execution_options(yield_per=BATCH)
    )
    tallies = iter(
        db.scalars(
            select(Submission)
            .where(
                Submission.contest_code == contest.code,
                Submission.training.is_(False),
                Submission.status.in_(KEPT),
                _range(Submission.tps_code, region),
            )
            .order_by(Submission.tps_code, Submission.id)
            .execution_options(yield_per=BATCH)
        )
    )
    pending_tally = next(tallies, None)
    for code, name, village, registered in stations:
        mine: list[Submission] = []
        while pending_tally is not None and pending_tally.tps_code <= code:
            if pending_tally.tps_code == code:
                mine.append(pending_tally)
            pending_tally = next(tallies, None)
        if scope and not any(code.startswith(prefix) for prefix in scope):
            continue  # this contest is not on this TPS's ballot
        confirmed = next((s for s in mine if s.status == "confirmed"), None)
        row: list[object] = [contest.code, code, name, village, registered, tps_status(mine)]
        if confirmed is None:
            yield [*row, *[""] * (6 + len(numbers) + len(SECTION_KEYS))]
            continue
        votes = confirmed.votes_by_ballot()
        sections = results.sections_of(confirmed)
        yield [
            *row,
            confirmed.receipt_code,
            confirmed.source,
            _iso(confirmed.decided_at),
            confirmed.sah,
            confirmed.ts,
            *[votes.get(n, "") if votes else "" for n in numbers],
            *[sections.get(key, "") for key in SECTION_KEYS],
            _photo_url(base_url, confirmed, evidence.get(confirmed.id)),
        ]


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _photo_url(base_url: str, tally: Submission, evidence_id: int | None) -> str:
    if tally.source == "photo":
        return f"{base_url}/tps/{tally.tps_code}/photo/{tally.id}/0"
    if evidence_id is not None:
        return f"{base_url}/tps/{tally.tps_code}/evidence/{evidence_id}"
    return ""


def stream(db: Session, contest: Contest, region: str, base_url: str) -> Iterator[str]:
    """The CSV text in chunks of about BATCH rows."""
    numbers = numbers_of_contest(db, contest)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header(numbers))
    for count, row in enumerate(rows(db, contest, region, base_url, numbers), start=1):
        writer.writerow(row)
        if count % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
