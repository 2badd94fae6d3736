"""What is published is what the record says: each confirmed tally, as the audit log last
recorded it.

The audit chain proves the log was not rewritten, and `results verify` that the totals add up
the confirmed tallies; neither notices a tally itself edited behind the application's back.
The app's own database role may UPDATE `submissions` (it must, to run), so whoever holds it
could change a confirmed tally's numbers, confirm another tally in its place or withdraw it,
then rebuild the totals: the chain stays intact and the totals agree.

So every step that makes a tally public or changes a public tally — the officer's `YA`
(`tally_confirmed`), an accepted conflict (`conflict_accepted`), an approved change
(`tally_changed`) — writes into its audit entry the tally's TPS, contest and whole form
(`published`, `entry()`). `check()` then compares, per TPS and contest, the newest such entry
with the tally confirmed now: the same tally, the same numbers; and a TPS and contest the
record published must still have a confirmed tally. `bin/relay audit verify` runs it.
Training tallies (the simulator's) are never published and never recorded so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from relay.audit import normalise_detail
from relay.locks import read_snapshot
from relay.models import AuditEntry, Submission

KEY = "published"
ACTIONS = ("tally_confirmed", "conflict_accepted", "tally_changed")


def publishes(action: str, detail: Mapping[str, Any] | None) -> bool:
    """Whether an audit entry of a tally (entity `submission`) made its numbers public: the
    officer's `YA`, an accepted conflict, or a change to a confirmed tally. An operator's
    correction of a pending tally (`tally_changed` with status pending) publishes nothing:
    the public pages keep that tally's numbers withheld (web.public.tps_view)."""
    if action not in ACTIONS:
        return False
    if action != "tally_changed":
        return True
    detail = detail or {}
    return KEY in detail or detail.get("status") == "confirmed"


def form_of(submission: Any) -> dict[str, Any]:
    """Every number of the tally as stored (a party's own votes, its candidates' votes, the
    C.Hasil sections, SAH and TS). From a row read back, JSON's own types already."""
    return {
        "votes": submission.votes,
        "candidate_votes": submission.candidate_votes or {},
        "sections": submission.sections or {},
        "sah": submission.sah,
        "ts": submission.ts,
    }


def entry(submission: Submission) -> dict[str, Any]:
    """What an audit entry that publishes `submission` (or changes it, published) adds to
    its detail; {} for a training tally."""
    if submission.training:
        return {}
    return {
        KEY: {
            "tps": submission.tps_code,
            "contest": submission.contest_code,
            "form": normalise_detail(form_of(submission)),  # as the log will give it back
        }
    }


@dataclass(frozen=True)
class Mismatch:
    contest_code: str
    tps_code: str
    problem: str

    def __str__(self) -> str:
        return f"{self.contest_code} TPS {self.tps_code}: {self.problem}"


def _latest_published() -> Any:
    """Per TPS and contest, the id of the newest audit entry that published a tally there."""
    tps = AuditEntry.detail[(KEY, "tps")].as_string()
    contest = AuditEntry.detail[(KEY, "contest")].as_string()
    return (
        select(tps.label("tps"), contest.label("contest"), func.max(AuditEntry.id).label("id"))
        .where(AuditEntry.action.in_(ACTIONS), tps.is_not(None))
        .group_by(tps, contest)
        .subquery()
    )


def check(session: Session) -> Iterator[Mismatch]:
    """Every confirmed tally that is not what the record last published, and every TPS and
    contest the record published that has no confirmed tally now. Read from one snapshot
    (a fresh session), so a tally confirmed meanwhile is seen with its entry or not at all."""
    read_snapshot(session)
    latest = _latest_published()
    tallies = Submission.__table__.c  # plain rows: no ORM objects for a whole country
    confirmed = select(
        tallies.id,
        tallies.receipt_code,
        tallies.tps_code,
        tallies.contest_code,
        tallies.votes,
        tallies.candidate_votes,
        tallies.sections,
        tallies.sah,
        tallies.ts,
    ).where(tallies.status == "confirmed", tallies.training.is_(False))
    rows = session.execute(
        confirmed.add_columns(AuditEntry.entity_id, AuditEntry.detail)
        .select_from(Submission.__table__)
        .outerjoin(
            latest,
            and_(
                latest.c.tps == tallies.tps_code, latest.c.contest == tallies.contest_code
            ),
        )
        .outerjoin(AuditEntry, AuditEntry.id == latest.c.id)
        .order_by(tallies.contest_code, tallies.tps_code, tallies.id)
        .execution_options(yield_per=1000)
    )
    for tally in rows:
        recorded_id, detail = tally.entity_id, tally.detail
        where = (tally.contest_code, tally.tps_code)
        if recorded_id is None:
            yield Mismatch(*where, f"{tally.receipt_code} is confirmed, the record never "
                                   "published a tally here")  # fmt: skip
        elif recorded_id != str(tally.id):
            yield Mismatch(*where, f"{tally.receipt_code} is confirmed, the record published "
                                   f"tally #{recorded_id}")  # fmt: skip
        elif detail[KEY]["form"] != form_of(tally):
            changed = _differences(detail[KEY]["form"], form_of(tally))
            yield Mismatch(*where, f"{tally.receipt_code} differs from the record: {changed}")
    withdrawn = (
        select(latest.c.tps, latest.c.contest, AuditEntry.entity_id)
        .join(AuditEntry, AuditEntry.id == latest.c.id)
        .outerjoin(
            Submission,
            and_(
                Submission.tps_code == latest.c.tps,
                Submission.contest_code == latest.c.contest,
                Submission.status == "confirmed",
                Submission.training.is_(False),
            ),
        )
        .where(Submission.id.is_(None))
        .order_by(latest.c.contest, latest.c.tps)
    )
    for tps, contest, recorded_id in session.execute(withdrawn):
        yield Mismatch(contest, tps, f"the record published tally #{recorded_id}, none is "
                                     "confirmed now")  # fmt: skip


def _differences(recorded: dict[str, Any], stored: dict[str, Any]) -> str:
    """`sah 255 → 265, votes 01 120 → 130`: what differs, recorded → stored."""
    parts = []
    for field in ("votes", "candidate_votes", "sections", "sah", "ts"):
        was, now = recorded.get(field), stored.get(field)
        if isinstance(was, dict) and isinstance(now, dict):
            for key in sorted(set(was) | set(now)):
                if was.get(key) != now.get(key):
                    parts.append(f"{field} {key} {was.get(key)} → {now.get(key)}")
        elif was != now:
            parts.append(f"{field} {was} → {now}")
    return ", ".join(parts)


APPROVAL_ACTIONS = ("change_proposed", "change_approved")


def unproposed_approvals(session: Session) -> Iterator[str]:
    """Every approval of a change to a public tally that the log does not show proposed by
    another operator, with the numbers approved. A proposal written straight into
    `tally_changes` (the app's role may) and approved by its own author would otherwise
    read as two people's work."""
    proposals: dict[object, tuple[str, object]] = {}
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.action, AuditEntry.actor, AuditEntry.detail)
        .where(AuditEntry.action.in_(APPROVAL_ACTIONS))
        .order_by(AuditEntry.id)
    )
    for entry_id, action, actor, detail in rows:
        change = detail.get("change")
        if action == "change_proposed":
            proposals[change] = (actor, detail.get("after"))
            continue
        where = f"entry #{entry_id}: change #{change} approved by {actor}"
        proposed = proposals.pop(change, None)
        if proposed is None:
            yield f"{where}, never proposed"
        elif proposed[0] == actor:
            yield f"{where}, who proposed it"
        elif proposed[0] != f"operator:{detail.get('proposed_by')}":
            yield f"{where}, proposed by {proposed[0]}, not {detail.get('proposed_by')}"
        elif proposed[1] != detail.get("after"):
            yield f"{where}: the numbers approved are not the ones proposed"
