"""STATUS for a village (PPS officers, or `CEK <10-digit village code>`): which TPSs have
every contest confirmed, which have reported something, which have sent nothing yet."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.messages import text
from relay.models import Contest, Submission, Tps

NONE = "-"


def village_reply(session: Session, village: str, language: str, training: bool = False) -> str:
    """`Desa 3576011001 (3 TPS): lengkap 001; masuk 002; belum 003. …` by TPS number."""
    codes = list(
        session.scalars(select(Tps.code).where(Tps.village_code == village).order_by(Tps.code))
    )
    if not codes:
        return text("unknown_village", language, village=village)
    contests = list(session.scalars(select(Contest).order_by(Contest.position)))
    rows = session.execute(
        select(
            Submission.tps_code, Submission.contest_code, Submission.status, Submission.reason
        ).where(Submission.tps_code.in_(codes), Submission.training.is_(training))
    ).all()
    done, reported, missing = [], [], []
    for code in codes:
        mine = [row for row in rows if row.tps_code == code]
        held = {c.code for c in contests if c.applies_to(code)}
        confirmed = {r.contest_code for r in mine if r.status == "confirmed"}
        conflict = any(r.reason == "locked_conflict" for r in mine)
        live = [r for r in mine if r.status in ("pending", "confirmed")]
        number = code[-3:]
        if held <= confirmed and not conflict:
            done.append(number)
        elif live or conflict:
            reported.append(number)
        else:
            missing.append(number)
    return text(
        "status_village",
        language,
        village=village,
        count=len(codes),
        done=" ".join(done) or NONE,
        reported=" ".join(reported) or NONE,
        missing=" ".join(missing) or NONE,
        example=codes[0],
    )
