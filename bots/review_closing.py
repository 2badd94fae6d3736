"""Review items follow their tally: when the officer replaces a pending tally (a resend or a
correction) or cancels it (`BATAL`), its open items close themselves, so the queue never
holds work about numbers nobody stands behind any more. Each closing is audited."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay.audit import record
from relay.models import ReviewItem, Submission

ACTOR = "system"


def close_items_of(
    session: Session, tallies: list[Submission], resolution: str, by_receipt: str | None = None
) -> int:
    """Resolve the open items of `tallies` as `resolution` ('superseded', 'cancelled')."""
    ids = [tally.id for tally in tallies]
    if not ids:
        return 0
    items = session.scalars(
        select(ReviewItem).where(ReviewItem.submission_id.in_(ids), ReviewItem.status == "open")
    ).all()
    now = datetime.now(UTC)
    receipts = {tally.id: tally.receipt_code for tally in tallies}
    for item in items:
        item.status, item.resolution = "resolved", resolution
        item.resolved_by, item.resolved_at = ACTOR, now
        record(
            session,
            ACTOR,
            "review_closed",
            "review_item",
            item.id,
            {
                "kind": item.kind,
                "resolution": resolution,
                "receipt": receipts.get(item.submission_id or 0),
                "by": by_receipt,
            },
        )
    return len(items)
