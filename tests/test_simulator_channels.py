"""The simulator previews SMS, Telegram and WhatsApp: Telegram's inline buttons are pressed
as the real callback query (the conversation answers by editing the message, as on
Telegram), replies carry photos, SMS segments are counted with bots.sms, a trainer can reset
the training contact, and every time is shown in the pages' one zone (WIB). Real database,
real Redis and RQ workers (tests.support.drain)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from bots import sms
from relay.db import session_scope
from relay.models import AuditEntry, OutboundMessage, ReviewItem, Submission
from tests.ocr_support import DATA as GOLDEN
from tests.support import drain, post_gateway
from tests.web_support import csrf_from, logged_in

PHONE = "+6281234567801"  # Sutrisno, KPPS of TPS 3576011001001
OTHER = "+6281234567802"
TPS = "3576011001001"
TALLY = f"PPWP {TPS} 01=120 02=95 03=40 SAH=255 TS=5"


def _token(client, phone: str = PHONE) -> str:
    return csrf_from(client.get(f"/simulator/?phone={phone}").data)


def _post(client, path: str, data: dict, token: str):
    return client.post(
        path, data=data, headers={"Accept": "application/json", "X-CSRF-Token": token}
    )


def _say(client, redis_conn, text: str, phone: str = PHONE) -> None:
    sent = _post(client, "/simulator/send", {"phone": phone, "text": text}, _token(client, phone))
    assert sent.get_json() == {"ok": True, "error": None}
    drain(redis_conn)


def _thread(client, phone: str = PHONE) -> list[dict]:
    return client.get(f"/simulator/thread.json?phone={phone}").get_json()["messages"]


def _training_tallies() -> list[tuple[str, str | None]]:
    with session_scope() as session:
        return [
            (s.status, s.reason)
            for s in session.scalars(
                select(Submission).where(Submission.training.is_(True)).order_by(Submission.id)
            )
        ]


def test_a_telegram_button_press_confirms_the_tally_and_edits_its_message(
    client, redis_conn
) -> None:
    logged_in(client)
    _say(client, redis_conn, TALLY)
    [_, receipt] = _thread(client)
    assert receipt["buttons"] == ["✅ Benar", "✏️ Koreksi"]  # bots.tallies.confirm_buttons
    code = re.search(r"Kode ([A-Z0-9]{6})\.", receipt["text"]).group(1)

    token = _token(client)
    pressed = _post(client, "/simulator/press",
                    {"phone": PHONE, "outbound_id": receipt["id"], "index": 0}, token)
    assert pressed.get_json() == {"ok": True, "error": None}
    drain(redis_conn)
    assert _training_tallies() == [("confirmed", None)]
    thread = _thread(client)
    press, outcome = thread[2], thread[3]
    # What Telegram delivers: a callback query with the button's data, on that message.
    assert (press["callback"], press["pressed"], press["text"]) == (True, "✅ Benar", f"YA {code}")
    # What the conversation answers on Telegram: an edit of the message, buttons gone.
    assert outcome["edit_of"] == receipt["id"]
    assert outcome["text"].startswith("[LATIHAN, tidak dihitung] Terkonfirmasi PPWP")
    edited = thread[1]["edited_text"]
    assert edited == f"{receipt['text']}\n\n➡️ {outcome['text']}"
    with session_scope() as session:
        answer = session.get_one(OutboundMessage, outcome["id"])
        assert answer.extras["callback_id"].startswith("sim-cb-")
        actors = session.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "tally_confirmed")
        ).all()
    assert actors == ["operator:ani"]

    # Telegram removed the keyboard: the button cannot be pressed again.
    again = _post(client, "/simulator/press",
                  {"phone": PHONE, "outbound_id": receipt["id"], "index": 0}, token)
    assert again.status_code == 400
    assert again.get_json()["error"] == "Tombol itu sudah tidak ada (pesan sudah dijawab)."
    # Nor a button of another officer's thread, nor one that does not exist.
    _say(client, redis_conn, f"PPWP {TPS} 01=1 02=1 03=1 SAH=3 TS=0", phone=OTHER)
    theirs = _thread(client, OTHER)[-1]
    for outbound_id, index in ((theirs["id"], 0), (receipt["id"], 7)):
        refused = _post(client, "/simulator/press",
                        {"phone": PHONE, "outbound_id": outbound_id, "index": index}, token)
        assert refused.status_code == 400


def test_the_fix_button_answers_as_koreksi_does(client, redis_conn) -> None:
    logged_in(client)
    _say(client, redis_conn, TALLY)
    receipt = _thread(client)[-1]
    pressed = _post(client, "/simulator/press",
                    {"phone": PHONE, "outbound_id": receipt["id"], "index": 1}, _token(client))
    assert pressed.status_code == 200
    drain(redis_conn)
    press = _thread(client)[-2]
    assert press["text"].startswith("KOREKSI ") and press["pressed"] == "✏️ Koreksi"
    assert _training_tallies() == [("pending", None)]  # asked which number, not confirmed


def test_reset_sets_the_training_tallies_aside_and_starts_an_empty_thread(
    client, redis_conn
) -> None:
    assert post_gateway(client, "real-1", PHONE, TALLY).status_code == 200  # the real one
    drain(redis_conn)
    assert post_gateway(client, "real-2", PHONE, "YA").status_code == 200
    drain(redis_conn)
    logged_in(client)
    _say(client, redis_conn, TALLY)
    _say(client, redis_conn, "YA")
    _say(client, redis_conn, f"PPWP {TPS} 01=121 02=95 03=40 SAH=256 TS=5")
    assert "sudah terkonfirmasi" in _thread(client)[-1]["text"]  # the training slot is taken

    reset = _post(client, "/simulator/reset", {"phone": PHONE}, _token(client))
    assert reset.get_json() == {"ok": True, "error": None}
    assert _thread(client) == []
    assert _training_tallies() == [
        ("superseded", "training_reset"), ("rejected", "locked_conflict")
    ]
    with session_scope() as session:
        assert session.scalars(
            select(ReviewItem).where(ReviewItem.status == "open")
        ).all() == []  # the training change request is closed with it
        real = session.scalars(select(Submission).where(Submission.training.is_(False))).one()
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "simulator_reset")
        ).one()
    assert (real.status, real.reason) == ("confirmed", None)  # the real tally untouched
    assert entry.actor == "operator:ani" and entry.entity_id == PHONE
    assert (entry.detail["tallies"], entry.detail["review_items"]) == (1, 1)

    # A fresh start: the same tally is received and confirmed again.
    _say(client, redis_conn, TALLY)
    assert [m["direction"] for m in _thread(client)] == ["in", "out"]
    assert "Diterima PPWP" in _thread(client)[-1]["text"]
    _say(client, redis_conn, "YA")
    assert _training_tallies()[-1] == ("confirmed", None)
    page = client.get(f"/simulator/?phone={PHONE}").get_data(as_text=True)
    assert "sudah terkonfirmasi" not in page and "Terkonfirmasi PPWP" in page


def test_live_and_reloaded_messages_show_one_time_zone_and_sms_segments(
    client, redis_conn
) -> None:
    logged_in(client)
    _say(client, redis_conn, TALLY)
    long_question = "BANTUAN " + "formulir basah kena hujan, " * 6  # 170 GSM-7 characters
    _say(client, redis_conn, long_question)
    thread = _thread(client)
    page = html.unescape(client.get(f"/simulator/?phone={PHONE}").get_data(as_text=True))
    for message in thread:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d WIB", message["time"])
        assert f'<span class="time">{message["time"]}</span>' in page  # the same on reload
        assert message["segments"] == sms.segments(message["text"])
    assert [m["segments"] for m in thread if m["text"] == long_question] == [2]


@pytest.mark.parametrize(
    ("query", "cookie", "shown"),
    [("telegram", None, "telegram"), ("", "whatsapp", "whatsapp"), ("fax", None, "sms"),
     ("", None, "sms")],
)
def test_the_previewed_channel_is_chosen_by_link_or_cookie(client, query, cookie, shown) -> None:
    logged_in(client)
    if cookie:
        client.set_cookie("sim_channel", cookie, path="/simulator")
    page = client.get(f"/simulator/?phone={PHONE}&channel={query}").get_data(as_text=True)
    assert f'class="phone ch-{shown}"' in page
    assert f'value="{shown}" form="channel-form" checked' in page
    for label in ("Tampilkan sebagai", '<label for="sms-text"', '<label for="photo-file"'):
        assert label in page


@pytest.mark.usefixtures("media_dir")
def test_photos_in_the_thread_have_thumbnails(client, redis_conn) -> None:
    logged_in(client)
    photo = (GOLDEN / "ppwp_clean.jpg").read_bytes()
    sent = client.post(
        "/simulator/photo",
        data={"phone": PHONE, "photo": (__import__("io").BytesIO(photo), "c.jpg", "image/jpeg")},
        headers={"Accept": "application/json", "X-CSRF-Token": _token(client)},
        content_type="multipart/form-data",
    )
    assert sent.get_json()["ok"] is True
    drain(redis_conn)
    thread = _thread(client)
    [sent_photo] = thread[0]["photos"]
    assert client.get(sent_photo).data == photo
    reading = next(m for m in thread if m["direction"] == "out" and m["photos"])
    page = client.get(reading["photos"][0])
    assert page.status_code == 200 and page.mimetype == "image/jpeg"
    assert reading["buttons"] == ["✅ Benar", "✏️ Koreksi"]
    # Only the simulator's own messages are served here.
    assert client.get(sent_photo.replace("/0", "/5")).status_code == 404
