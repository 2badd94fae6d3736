"""Public search: a TPS or region by code, a region by name, a TPS by number in a village."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from relay.models import Region, Tps

MAX_MATCHES = 30
CODE = re.compile(r"[\d.\s\-]+")
TPS_NUMBER = re.compile(r"^\s*(?:tps)?\s*0*(\d{1,3})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Found:
    """Where a query leads: one TPS or region, a list of regions to choose from, or nothing
    (with the reason as a catalogue key)."""

    tps: str | None = None
    region: str | None = None
    matches: tuple[Region, ...] = ()
    reason: str = "search_none"


def find(db: Session, query: str, within: str = "") -> Found:
    query = query.strip()
    digits = "".join(ch for ch in query if ch.isdigit())
    number = TPS_NUMBER.match(query)
    if within and number and db.get(Region, within) is not None:  # "TPS 001" in this village
        code = f"{within}{int(number.group(1)):03d}"
        return Found(tps=code) if db.get(Tps, code) is not None else Found()
    if CODE.fullmatch(query):  # a code, written with or without dots: 35.76.01.1001
        if len(digits) == 13 and db.get(Tps, digits) is not None:
            return Found(tps=digits)
        if db.get(Region, digits) is not None:
            return Found(region=digits)
        return Found(reason="search_tps_needs_village" if number else "search_none")
    if number:  # a TPS number alone means nothing without its village
        return Found(reason="search_tps_needs_village")
    if len(query) < 3:
        return Found(reason="search_too_short")
    pattern = "%" + query.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
    matches = tuple(
        db.scalars(
            select(Region)
            .where(func.lower(Region.name).like(pattern))
            .order_by(func.length(Region.code), Region.name, Region.code)
            .limit(MAX_MATCHES)
        )
    )
    if len(matches) == 1:
        return Found(region=matches[0].code)
    return Found(matches=matches)


def parents(db: Session, regions: tuple[Region, ...]) -> dict[str, str]:
    """Each listed region's parent's name, to tell namesakes apart."""
    codes = {r.parent_code for r in regions if r.parent_code}
    if not codes:
        return {}
    return dict(db.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all())
