"""The review queue's filters: by kind, by TPS or region code (a prefix: a province, regency,
district, village or one TPS) and by age; and how many open items of each kind match."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bots.review import KINDS
from relay.models import ReviewItem

AGES = (15, 30, 60, 180)  # "older than N minutes" choices


@dataclass(frozen=True)
class ReviewFilter:
    kind: str = ""
    code: str = ""  # digits: a region or TPS code prefix
    older_than: int = 0

    @classmethod
    def from_args(cls, args) -> ReviewFilter:  # type: ignore[no-untyped-def]
        try:
            older = int(args.get("older_than", "0") or 0)
        except ValueError:
            older = 0
        return cls(
            kind=args.get("kind", "") if args.get("kind") in KINDS else "",
            code="".join(ch for ch in args.get("code", "") if ch.isdigit())[:13],
            older_than=older if older in AGES else 0,
        )

    @property
    def active(self) -> bool:
        return bool(self.kind or self.code or self.older_than)

    def apply(self, query: Select, now: datetime | None = None, kind: bool = True) -> Select:
        if kind and self.kind:
            query = query.where(ReviewItem.kind == self.kind)
        if self.code:
            query = query.where(ReviewItem.tps_code.startswith(self.code))
        if self.older_than:
            since = (now or datetime.now(UTC)) - timedelta(minutes=self.older_than)
            query = query.where(ReviewItem.created_at <= since)
        return query

    def items(self, session: Session, limit: int = 200) -> list[ReviewItem]:
        query = (
            select(ReviewItem)
            .where(ReviewItem.status == "open")
            .order_by(ReviewItem.created_at, ReviewItem.id)
            .limit(limit)
        )
        return list(session.scalars(self.apply(query)))

    def counts(self, session: Session) -> dict[str, int]:
        """Open items per kind under the other filters (the kind tabs' numbers)."""
        query = (
            select(ReviewItem.kind, func.count())
            .where(ReviewItem.status == "open")
            .group_by(ReviewItem.kind)
        )
        found = {kind: n for kind, n in session.execute(self.apply(query, kind=False))}
        return {kind: int(found.get(kind, 0)) for kind in KINDS}

    def args(self, **changes: object) -> dict[str, object]:
        """The query string of this filter with `changes` (for the kind tabs' links)."""
        values = {"kind": self.kind, "code": self.code, "older_than": self.older_than}
        values.update(changes)
        return {k: v for k, v in values.items() if v}
