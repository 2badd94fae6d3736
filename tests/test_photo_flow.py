"""A photo of the tally form through Telegram and WhatsApp: stored, read, answered with the
values (uncertain ones marked) and the annotated page; confirmed like a typed tally; and each
unreadable photo answered with its retake hint."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from relay.db import session_scope
from relay.models import Submission
from tests.fakes import telegram_updates as tu
from tests.support import drain

GOLDEN = Path(__file__).parent / "data" / "ocr"
USER = 555000222
PHONE = "6281234567801"  # kpps of TPS 3576011001001, whose PPWP form the golden photos show


def post(client, update: dict):
    from tests.conftest import TELEGRAM_SECRET

    return client.post(
        "/webhooks/telegram",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )


def send_photo(
    client, redis_conn, telegram, name: str, update_id: int, worker_class=None
) -> list[dict]:
    post(client, tu.contact_update(update_id, USER, PHONE))
    content = (GOLDEN / name).read_bytes()
    file_id = telegram.add_file(content, f"photos/{name}")
    post(client, tu.photo_update(update_id + 1, USER, file_id=file_id, file_size=len(content)))
    drain(redis_conn, **({"worker_class": worker_class} if worker_class else {}))
    return telegram.sent_messages(USER)[1:]  # after "Terdaftar"


def test_clean_photo_is_read_and_confirmed(client, redis_conn, telegram, media_dir) -> None:
    ack, reading = send_photo(client, redis_conn, telegram, "ppwp_clean.jpg", 9100)
    assert ack["text"].startswith("Foto diterima dan disimpan")
    assert reading["method"] == "sendPhoto"
    [submission] = _submissions()
    # DPT: the handwriting confidently reads 217 where 287 is bubbled (a disagreement is never
    # settled silently): the officer is asked to check it; so is PDIS, whose written 3 the digit
    # model reads as a 5 while its bubble says 3. DIS: no sum checks it, but handwriting and
    # bubbles agree (the empty leading columns beside a marked one speak for X).
    assert reading["caption"].startswith(
        "Dibaca dari foto PPWP TPS 3576011001001: DPT=287? DPTB=3 DPK=2 PHP=260 PDPT=255 "
        "PDPTB=3 PDPK=2 SSD=293 SSR=2 SSTD=31 SS=260 DIS=4 PDIS=3? 01=120 02=95 03=40 SAH=255 "
        f"TS=5. Kode {submission.receipt_code}."
    )
    assert reading["photo"][:3] == b"\xff\xd8\xff"  # the annotated page, as a JPEG
    assert (submission.source, submission.status) == ("photo", "pending")
    buttons = reading["reply_markup"]["inline_keyboard"][0]
    post(
        client,
        tu.callback_update(
            9102, USER, buttons[0]["callback_data"], reading["message_id"], reading["caption"]
        ),
    )
    drain(redis_conn)
    assert _submissions()[0].status == "confirmed"


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("not_a_form.jpg", "Formulir C.Hasil tidak terlihat di foto."),
        ("ppwp_cropped.jpg", "Halaman terpotong"),
        ("foreign_qr.jpg", "Ini bukan formulir C.Hasil dari TPS Relay"),
        ("ppwp_blurred.jpg", "Foto buram."),
        ("ppwp_dark.jpg", "Foto terlalu gelap."),
    ],
)
def test_unreadable_photos_get_their_retake_hint(
    client, redis_conn, telegram, media_dir, name: str, hint: str
) -> None:
    ack, answer = send_photo(client, redis_conn, telegram, name, 9200)
    assert ack["text"].startswith("Foto diterima")
    assert answer["text"].startswith(hint), answer["text"]
    assert _submissions() == []


def _submissions() -> list[Submission]:
    with session_scope() as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))


def test_simulator_photo_that_disagrees_with_the_sms_goes_to_review(
    demo, redis_conn, media_dir
) -> None:
    from bots.review import open_items
    from relay.simulator import replies, send_photo, send_text

    send_text("081234567801", "PPWP 3576011001001 01=121 02=95 03=40 SAH=256 TS=5", operator="ani")
    drain(redis_conn)
    inbound_id = send_photo(
        "081234567801", (GOLDEN / "ppwp_clean.jpg").read_bytes(), "image/jpeg", operator="ani"
    )
    drain(redis_conn)
    texts = [r.text for r in replies(inbound_id)]
    assert texts[0].startswith("Foto diterima dan disimpan")
    assert texts[1].startswith(
        "[LATIHAN, tidak dihitung] Dibaca dari foto PPWP TPS 3576011001001: DPT=287? DPTB=3 "
        "DPK=2 PHP=260 PDPT=255 PDPTB=3 PDPK=2 SSD=293 SSR=2 SSTD=31 SS=260 DIS=4 PDIS=3? "
        "01=120 02=95 03=40"
    )  # the simulator is a training channel: every reply about its tallies says so
    typed, photo = _submissions()
    assert (typed.status, photo.status, photo.source) == ("superseded", "pending", "photo")
    with session_scope() as session:
        [item] = [i for i in open_items(session) if i.kind == "failed_checks"]
        assert item.submission_id == photo.id and item.other_submission_id == typed.id
        assert item.detail["rules"] == ["differs_from_typed"]


def test_simulator_refuses_a_pdf_as_photo(demo, redis_conn, media_dir) -> None:
    from relay.simulator import replies, send_photo

    inbound_id = send_photo("081234567801", b"%PDF-1.7", "application/pdf", operator="ani")
    drain(redis_conn)
    assert [r.text for r in replies(inbound_id)] == [
        "File ini bukan foto (application/pdf). Kirim foto formulir C.Hasil (JPEG atau PNG)."
    ]


def test_simulate_waits_for_the_photo_reading(demo, redis_conn, media_dir) -> None:
    """What `simulate photo` prints: the acknowledgement, then the reading (sequence ≥ 50)."""
    from jobs.photo import READ_SEQUENCE
    from relay.simulator import send_photo, send_text, wait_for_replies

    photo_id = send_photo(
        "081234567801", (GOLDEN / "ppwp_clean.jpg").read_bytes(), "image/jpeg", operator="ani"
    )
    text_id = send_text("081234567801", "STATUS", operator="ani")
    drain(redis_conn)
    shown = [r.text for r in wait_for_replies(photo_id, 5, until_sequence=READ_SEQUENCE)]
    mark = "[LATIHAN, tidak dihitung] "
    assert shown[0].startswith("Foto diterima") and shown[1].startswith(mark + "Dibaca dari foto")
    assert [r.text.removeprefix(mark)[:19] for r in wait_for_replies(text_id, 5)] == [
        "TPS 3576011001001: "
    ]
    with pytest.raises(TimeoutError):  # a reading that never comes is not waited for forever
        list(wait_for_replies(text_id, 0.5, until_sequence=READ_SEQUENCE))


def test_paper_whose_sums_do_not_hold_is_shown_as_written_and_cannot_be_confirmed(
    client, redis_conn, telegram, media_dir
) -> None:
    """The officer's own error (03 = 47 written, the votes add up to 262, SAH 255 written): the
    reply shows the numbers on the paper and names the failing sum; nothing is "corrected"; the
    tally stays pending, cannot be confirmed, and a review item opens."""
    from bots.review import open_items

    _ack, reading = send_photo(client, redis_conn, telegram, "ppwp_sums_wrong.jpg", 9300)
    caption = reading["caption"]
    assert "01=120" in caption and "02=95" in caption and "03=47" in caption, caption
    assert "SAH=255" in caption and "TS=5" in caption, caption
    assert "jumlah suara 262 tidak sama dengan SAH 255" in caption, caption
    [submission] = _submissions()
    assert (submission.status, submission.reason) == ("pending", "checks_failed")
    assert submission.votes_by_ballot() == {1: 120, 2: 95, 3: 47} and submission.sah == 255
    with session_scope() as session:
        items = {i.kind: i for i in open_items(session) if i.submission_id == submission.id}
        assert "sum_equals_sah" in items["failed_checks"].detail["rules"]
    buttons = reading["reply_markup"]["inline_keyboard"][0]
    post(
        client,
        tu.callback_update(9302, USER, buttons[0]["callback_data"], reading["message_id"], caption),
    )
    drain(redis_conn)
    assert _submissions()[0].status == "pending"
    answers = [
        c.get("text", "")
        for c in telegram.calls()
        if c["method"] in ("sendMessage", "editMessageText", "editMessageCaption")
    ]
    assert any(
        "belum bisa dikonfirmasi: jumlah suara 262 tidak sama dengan SAH 255" in a for a in answers
    ), answers


# The job's first phase: the reading (in this process, or in the reader process asking the
# worker for lookups), before the transaction that writes what it says (_answer).
READING_PHASE = ("read_photos", "photo.py")
WRITING_PHASE = ("_answer", "photo.py")


@pytest.mark.parametrize("in_reader", [False, True], ids=["in-process", "reader-process"])
def test_the_reading_holds_no_write_lock(
    client, redis_conn, telegram, media_dir, in_reader: bool
) -> None:
    """While a photo is read (50–200 ms; the reading may ask the job's session for the
    template and the TPS's voter count), the photo job has written nothing yet: on SQLite a
    transaction that has written holds the database's one write lock, and every other
    worker, the sender and the web would wait behind the reading. Every statement of the
    reading phase is a read outside a transaction."""
    import sys

    from rq import SimpleWorker
    from sqlalchemy import event

    from jobs.worker import RelayWorker
    from relay.db import get_engine

    engine = get_engine()
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the database")
    worker_class = RelayWorker if in_reader else SimpleWorker
    reading_phase: list[tuple[str, bool]] = []

    def seen(conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        frame, names = sys._getframe(), set()
        while frame is not None:
            names.add((frame.f_code.co_name, Path(frame.f_code.co_filename).name))
            frame = frame.f_back
        if READING_PHASE in names and WRITING_PHASE not in names:
            verb = statement.split(None, 1)[0].upper()
            reading_phase.append((verb, conn.connection.dbapi_connection.in_transaction))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        _ack, reading = send_photo(
            client, redis_conn, telegram, "ppwp_clean.jpg", 9300, worker_class
        )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert reading["method"] == "sendPhoto"
    assert reading_phase, "the job reads the message before reading its photo"
    assert all(verb == "SELECT" and not open_ for verb, open_ in reading_phase), reading_phase
