"""Public views of the results, shared by the dashboard pages and the JSON API.

Only what may be published: regions, TPS, contests, numbers, statuses, receipt codes and
times. Never an officer's name, phone number or message text.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay import results
from relay.audit import GENESIS
from relay.ballots import (
    BALLOT_KEYS,
    DISABLED_KEYS,
    PARTIES,
    VOTER_KEYS,
    Ballot,
    Listed,
    ballot_for,
    listed,
)
from relay.models import (
    AuditEntry,
    Contest,
    InboundMessage,
    PartyCandidate,
    Region,
    ReviewItem,
    Submission,
    TallyEvidence,
    Tps,
    as_utc,
)
from relay.published import publishes
from web.common import WIB

# The C.Hasil's sections as the public pages group them (labels: web.i18n "sec_<KEY>").
SECTION_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("turnout", (*VOTER_KEYS, *DISABLED_KEYS)),
    ("ballots", BALLOT_KEYS),
)
# A tally whose latest version carries one of these reasons failed the form's rules.
FAILED_REASONS = ("checks_failed",)
# The number fields of a tally in the JSON: null while its numbers are withheld.
NUMBER_FIELDS = ("votes", "own_votes", "candidate_votes", "sections", "sah", "ts")
# Why an unpublished tally's numbers are withheld, per status (labels: web.i18n).
WITHHELD = {
    "pending": "withheld_pending",
    "rejected": "withheld_rejected",
    "superseded": "withheld_superseded",
}


def breadcrumbs(db: Session, code: str) -> list[Region]:
    prefixes = [code[:n] for n in results.LEVEL_LENGTHS if n <= len(code)]
    found = {r.code: r for r in db.scalars(select(Region).where(Region.code.in_(prefixes)))}
    return [found[p] for p in prefixes if p in found]


def tps_status(submissions: list[Submission]) -> str:
    """confirmed | conflict | received | missing, for one TPS and contest."""
    if any(s.status == "confirmed" for s in submissions):
        if any(s.reason == "locked_conflict" for s in submissions):
            return "conflict"
        return "confirmed"
    if any(s.status == "pending" for s in submissions):
        return "received"
    return "missing"


def region_view(db: Session, contest: Contest, code: str) -> dict[str, Any] | None:
    results.ensure_region_stats(db)
    if code:
        region = db.get(Region, code)
        if region is None or not results.applies(contest, code):
            return None
        name, level = region.name, region.level
    else:
        name, level = "Indonesia", "national"
    area = results.area(db, contest, code, name)
    children: list[Any]
    if level == "village":
        children = _tps_rows(db, contest, code)
    else:
        regions = results.children_of(db, code)
        children = results.areas(db, contest, [(r.code, r.name, r.level) for r in regions])
    return {
        "area": area,
        "level": level,
        "breadcrumbs": breadcrumbs(db, code) if code else [],
        "children": children,
        # Regional contests: the list of the area the region lies in (none when it spans
        # several: `areas` then holds each area's results).
        "candidates": [Listed(n, name) for n, name in sorted(area.names.items())]
        if area.regional
        else list(contest.candidates),
        "areas": area.area_results or [],
        "sections": section_rows(area.sections, area.sections_reported),
        "turnout": turnout(area.sections, area.sections_reported),
        "parties": party_rows(
            contest,
            area.votes,
            area.own_votes(),
            area.candidate_votes,
            _candidate_names(db, contest, area.dapil),
        )
        if area.party_contest
        else [],
    }


def _candidate_names(
    db: Session, contest: Contest, dapil: str | None
) -> dict[tuple[int, int], str]:
    if dapil is None:
        return {}
    return {
        (row.party_number, row.candidate_number): row.name
        for row in db.scalars(
            select(PartyCandidate).where(
                PartyCandidate.contest_code == contest.code, PartyCandidate.dapil_code == dapil
            )
        )
    }


def section_rows(
    values: dict[str, int], reported: dict[str, int] | None = None
) -> list[dict[str, Any]]:
    """The sections given, grouped as on the form: [{group, rows: [{key, value, tps}]}]."""
    groups = []
    placed: set[str] = set()
    for group, keys in SECTION_GROUPS:
        rows = [
            {"key": key, "value": values[key], "tps": (reported or {}).get(key)}
            for key in keys
            if key in values
        ]
        placed.update(keys)
        if rows:
            groups.append({"group": group, "rows": rows})
    others = [
        {"key": key, "value": values[key], "tps": (reported or {}).get(key)}
        for key in sorted(values)
        if key not in placed
    ]
    if others:
        groups.append({"group": "other", "rows": others})
    return groups


def party_rows(
    contest: Contest,
    totals: dict[int, int],
    own: dict[int, int],
    candidate_votes: dict[tuple[int, int], int],
    names: dict[tuple[int, int], str],
) -> list[dict[str, Any]]:
    """Per party: its own votes, its candidates' (named where known) and its total."""
    rows = []
    for party in contest.candidates:
        number = party.ballot_number
        numbers = sorted(
            {k for (p, k) in candidate_votes if p == number}
            | {k for (p, k) in names if p == number}
        )
        rows.append(
            {
                "number": number,
                "name": party.name,
                "own": own.get(number, 0),
                "total": totals.get(number, 0),
                "candidates": [
                    {
                        "number": k,
                        "name": names.get((number, k), ""),
                        "votes": candidate_votes.get((number, k), 0),
                    }
                    for k in numbers
                ],
            }
        )
    return rows


def tally_detail(ballot: Ballot | None, contest: Contest, tally: Submission) -> dict[str, Any]:
    """One tally's every section, and for party contests each party's own, candidates' and
    total votes with the candidates' names of the TPS's dapil."""
    names = ballot.candidate_names if ballot is not None else {}
    return {
        "sections": section_rows(results.sections_of(tally)),
        "parties": party_rows(
            contest,
            tally.votes_by_ballot(),
            tally.own_votes_by_ballot(),
            tally.candidate_votes_by_number(),
            names,
        )
        if contest.kind == PARTIES
        else [],
    }


def checks(latest: Submission | None, items: list[ReviewItem]) -> dict[str, Any] | None:
    """Why the latest tally of a TPS and contest is held: the rules it failed (from its
    reason and the review items' detail) and the kinds of open review; None when clean."""
    rules: list[str] = []
    kinds: list[str] = []
    for item in items:
        kinds.append(item.kind)
        for rule in (item.detail or {}).get("rules") or []:
            if str(rule) not in rules:
                rules.append(str(rule))
    failed = latest is not None and latest.reason in FAILED_REASONS
    if not (failed or kinds):
        return None
    return {
        "failed": failed,
        "rules": rules,
        "review": sorted(set(kinds)),
        "receipt": latest.receipt_code if latest is not None else None,
    }


def _tps_rows(db: Session, contest: Contest, village: str) -> list[dict[str, Any]]:
    stations = [
        s
        for s in db.scalars(select(Tps).where(Tps.village_code == village).order_by(Tps.code))
        if contest.applies_to(s.code)
    ]
    by_tps: dict[str, list[Submission]] = {s.code: [] for s in stations}
    for submission in db.scalars(
        select(Submission)
        .where(
            Submission.contest_code == contest.code,
            Submission.tps_code.in_(list(by_tps)),
            Submission.training.is_(False),  # the simulator's tallies are never public
        )
        .order_by(Submission.id)
    ):
        by_tps[submission.tps_code].append(submission)
    rows = []
    for station in stations:
        mine = by_tps[station.code]
        rows.append(
            {
                "code": station.code,
                "name": station.name,
                "registered_voters": station.registered_voters,
                "status": tps_status(mine),
                "confirmed": next((s for s in mine if s.status == "confirmed"), None),
            }
        )
    return rows


def _photo_indexes(db: Session, submission: Submission) -> list[int]:
    inbound = db.get(InboundMessage, submission.inbound_id)
    return [
        i
        for i, item in enumerate((inbound.media if inbound else None) or [])
        if isinstance(item, dict) and item.get("key")
    ]


def evidence_of(db: Session, submission: Submission) -> list[TallyEvidence]:
    """Photos sent after the tally was confirmed that agree with it (bots.evidence)."""
    return list(
        db.scalars(
            select(TallyEvidence)
            .where(TallyEvidence.submission_id == submission.id)
            .order_by(TallyEvidence.id)
        )
    )


def photos_json(code: str, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The photos behind a TPS's published tally: the one it was read from (if any), then
    the evidence sent after it was confirmed; links to the public image routes: `url` the
    photo as sent, `upright_url` the page upright and straightened (web.dashboard.photos)."""
    confirmed = entry["confirmed"]
    if confirmed is None:
        return []
    photos = [
        {"kind": "tally", "url": f"/tps/{code}/photo/{confirmed.id}/{index}",
         "upright_url": f"/tps/{code}/photo/{confirmed.id}/{index}/upright"}
        for index in entry["photos"]
    ]
    photos += [
        {"kind": "evidence", "id": e.id, "page": e.page, "url": f"/tps/{code}/evidence/{e.id}",
         "upright_url": f"/tps/{code}/evidence/{e.id}/upright",
         "received_at": _iso(e.created_at)}
        for e in entry["evidence"]
    ]
    return photos


def _public_event(entry: AuditEntry) -> dict[str, Any]:
    """An audit entry as the public may see it: what and when, not who."""
    by = "officer" if entry.actor.startswith("officer:") else "help_desk"
    if entry.actor == "system":
        by = "system"
    return {"action": entry.action, "at": entry.at, "by": by}


def audit_head(db: Session) -> dict[str, Any]:
    """The newest audit entry as an anchor anyone may note: its position, hash and time
    (`{"id": 0, "hash": GENESIS, "at": None}` while the log is empty)."""
    row = db.execute(
        select(AuditEntry.id, AuditEntry.hash, AuditEntry.at)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return {"id": 0, "hash": GENESIS, "at": None}
    return {"id": row.id, "hash": row.hash, "at": _iso(row.at)}


def audit_entry(db: Session, entry_id: int) -> dict[str, Any] | None:
    """One audit entry's place in the chain — hashes and time, never who or what (the
    columns read are only these) — so an outsider can check an anchor they noted."""
    row = db.execute(
        select(AuditEntry.id, AuditEntry.hash, AuditEntry.prev_hash, AuditEntry.at).where(
            AuditEntry.id == entry_id
        )
    ).first()
    if row is None:
        return None
    return {"id": row.id, "hash": row.hash, "prev_hash": row.prev_hash, "at": _iso(row.at)}


def is_published(submission: Submission, events: list[AuditEntry]) -> bool:
    """A tally's numbers are public once a person made them so: confirmed now, or its own
    audit events show it confirmed (or changed while confirmed) before it was replaced. A
    reading awaiting the officer's `YA`, a refused tally, a tally replaced before anyone
    confirmed it: their numbers were never vouched for (an OCR misread, a sum that fails)."""
    if submission.training:
        return False
    if submission.status == "confirmed":
        return True
    return any(publishes(e.action, e.detail) for e in events)


def withheld_label(submission: Submission) -> str:
    """The catalogue key saying why this unpublished tally's numbers are not shown."""
    return WITHHELD.get(submission.status, "withheld_other")


def tps_view(db: Session, code: str) -> dict[str, Any] | None:
    code = "".join(ch for ch in code if ch.isdigit())
    station = db.get(Tps, code)
    if station is None:
        return None
    contests = [
        c
        for c in db.scalars(select(Contest).order_by(Contest.position, Contest.code))
        if c.applies_to(code)
    ]
    submissions = db.scalars(
        select(Submission)
        .where(Submission.tps_code == code, Submission.training.is_(False))
        .order_by(Submission.id)
    ).all()
    events: dict[str, list[AuditEntry]] = {}
    ids = [str(s.id) for s in submissions]
    for entry in db.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "submission", AuditEntry.entity_id.in_(ids))
        .order_by(AuditEntry.id)
    ):
        events.setdefault(entry.entity_id, []).append(entry)
    public_ids = {s.id for s in submissions}
    open_items: dict[str, list[ReviewItem]] = {}
    for item in db.scalars(
        select(ReviewItem)
        .where(ReviewItem.tps_code == code, ReviewItem.status == "open")
        .order_by(ReviewItem.id)
    ):
        if item.submission_id in public_ids and item.contest_code:  # never a training tally
            open_items.setdefault(item.contest_code, []).append(item)
    per_contest = []
    for contest in contests:
        mine = [s for s in submissions if s.contest_code == contest.code]
        confirmed = next((s for s in mine if s.status == "confirmed"), None)
        ballot = ballot_for(db, contest, code)
        per_contest.append(
            {
                "contest": contest,
                "candidates": listed(ballot, contest),
                "area": ballot.area if ballot is not None else None,
                "status": tps_status(mine),
                "confirmed": confirmed,
                "detail": tally_detail(ballot, contest, confirmed) if confirmed else None,
                "checks": checks(mine[-1] if mine else None, open_items.get(contest.code, [])),
                "votes": confirmed.votes_by_ballot() if confirmed else {},
                "photos": _photo_indexes(db, confirmed) if confirmed else [],
                "evidence": evidence_of(db, confirmed) if confirmed else [],
                "history": [_history_entry(s, events.get(str(s.id), [])) for s in mine],
            }
        )
    return {
        "tps": station,
        "breadcrumbs": breadcrumbs(db, station.village_code),
        "contests": per_contest,
    }


def _history_entry(submission: Submission, events: list[AuditEntry]) -> dict[str, Any]:
    shown = is_published(submission, events)
    return {
        "submission": submission,
        "events": [_public_event(e) for e in events],
        "published": shown,
        "withheld": None if shown else withheld_label(submission),
    }


def submission_json(submission: Submission, published: bool = True) -> dict[str, Any]:
    """A tally as published: `votes` per ballot number (party contests: the party's total),
    `own_votes` and `candidate_votes` ("NN.K") as sent, and its `sections`. Not `published`
    (is_published): the same keys, every number field null — never {} (zero votes)."""
    if not published:
        return {
            **submission_json(submission),
            **dict.fromkeys(NUMBER_FIELDS),
            "published": False,
        }
    return {
        "published": True,
        "receipt": submission.receipt_code,
        "status": submission.status,
        "reason": submission.reason,
        "source": submission.source,
        "votes": {f"{n:02d}": v for n, v in sorted(submission.votes_by_ballot().items())},
        "own_votes": {f"{n:02d}": v for n, v in sorted(submission.own_votes_by_ballot().items())},
        "candidate_votes": {
            f"{p:02d}.{k}": v
            for (p, k), v in sorted(submission.candidate_votes_by_number().items())
        },
        "sections": results.sections_of(submission),
        "sah": submission.sah,
        "ts": submission.ts,
        "received_at": _iso(submission.created_at),
        "decided_at": _iso(submission.decided_at),
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return as_utc(moment).isoformat()


CHART_WIDTH, CHART_HEIGHT = 640, 160


REGISTERED_KEYS = ("DPT", "DPTB", "DPK")


def turnout(sections: dict[str, int], reported: dict[str, int]) -> dict[str, Any] | None:
    """Voters who used their right (PHP) over those registered (DPT + DPTB + DPK), shown only
    when the same TPS reported both (the counts say so): a share of a different set of TPS
    would mislead."""
    tps = reported.get("PHP", 0)
    if not tps or reported.get("DPT", 0) != tps:
        return None
    registered = sum(sections.get(key, 0) for key in REGISTERED_KEYS)
    if not registered:
        return None
    return {"voted": sections["PHP"], "registered": registered, "tps": tps,
            "percent": 100.0 * sections["PHP"] / registered}


def chart_points(points: list[tuple[datetime, int]]) -> dict[str, Any]:
    """Bars for an SVG chart of tallies confirmed per hour (coordinates computed here).

    The x axis runs from the first bar's hour to the end of the last one, in WIB: its two
    labels always differ (the date is written once unless the chart spans midnight)."""
    if not points:
        return {"bars": [], "width": CHART_WIDTH, "height": CHART_HEIGHT, "max": 0}
    top = max(n for _, n in points) or 1
    slot = CHART_WIDTH / len(points)
    width = max(1.0, min(slot * 0.8, 40.0))
    bars = []
    for i, (hour, n) in enumerate(points):
        height = (CHART_HEIGHT - 34) * n / top
        bars.append(
            {
                "x": round(i * slot + (slot - width) / 2, 1),
                "y": round(CHART_HEIGHT - 34 - height, 1),
                "w": round(width, 1),
                "h": round(height, 1),
                "count": n,
                "label": hour.astimezone(WIB).strftime("%d/%m %H:00"),
            }
        )
    start = points[0][0].astimezone(WIB)
    end = (points[-1][0] + timedelta(hours=1)).astimezone(WIB)
    same_day = end.date() == start.date() or (end.hour == 0 and end - start <= timedelta(days=1))
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "max": top,
        "start": start.strftime("%d/%m %H:00"),
        "end": end.strftime("%H:00" if same_day else "%d/%m %H:00"),
    }
