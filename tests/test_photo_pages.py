"""The photo path for a multi-page DPR form: a TPS in a dapil with party candidate lists, its
form printed from the database, filled in, photographed page by page and sent over WhatsApp;
the pages of one form come in one or several messages, each reply names the pages still
missing, and the complete form becomes one pending tally with the party, candidate and
section numbers of every page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from ocr import synth
from ocr.render import TpsInfo
from ocr.templates import FormTemplate, template_for
from relay.db import session_scope
from relay.models import InboundMessage, PhotoPage, Submission
from tests.ocr_support import REGISTERED, TPS, dpr_with_dapils, photographed_pages
from tests.support import drain
from tests.test_whatsapp import OFFICER, post

SEED = 5
CANDIDATES = 2  # per party in this dapil: 18 parties → a four-page form


@pytest.fixture
def dpr_form(demo: str) -> FormTemplate:
    """DPR as a party contest with a dapil covering the demo's TPS, and its printed form."""
    dpr_with_dapils(demo, {"JATIM-5": ["3576"]}, CANDIDATES)
    with session_scope(demo) as session:
        template = template_for(session, "DPR", TPS)
    assert template is not None and template.pages == 4 and template.dapil == "JATIM-5"
    return template


@pytest.fixture
def pages(dpr_form: FormTemplate) -> tuple[dict[str, int], dict[int, bytes]]:
    values = synth.whole_form_values(dpr_form, REGISTERED, np.random.default_rng(SEED))
    return values, photographed_pages(dpr_form, TpsInfo(TPS, "TPS 001", REGISTERED), values,
                                      SEED)


def send(client, redis_conn, twilio, photos: list[bytes]) -> list[str]:  # type: ignore[no-untyped-def]
    """One WhatsApp message carrying `photos`; the replies to it (after the receipt ack)."""
    before = len(_replies(twilio))
    media = [(twilio.add_media(jpeg, "image/jpeg"), "image/jpeg") for jpeg in photos]
    post(client, "", media=media)
    drain(redis_conn)
    return [m["Body"] for m in _replies(twilio)[before:]][1:]


def test_pages_in_two_messages_become_one_tally_with_candidates_and_sections(
    client, redis_conn, twilio, media_dir: Path, dpr_form: FormTemplate, pages
) -> None:  # type: ignore[no-untyped-def]
    values, photos = pages
    first = send(client, redis_conn, twilio, [photos[1], photos[2]])
    assert len(first) == 2
    assert first[0].startswith("Halaman 1/4 formulir DPR TPS 3576011001001 terbaca.")
    assert "Masih kurang halaman 2-4" in first[0]
    assert "Masih kurang halaman 3-4" in first[1]
    assert _submissions() == []

    second = send(client, redis_conn, twilio, [photos[3], photos[4]])
    assert "Masih kurang halaman 4:" in second[0]
    [stored] = _submissions()
    assert (stored.source, stored.status, stored.contest_code) == ("photo", "pending", "DPR")
    assert second[1].startswith("Dibaca dari foto DPR TPS 3576011001001")
    assert stored.receipt_code in second[1]
    assert stored.votes == {str(n): values[f"{n:02d}"] for n in range(1, 25) if
                            f"{n:02d}" in values}
    assert stored.candidate_votes == {
        f"{n}.{k}": values[f"{n:02d}.{k}"]
        for n in range(1, 25) for k in range(1, CANDIDATES + 1) if f"{n:02d}.{k}" in values
    }
    assert stored.sections == {k: values[k] for k in (
        "DPT", "DPTB", "DPK", "PDPT", "PDPTB", "PDPK", "PHP", "DIS", "PDIS",
        "SSD", "SSR", "SSTD", "SS")}
    assert (stored.sah, stored.ts) == (values["SAH"], values["TS"])
    # The sums across pages hold: SAH is the sum of the party totals (own + candidates).
    assert sum(stored.votes_by_ballot().values()) == stored.sah
    with session_scope() as session:
        kept = session.scalars(select(PhotoPage.page).order_by(PhotoPage.page)).all()
    assert kept == [1, 2, 3, 4]


def test_a_missing_page_is_named_and_its_photo_later_completes_the_form(
    client, redis_conn, twilio, media_dir: Path, dpr_form: FormTemplate, pages
) -> None:  # type: ignore[no-untyped-def]
    values, photos = pages
    replies = send(client, redis_conn, twilio, [photos[1], photos[2], photos[4]])
    assert "Masih kurang halaman 3:" in replies[-1]
    assert _submissions() == []

    [last] = send(client, redis_conn, twilio, [photos[3]])
    [stored] = _submissions()
    assert stored.receipt_code in last and stored.sah == values["SAH"]
    assert len(stored.candidate_votes) == 18 * CANDIDATES


def test_a_page_photographed_again_replaces_its_reading_and_the_form_still_completes(
    client, redis_conn, twilio, media_dir: Path, dpr_form: FormTemplate, pages
) -> None:  # type: ignore[no-untyped-def]
    values, photos = pages
    send(client, redis_conn, twilio, [photos[1], photos[2]])
    [again] = send(client, redis_conn, twilio, [photos[2]])
    assert "Masih kurang halaman 3-4" in again
    with session_scope() as session:
        kept = session.scalars(select(PhotoPage).order_by(PhotoPage.page)).all()
        latest = session.scalar(select(func.max(InboundMessage.id)))
    assert [p.page for p in kept] == [1, 2]  # replaced, not added
    assert kept[1].inbound_id == latest and kept[0].inbound_id != latest
    assert kept[1].reading["page"] == 2 and kept[1].annotated_key

    send(client, redis_conn, twilio, [photos[3], photos[4]])
    [stored] = _submissions()
    assert (stored.status, stored.sah, stored.ts) == ("pending", values["SAH"], values["TS"])
    assert len(stored.candidate_votes) == 18 * CANDIDATES


def _replies(twilio) -> list[dict]:  # type: ignore[no-untyped-def]
    return [m for m in twilio.sent_messages() if m["To"] == OFFICER]


def _submissions() -> list[Submission]:
    with session_scope() as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))


def test_ocr_read_assembles_the_photos_of_one_form_and_names_a_missing_page(
    tmp_path: Path, dpr_form: FormTemplate, pages
) -> None:  # type: ignore[no-untyped-def]
    import json

    from flask import Flask

    from webhooks import cli_ocr

    values, photos = pages
    files = []
    for number in (1, 2, 4):
        files.append(tmp_path / f"p{number}.jpg")
        files[-1].write_bytes(photos[number])
    app = Flask("test")
    cli_ocr.register(app)
    result = app.test_cli_runner().invoke(args=["ocr", "read", *map(str, files)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [p["page"] for p in report["pages"]] == [1, 2, 4]
    [form] = report["forms"]
    assert (form["contest"], form["dapil"], form["missing_pages"]) == ("DPR", "JATIM-5", [3])
    on_read = {f.key for p in (1, 2, 4) for f in dpr_form.fields_on(p)}
    assert form["values"] == {k: v for k, v in values.items() if k in on_read}
    assert "sum_equals_sah" not in {c["name"] for c in form["checks"]}


def test_two_pages_read_at_once_by_two_workers_each_see_the_other(
    redis_conn, media_dir: Path, dpr_form: FormTemplate, pages
) -> None:  # type: ignore[no-untyped-def]
    """One worker has kept pages 1-3 and not committed yet when another reads page 4: the
    second waits for the TPS's lock, then sees them, and the form is complete (without the
    lock each would see only its own pages, and both would answer "still missing")."""
    import threading

    from jobs.photo import _with_page as keep_page
    from jobs.photo import read_photos
    from ocr.reader import read_photo
    from ocr.templates import StaticLookup
    from relay import media
    from relay.models import InboundMessage, Officer

    values, photos = pages
    lookup = StaticLookup([], {TPS: REGISTERED}, {("DPR", TPS): dpr_form})
    with session_scope() as session:
        officer = session.scalars(select(Officer).where(Officer.tps_code == TPS)).first()
        assert officer is not None
        ids = []
        for n in (1, 2):
            message = InboundMessage(channel="whatsapp", provider_id=f"MM-pages-{n}",
                                     sender=officer.phone, payload="{}", officer_id=officer.id,
                                     media=[{"key": media.save(photos[4], "image/jpeg")}])
            session.add(message)
            session.flush()
            ids.append(message.id)
    done = threading.Event()
    outcome: list[object] = []

    def other_worker_reads_page_four() -> None:
        try:
            outcome.append(read_photos(ids[1]))
        except Exception as error:  # shown by the assertion below
            outcome.append(error)
        finally:
            done.set()

    readings = [read_photo(photos[n], lookup) for n in (1, 2, 3)]
    with session_scope() as session:  # the first worker, in the middle of its pages
        first = session.get_one(InboundMessage, ids[0])
        for result in readings:
            form = keep_page(session, session.get_one(Officer, officer.id), first, dpr_form,
                             result, None, False)
        assert form.missing == (4,)
        racer = threading.Thread(target=other_worker_reads_page_four)
        racer.start()
        _wait_until_waiting_for_a_lock(done)
        assert not done.is_set(), outcome
    racer.join()
    assert outcome == ["1 read"]
    [stored] = _submissions()
    assert stored.inbound_id == ids[1] and stored.sah == values["SAH"]


def _wait_until_waiting_for_a_lock(done) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: until another connection waits for a row lock, or the racer ended without
    waiting. SQLite cannot tell: there the racer waits for the database's write lock."""
    import time

    from sqlalchemy import text

    from relay.db import get_engine

    engine = get_engine()
    if engine.dialect.name != "postgresql":
        return
    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND wait_event_type = 'Lock'")
    with engine.connect() as watcher:
        while not done.is_set():  # reading the photo takes a while; the racer ends either way
            if watcher.execute(query).scalar_one() >= 1:
                return
            watcher.rollback()  # pg_stat_activity is a snapshot per transaction
            time.sleep(0.005)
