"""STATUS / CEK: per contest of a TPS, what was received, confirmed, in conflict or missing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.messages import text
from bots.own_tps import own_tps_text
from bots.village_status import village_reply
from relay.models import Contest, Officer, Submission, Tps


def status_reply(
    session: Session,
    officer: Officer,
    tps_code: str | None,
    training: bool = False,
    village_code: str | None = None,
) -> str:
    """`training`: the simulator's world (its tallies), not the real one. A PPS officer's
    STATUS, and `CEK <village code>`, give the village's summary (bots.village_status)."""
    lang = officer.language
    if village_code is not None:
        return village_reply(session, village_code, lang, training)
    if tps_code is None:
        if officer.role == "kpps" and officer.tps_code:
            tps_code = officer.tps_code
        else:
            return village_reply(session, officer.village_code, lang, training)
    tps = session.get(Tps, tps_code)
    if tps is None:
        return text("unknown_tps", lang, tps=tps_code, own=own_tps_text(session, officer))
    lines, conflict = _lines(session, tps, lang, training)
    reply = text("status_header", lang, tps=tps.code) + "; ".join(lines)
    if conflict:
        reply += text("status_conflict_next", lang, receipt=conflict)
    return reply


def _lines(session: Session, tps: Tps, lang: str, training: bool) -> tuple[list[str], str | None]:
    """The state of each contest, and the receipt of the first confirmed tally in conflict."""
    contests = [
        c
        for c in session.scalars(select(Contest).order_by(Contest.position))
        if c.applies_to(tps.code)
    ]
    submissions = session.scalars(
        select(Submission)
        .where(Submission.tps_code == tps.code, Submission.training.is_(training))
        .order_by(Submission.id)
    ).all()
    lines: list[str] = []
    missing: list[str] = []
    complete = True
    in_conflict: str | None = None
    for contest in contests:
        mine = [s for s in submissions if s.contest_code == contest.code]
        confirmed = next((s for s in mine if s.status == "confirmed"), None)
        conflict = next((s for s in reversed(mine) if s.reason == "locked_conflict"), None)
        pending = next((s for s in reversed(mine) if s.status == "pending"), None)
        complete = complete and confirmed is not None and conflict is None
        if confirmed and conflict:
            in_conflict = in_conflict or confirmed.receipt_code
            lines.append(
                text(
                    "status_conflict",
                    lang,
                    contest=contest.code,
                    receipt=confirmed.receipt_code,
                    other=conflict.receipt_code,
                )
            )
        elif confirmed:
            lines.append(
                text("status_confirmed", lang, contest=contest.code, receipt=confirmed.receipt_code)
            )
        elif pending:
            key = "status_incomplete" if pending.reason == "incomplete" else "status_pending"
            lines.append(text(key, lang, contest=contest.code, receipt=pending.receipt_code))
        else:
            missing.append(contest.code)
    if missing:
        lines.append(text("status_missing", lang, contests=" ".join(missing)))
    elif complete:
        lines.append(text("status_all_done", lang))
    return lines, in_conflict
