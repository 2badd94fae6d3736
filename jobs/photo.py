"""Job: read a stored photo of the tally form and answer with what was read.

The reading becomes a pending tally like a typed one: the officer confirms it (YA) or fixes
the misread numbers (`02=96`). A photo that cannot be read gets its retake hint at once.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.conversation import contest_codes
from bots.grammar import Tally
from bots.reply import Reply
from bots.tallies import PhotoReading, same_form, submit
from jobs.queues import enqueue_outbound
from jobs.replies import reply_row
from relay import media
from relay.db import session_scope
from relay.models import InboundMessage, Officer, OutboundMessage, Submission, Tps
from relay.training import is_training

log = logging.getLogger(__name__)
READ_SEQUENCE = 50  # reply sequence numbers for photo readings: 50 + attachment index


def read_photos(inbound_id: int) -> str:
    """Idempotent: a photo already answered (its reply row exists) is not read again."""
    from ocr.hints import hint
    from ocr.reader import read_photo
    from ocr.templates import DbLookup

    reply_ids: list[int] = []
    with session_scope() as session:
        message = session.get(InboundMessage, inbound_id)
        if message is None:
            return "missing"
        message.follow_up = None  # done once this commits; a failed job leaves it "photo"
        if message.officer_id is None:
            return "missing"
        officer = session.get_one(Officer, message.officer_id)
        answered = set(
            session.scalars(
                select(OutboundMessage.sequence).where(OutboundMessage.inbound_id == inbound_id)
            )
        )
        for index, item in enumerate(message.media):
            sequence = READ_SEQUENCE + index
            if "key" not in item or sequence in answered:
                continue
            result = read_photo(
                media.load(item["key"]),
                DbLookup(session),
                expect_contest=_chosen_contest(session, message.text),
                expect_tps=_allowed_tps(session, officer),
            )
            log.info(
                "inbound %s photo %d: %s in %.0f ms",
                inbound_id,
                index,
                result.error or "read",
                result.timings_ms.get("total", 0),
            )
            if result.error:
                expected = officer.tps_code or officer.village_code
                reply: Reply | str = Reply(
                    hint(
                        result.error,
                        officer.language,
                        contest=result.contest or "?",
                        tps=result.tps_code or "?",
                        expected=_chosen_contest(session, message.text) or expected,
                    )
                )
            else:
                reply = _submit_reading(session, officer, message, result)
            reply = reply if isinstance(reply, Reply) else Reply(reply)
            row = reply_row(message, reply, sequence)
            session.add(row)
            session.flush()
            reply_ids.append(row.id)
    for reply_id in reply_ids:
        enqueue_outbound(reply_id)
    return f"{len(reply_ids)} read"


def _submit_reading(
    session: Session, officer: Officer, message: InboundMessage, result
) -> Reply | str:
    values = {f.key: f.value for f in result.fields}
    votes = {f.ballot_number: f.value for f in result.fields if f.ballot_number is not None}
    tally = Tally(result.contest, result.tps_code, votes, values.get("SAH"), values.get("TS"))
    annotated = media.save(result.annotated_jpeg, "image/jpeg") if result.annotated_jpeg else None
    uncertain = frozenset(f.key for f in result.fields if f.uncertain)
    if session.scalar(select(Submission.id).where(Submission.inbound_id == message.id)):
        # A message with several photos stores one submission; later pages are echoed.
        return Reply(f"{result.contest} TPS {result.tps_code}", photo=annotated)
    typed = _typed_tally(session, tally, is_training(message.channel))
    reply = submit(session, officer, message, tally, PhotoReading(uncertain, annotated))
    stored = session.scalar(select(Submission).where(Submission.inbound_id == message.id))
    if stored is not None:
        _queue_for_review(session, stored, result, typed)
    return reply


def _typed_tally(session: Session, tally: Tally, training: bool) -> Submission | None:
    """The latest typed (SMS/text) tally of the same TPS and contest, pending or confirmed,
    of the same world (a simulated photo is checked against simulated tallies only)."""
    return session.scalars(
        select(Submission)
        .where(
            Submission.tps_code == tally.tps_code,
            Submission.contest_code == tally.contest,
            Submission.source == "text",
            Submission.status.in_(("pending", "confirmed")),
            Submission.training.is_(training),
        )
        .order_by(Submission.id.desc())
    ).first()


def _queue_for_review(
    session: Session, stored: Submission, result, typed: Submission | None
) -> None:
    """A human looks at readings that were hard, that do not add up, or that disagree with
    what the officer typed for the same form (one submission seen twice)."""
    from bots.review import open_item

    unsure = {f.key: round(f.confidence, 3) for f in result.fields if f.uncertain}
    if unsure:
        open_item(session, "low_confidence", submission_id=stored.id, detail={"fields": unsure})
    rules = [c.name for c in result.checks if not c.ok]
    if stored.reason == "checks_failed" and not rules:
        rules.append("rules_of_the_form")
    detail: dict[str, object] = {}
    differs = typed is not None and not same_form(typed, stored)  # every row of the form
    if differs:
        rules.append("differs_from_typed")
        detail["typed"] = typed.receipt_code  # type: ignore[union-attr]
    if rules:
        open_item(
            session,
            "failed_checks",
            submission_id=stored.id,
            other_submission_id=typed.id if differs else None,  # type: ignore[union-attr]
            detail={"rules": rules, **detail},
        )


def _chosen_contest(session: Session, caption: str) -> str | None:
    words = {word.strip(".,:;").upper() for word in caption.split()}
    return next((code for code in contest_codes(session) if code in words), None)


def _allowed_tps(session: Session, officer: Officer) -> list[str]:
    if officer.role == "kpps" and officer.tps_code:
        return [officer.tps_code]
    return list(session.scalars(select(Tps.code).where(Tps.village_code == officer.village_code)))
