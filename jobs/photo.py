"""Job: read a stored photo of the tally form and answer with what was read.

A photo is one page. Each page read is kept (PhotoPage) until every page of the TPS's form for
that contest is in, from this message or earlier ones; the reply to a page says which pages are
still missing. The complete form becomes a pending tally like a typed one (votes, candidate
votes, sections; the rules that span pages checked on the whole): the officer confirms it (YA)
or fixes the misread numbers (`02=96`). A photo that cannot be read gets its retake hint at once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, bindparam, exists, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bots import evidence
from bots.conversation import contest_codes
from bots.grammar import Tally
from bots.reply import Reply
from bots.tallies import (
    Known,
    PhotoReading,
    confirmed_and_pending,
    same_form,
    submit_reading,
)
from jobs.queues import enqueue_outbound
from jobs.replies import reply_values
from relay import catalogue, media
from relay.db import session_scope
from relay.locks import lock_row
from relay.metrics import count_event
from relay.models import InboundMessage, Officer, OutboundMessage, PhotoPage, Submission, Tps
from relay.training import is_training

log = logging.getLogger(__name__)
READ_SEQUENCE = 50  # reply sequence numbers for photo readings: 50 + attachment index

_OUTBOUND = OutboundMessage.__table__
_INSERT_REPLY = insert(_OUTBOUND).returning(_OUTBOUND.c.id)
_INBOUND = InboundMessage.__table__
_FOLLOW_UP_DONE = (
    update(_INBOUND)
    .where(_INBOUND.c.id == bindparam("row_id"), _INBOUND.c.follow_up.is_not(None))
    .values(follow_up=None)
)
# The message with what the job reads next, in one statement (each costs ~0.15–0.3 ms of
# client CPU): its officer, the officer's TPS (a kpps officer's photo is of it: the reader's
# voter count and the tally's TPS are then in the session), whether a photo of it was
# answered already (rare: a rerun), whether it stored a tally (a caption typed with the
# photo), and the catalogue's stamp (relay.catalogue.token_read). Built once.
_MESSAGE = (
    select(
        InboundMessage,
        Officer,
        Tps,
        exists()
        .where(
            OutboundMessage.inbound_id == InboundMessage.id,
            OutboundMessage.sequence >= READ_SEQUENCE,
        )
        .label("answered_any"),
        exists().where(Submission.inbound_id == InboundMessage.id).label("submitted"),
        catalogue.TOKEN.label("catalogue_token"),
    )
    .outerjoin(Officer, Officer.id == InboundMessage.officer_id)
    .outerjoin(Tps, Tps.code == Officer.tps_code)
    .where(InboundMessage.id == bindparam("row_id"))
)


def _message(session: Session, inbound_id: int) -> Row[Any] | None:
    """The message's row of _MESSAGE, its stamp handed to relay.catalogue."""
    row = session.execute(_MESSAGE, {"row_id": inbound_id}).first()
    if row is not None:
        catalogue.token_read(session, row.catalogue_token)
    return row


def read_photos(inbound_id: int, held: Mapping[str, bytes] | None = None) -> str:
    """Idempotent: a photo already answered (its reply row exists) is not read again.

    `held`: photos' bytes the caller has in hand by their store key (the download job that
    just kept them, jobs.media), read as they are instead of fetched from the store again
    (an S3 GET per photo); any other photo is loaded from the store.

    The readings are done first, in a transaction that writes nothing, and what they say is
    written after, in a short one. On SQLite a transaction that has written holds the
    database's one write lock until it ends: written before a reading (50–200 ms), it held
    every other job's, the sender's and the web's writes back (bench/e2e.py: sends stalled
    for seconds behind two photo workers)."""
    from jobs.reader_process import read
    from ocr.templates import DbLookup

    readings: list[Reading] = []
    with session_scope() as session:
        row = _message(session, inbound_id)
        if row is None:
            return "missing"
        message, officer = row.InboundMessage, row.Officer
        if officer is not None:
            answered = _answered(session, inbound_id) if row.answered_any else set()
            lookup = DbLookup(session)
            contest = _chosen_contest(session, message.text)
            allowed = _allowed_tps(session, officer)
            for index, item in enumerate(message.media):
                if "key" not in item or READ_SEQUENCE + index in answered:
                    continue
                data = held.get(item["key"]) if held else None
                result = read(  # in the worker's reader process (jobs.reader_process)
                    data if data is not None else media.load(item["key"]),
                    lookup,
                    expect_contest=contest,
                    expect_tps=allowed,
                )
                log.info(
                    "inbound %s photo %d: %s in %.0f ms",
                    inbound_id,
                    index,
                    result.error or "read",
                    result.timings_ms.get("total", 0),
                )
                if not is_training(message.channel):
                    count_event("ocr_outcomes", [result.error or "read"])
                # Content-addressed: kept once however often the job runs.
                annotated = (
                    media.save(result.annotated_jpeg, "image/jpeg")
                    if result.annotated_jpeg and not result.error
                    else None
                )
                readings.append(Reading(index, dict(item), result, annotated))
    answered_ids = _answer(inbound_id, readings)
    if answered_ids is None:
        return "missing"
    channel, reply_ids = answered_ids
    for reply_id in reply_ids:
        enqueue_outbound(reply_id, channel)
    return f"{len(reply_ids)} read"


@dataclasses.dataclass(frozen=True)
class Reading:
    """One photo of a message as read, before anything is written."""

    index: int  # of the attachment
    item: dict[str, object]  # the message's media item
    result: object  # ocr.reader.ReadResult
    annotated: str | None  # the annotated page's key in the photo store


def _answered(session: Session, inbound_id: int) -> set[int]:
    return set(
        session.scalars(
            select(OutboundMessage.sequence).where(OutboundMessage.inbound_id == inbound_id)
        )
    )


def _answer(inbound_id: int, readings: list[Reading]) -> tuple[str, list[int]] | None:
    """Write what the readings say (the pages, the pending tally, the replies) in one
    transaction; the message's channel and the ids of the replies to send. A reading
    answered meanwhile (another run of the job) is skipped: each photo is answered once.
    None: no such message or officer."""
    from ocr.hints import hint

    reply_ids: list[int] = []
    with session_scope() as session:
        # First, so that what is read next is read in the writing transaction (SQLite: under
        # the write lock; PostgreSQL: the message's row locked, a rerun of this job waits).
        # Done once this commits; a failed job leaves it "photo" for the sweeper.
        session.connection().execute(_FOLLOW_UP_DONE, {"row_id": inbound_id})
        row = _message(session, inbound_id)
        if row is None:
            return None
        message, officer = row.InboundMessage, row.Officer
        if officer is None:
            return None
        answered = _answered(session, inbound_id) if readings and row.answered_any else set()
        submitted = [bool(row.submitted)]  # whether the message stored its one tally
        for reading in readings:
            sequence = READ_SEQUENCE + reading.index
            if sequence in answered:
                continue
            result: Any = reading.result
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
                item = reading.item
                photo = evidence.Photo(
                    str(item["key"]), str(item.get("content_type") or ""), None, result.page or 1
                )
                reply = _submit_reading(
                    session, officer, message, result, photo, reading.annotated, submitted
                )
            reply = reply if isinstance(reply, Reply) else Reply(reply)
            values = reply_values(message, reply, sequence)
            reply_ids.append(session.connection().execute(_INSERT_REPLY, values).scalar_one())
    return message.channel, reply_ids


def _submit_reading(  # type: ignore[no-untyped-def]
    session: Session,
    officer: Officer,
    message: InboundMessage,
    result,
    photo: evidence.Photo,
    annotated: str | None,
    submitted: list[bool],
) -> Reply | str:
    """`submitted`: whether the message stored a tally already (set when this one does)."""
    from ocr.assemble import page_ranges
    from ocr.hints import page_text
    from ocr.templates import DbLookup

    template = DbLookup(session).template(result.contest, result.tps_code)
    training = is_training(message.channel)
    form = _with_page(session, officer, message, template, result, annotated, training)
    if form.missing:
        return Reply(
            page_text(
                "pages_missing",
                officer.language,
                page=result.page,
                pages=result.pages,
                contest=result.contest,
                tps=result.tps_code,
                missing=page_ranges(form.missing),
            ),
            photo=annotated,
        )
    if submitted[0]:
        # A message stores one submission; a later photo of the same form is echoed.
        return Reply(f"{result.contest} TPS {result.tps_code}", photo=annotated)
    tally = form_tally(form, result.contest, result.tps_code)
    known = confirmed_and_pending(session, tally.tps_code, tally.contest, training)
    confirmed = known.confirmed
    if confirmed is not None and evidence.matches(confirmed, tally):
        pages = _form_pages(session, result, template.version, training)
        kept = dataclasses.replace(photo, annotated=annotated)
        return evidence.keep(session, officer, message, confirmed, kept, pages)
    typed = _typed_tally(known)
    reading = PhotoReading(form.uncertain, annotated)
    done = submit_reading(session, officer, message, tally, reading, known)
    stored = done.stored
    submitted[0] = submitted[0] or stored is not None
    if stored is not None and confirmed is not None and stored.reason == "locked_conflict":
        rules = [c.name for c in form.checks if not c.ok]
        evidence.review_difference(session, stored, confirmed, tally, dict(form.doubts), rules)
    elif stored is not None:
        _queue_for_review(session, stored, form, typed)
    return done.reply


def _form_pages(session: Session, result, version: str, training: bool) -> list[PhotoPage]:  # type: ignore[no-untyped-def]
    """The pages read of this TPS's form for the contest, in page order."""
    return list(
        session.scalars(
            select(PhotoPage)
            .where(
                PhotoPage.tps_code == result.tps_code,
                PhotoPage.contest_code == result.contest,
                PhotoPage.form_version == version,
                PhotoPage.training.is_(training),
            )
            .order_by(PhotoPage.page)
        )
    )


def form_tally(form, contest: str, tps_code: str) -> Tally:  # type: ignore[no-untyped-def]
    """The Tally a complete photographed form (ocr.assemble.AssembledForm) says."""
    return Tally(
        contest=contest,
        tps_code=tps_code,
        votes=form.votes,
        candidate_votes=form.candidate_votes,
        sections=form.sections,
        sah=form.sah,
        ts=form.ts,
    )


def _with_page(  # type: ignore[no-untyped-def]
    session: Session,
    officer: Officer,
    message: InboundMessage,
    template,
    result,
    annotated: str | None,
    training: bool,
):
    """Keep this page's reading (replacing an earlier one of the same page) and assemble the
    pages of the same form read so far. The TPS row is locked first: two pages of one form
    read by two workers at once must not each miss the other's page."""
    from ocr.assemble import PageReading, assemble

    lock_row(session, Tps, result.tps_code)
    reading = PageReading.from_result(result)
    params = {
        "tps_code": result.tps_code,
        "contest_code": result.contest,
        "form_version": template.version,
    }
    read = list(session.scalars(_FORM_PAGES[bool(training)], params))  # under the lock
    row = next((p for p in read if p.page == reading.page), None)
    values = {
        "pages": template.pages,
        "officer_id": officer.id,
        "inbound_id": message.id,
        "reading": reading.to_json(),
        "annotated_key": annotated,
    }
    # Core statements: the ORM's unit of work for one row cost more than the statement.
    connection = session.connection()
    if row is None:
        new = {**params, "page": reading.page, "training": training, **values}
        connection.execute(_INSERT_PAGE, new)
    else:
        connection.execute(_UPDATE_PAGE, {"row_id": row.id, **values})
        for name, value in values.items():  # the object says what the row says
            set_committed_value(row, name, value)
    pages = {p.page: PageReading.from_json(p.reading) for p in read}
    pages[reading.page] = PageReading.from_json(values["reading"])
    return assemble(template, pages, result.registered_voters)


# The pages read of one TPS's form for a contest, of one world, built once (a statement made
# per call cost more to build and key than to run).
_FORM_PAGES = {
    training: select(PhotoPage).where(
        PhotoPage.tps_code == bindparam("tps_code"),
        PhotoPage.contest_code == bindparam("contest_code"),
        PhotoPage.form_version == bindparam("form_version"),
        PhotoPage.training.is_(training),
    )
    for training in (False, True)
}
_PAGES = PhotoPage.__table__
_PAGE_READ = ("pages", "officer_id", "inbound_id", "reading", "annotated_key")  # per reading
_INSERT_PAGE = insert(_PAGES)
_UPDATE_PAGE = (
    update(_PAGES)
    .where(_PAGES.c.id == bindparam("row_id"))
    .values({name: bindparam(name) for name in _PAGE_READ})
)


def _typed_tally(known: Known) -> Submission | None:
    """The latest typed (SMS/text) tally of the same TPS and contest, pending or confirmed,
    of the same world (a simulated photo is checked against simulated tallies only): among
    the ones read for the submit (bots.tallies.confirmed_and_pending)."""
    rows = [*known.pending, *([known.confirmed] if known.confirmed is not None else [])]
    return max((s for s in rows if s.source == "text"), key=lambda s: s.id, default=None)


def _queue_for_review(
    session: Session,
    stored: Submission,
    form,
    typed: Submission | None,  # type: ignore[no-untyped-def]
) -> None:
    """A human looks at readings that were hard, that do not add up (on a page or across
    pages), or that disagree with what the officer typed for the same form."""
    from bots.review import open_item

    if form.doubts:
        open_item(
            session, "low_confidence", submission_id=stored.id, detail={"fields": dict(form.doubts)}
        )
    rules = [c.name for c in form.checks if not c.ok]
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
