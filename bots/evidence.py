"""A photo of the form sent after the tally was confirmed by text.

Same numbers: the photo is kept as the confirmed tally's evidence (TallyEvidence, shown on the
public TPS page), not thrown away. Different numbers: the reading is stored as a rejected
tally (bots.tallies) and goes to review as ONE item — a conflict, or the officer's own change
request — whose detail lists both tallies field by field (bots.form_compare), with the
reader's doubts, instead of one item per problem.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.form_compare import FieldRow, agrees, compare
from bots.grammar import Tally
from bots.tallies import tally_of
from relay.models import (
    InboundMessage,
    Officer,
    PhotoPage,
    ReviewItem,
    Submission,
    TallyEvidence,
)
from relay.training import record_for

TEXTS: dict[str, dict[str, str]] = {
    "evidence_kept": {
        "id": "Foto {contest} TPS {tps} cocok dengan data terkonfirmasi (kode {receipt}) dan "
        "disimpan sebagai bukti. Terima kasih.",
        "en": "The photo of {contest} TPS {tps} matches the confirmed tally (code {receipt}) and "
        "is kept as its evidence. Thank you.",
    },
}


def say(key: str, language: str | None, /, **params: object) -> str:
    variants = TEXTS[key]
    return (variants.get(language or "id") or variants["id"]).format(**params)


@dataclass(frozen=True)
class Photo:
    """The photo being read: its stored media key and type, the annotated page's key."""

    key: str
    content_type: str
    annotated: str | None
    page: int


def comparison(confirmed: Submission, photo: Tally) -> list[FieldRow]:
    return compare(tally_of(confirmed), photo)


def matches(confirmed: Submission, photo: Tally) -> bool:
    return agrees(comparison(confirmed, photo))


def keep(
    session: Session,
    officer: Officer,
    message: InboundMessage,
    confirmed: Submission,
    photo: Photo,
    pages: list[PhotoPage],
) -> str:
    """Attach the photographed pages of the form to the confirmed tally; the reply."""
    added = []
    for page in pages or []:
        current = page.inbound_id == message.id and page.page == photo.page
        key = photo.key if current else page.annotated_key
        if not key:
            continue
        added.append(_attach(session, confirmed, page.inbound_id, officer.id, page.page, key,
                             photo.content_type if current else "image/jpeg",
                             page.annotated_key))
    if not pages:
        added.append(_attach(session, confirmed, message.id, officer.id, photo.page, photo.key,
                             photo.content_type, photo.annotated))
    record_for(
        session,
        message,
        officer,
        "tally_evidence",
        "submission",
        confirmed.id,
        {"inbound": message.id, "evidence": [e.id for e in added if e is not None]},
    )
    return say("evidence_kept", officer.language, contest=confirmed.contest_code,
               tps=confirmed.tps_code, receipt=confirmed.receipt_code)


def _attach(
    session: Session, confirmed: Submission, inbound_id: int, officer_id: int, page: int,
    key: str, content_type: str, annotated: str | None,
) -> TallyEvidence | None:
    exists = session.scalar(
        select(TallyEvidence).where(
            TallyEvidence.submission_id == confirmed.id, TallyEvidence.media_key == key
        )
    )
    if exists is not None:  # the same photo sent again
        return exists
    evidence = TallyEvidence(
        submission_id=confirmed.id, inbound_id=inbound_id, officer_id=officer_id, page=page,
        media_key=key, content_type=content_type or "image/jpeg", annotated_key=annotated,
    )
    session.add(evidence)
    session.flush()
    return evidence


def review_difference(
    session: Session,
    stored: Submission,
    confirmed: Submission,
    photo: Tally,
    doubts: dict[str, float],
    rules: list[str],
) -> ReviewItem:
    """One review item for a photo that disagrees with the confirmed tally: both tallies,
    field by field, and what the reader doubted or found wrong on the form."""
    from bots.review import open_item

    kind = "change_request" if confirmed.officer_id == stored.officer_id else "conflict"
    rows = comparison(confirmed, photo)
    detail: dict[str, object] = {
        "source": "photo",
        "compare": [r.to_json() for r in rows],
        "differs": [r.field for r in rows if r.differs],
    }
    if doubts:
        detail["doubts"] = dict(doubts)
    if rules:
        detail["rules"] = rules
    return open_item(session, kind, submission_id=stored.id, other_submission_id=confirmed.id,
                     detail=detail)
