"""Telegram end to end through the real python-telegram-bot against the fake Bot API:
registration by shared contact, tallies with confirm/correct buttons, photos, commands,
everything else Telegram can send, polling mode, redelivery, throttling and blocking."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from relay.db import session_scope
from relay.models import InboundMessage, Officer, OutboundMessage, Submission
from tests.conftest import TELEGRAM_SECRET
from tests.fakes import telegram_updates as tu
from tests.support import drain, make_database_unreachable

USER = 555000111  # the demo kpps officer of TPS 3576011001001 once registered
PHONE = "6281234567801"
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
_next_update = iter(range(1000, 100000))


def post(client, update: dict, secret: str | None = TELEGRAM_SECRET):
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return client.post("/webhooks/telegram", json=update, headers=headers)


def uid() -> int:
    return next(_next_update)


def register(client, redis_conn, telegram, user: int = USER, phone: str = PHONE) -> None:
    assert post(client, tu.contact_update(uid(), user, phone)).status_code == 200
    drain(redis_conn)
    assert telegram.sent_messages(user)[-1]["text"].startswith("Terdaftar:")


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(out, "JPEG")
    return out.getvalue()


def test_webhook_secret_is_required(client, telegram) -> None:
    update = tu.text_update(uid(), USER, "STATUS")
    assert post(client, update, secret=None).status_code == 403
    assert post(client, update, secret="wrong").status_code == 403
    assert post(client, {"not": "an update"}).status_code == 400
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0
    assert post(client, update).status_code == 200


def test_register_send_confirm_status(client, redis_conn, telegram) -> None:
    post(client, tu.text_update(uid(), USER, "/start"))
    drain(redis_conn)
    [welcome] = telegram.sent_messages(USER)
    assert welcome["text"].startswith("Selamat datang di TPS Relay.")
    assert welcome["reply_markup"]["keyboard"][0][0]["request_contact"] is True

    register(client, redis_conn, telegram)
    with session_scope() as session:
        officer = session.scalar(select(Officer).where(Officer.telegram_user_id == USER))
        assert officer is not None and officer.phone == "+" + PHONE

    post(client, tu.text_update(uid(), USER, TALLY))
    drain(redis_conn)
    receipt_message = telegram.sent_messages(USER)[-1]
    [submission] = _submissions()
    assert receipt_message["text"].startswith("Diterima PPWP TPS 3576011001001: 01=120 02=95")
    buttons = receipt_message["reply_markup"]["inline_keyboard"][0]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [
        ("✅ Benar", f"YA {submission.receipt_code}"),
        ("✏️ Koreksi", f"KOREKSI {submission.receipt_code}"),
    ]

    press = tu.callback_update(
        uid(),
        USER,
        f"YA {submission.receipt_code}",
        receipt_message["message_id"],
        receipt_message["text"],
    )
    post(client, press)
    post(client, press)  # Telegram redelivers: a no-op
    drain(redis_conn)
    assert len(telegram.callback_answers()) == 1
    [edit] = telegram.edits(USER)
    assert edit["text"].startswith(receipt_message["text"])
    assert (
        "Terkonfirmasi PPWP TPS 3576011001001: 01=120 02=95 03=40 SAH=255 TS=5. "
        f"Kode {submission.receipt_code}. Terima kasih."
    ) in edit["text"]
    assert "reply_markup" not in edit or not edit["reply_markup"]
    assert _submissions()[0].status == "confirmed"

    post(client, tu.text_update(uid(), USER, "/status"))
    drain(redis_conn)
    assert telegram.sent_messages(USER)[-1]["text"].startswith(
        f"TPS 3576011001001: PPWP terkonfirmasi ({submission.receipt_code})"
    )


def test_correct_button_then_only_the_named_number(client, redis_conn, telegram) -> None:
    register(client, redis_conn, telegram)
    post(client, tu.text_update(uid(), USER, TALLY))
    drain(redis_conn)
    first = telegram.sent_messages(USER)[-1]
    [pending] = _submissions()
    post(
        client,
        tu.callback_update(
            uid(), USER, f"KOREKSI {pending.receipt_code}", first["message_id"], first["text"]
        ),
    )
    post(client, tu.text_update(uid(), USER, "02=96"))  # breaks the sum: refused
    post(client, tu.text_update(uid(), USER, "02 = 96 sah=256"))
    drain(redis_conn)
    howto = telegram.edits(USER)[-1]["text"]
    assert "Kirim hanya angka yang salah, mis. 02=96" in howto
    refused, corrected = (m["text"] for m in telegram.sent_messages(USER)[-2:])
    assert refused == (  # the earlier numbers still stand, and the officer is told so
        "Ditolak PPWP TPS 3576011001001: jumlah suara 256 tidak sama dengan SAH 255. "
        f"Angka kode {pending.receipt_code} tetap berlaku. Periksa lalu kirim ulang."
    )
    old, new = _submissions()
    assert (old.status, new.status) == ("superseded", "pending")
    assert new.votes_by_ballot() == {1: 120, 2: 96, 3: 40} and (new.sah, new.ts) == (256, 5)
    assert corrected.startswith(
        f"Koreksi PPWP TPS 3576011001001: 01=120 02=96 03=40 SAH=256 TS=5. "
        f"Kode {new.receipt_code} (ganti {old.receipt_code})."
    )


def test_contacts_are_accepted_only_when_own_and_on_the_roster(
    client, redis_conn, telegram
) -> None:
    post(client, tu.contact_update(uid(), USER, PHONE, contact_user_id=999))
    post(client, tu.contact_update(uid(), USER, PHONE, contact_user_id=None))
    post(client, tu.contact_update(uid(), USER, "6289900001111"))
    post(client, tu.text_update(uid(), USER, TALLY))
    drain(redis_conn)
    texts = [m["text"] for m in telegram.sent_messages(USER)]
    assert texts[0].startswith("Itu kontak orang lain.")
    assert texts[1].startswith("Itu kontak orang lain.")
    assert texts[2].startswith("Nomor +6289900001111 tidak terdaftar sebagai petugas KPPS/PPS.")
    # Still unregistered, and an outsider gets UNKNOWN_SENDER_REPLIES (3) answers an hour.
    assert len(texts) == 3
    assert _submissions() == []


def test_photo_is_stored_and_acknowledged(client, redis_conn, telegram, media_dir: Path) -> None:
    register(client, redis_conn, telegram)
    content = jpeg()
    file_id = telegram.add_file(content, "photos/form.jpg")
    post(
        client,
        tu.photo_update(uid(), USER, caption="PPWP", file_id=file_id, file_size=len(content)),
    )
    drain(redis_conn)
    ack, answer = (m["text"] for m in telegram.sent_messages(USER)[-2:])
    assert ack.startswith("Foto diterima dan disimpan")
    assert answer.startswith("Foto buram.")  # a blank white page has no sharp edges at all
    with session_scope() as session:
        message = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        [item] = message.media
    assert item["content_type"] == "image/jpeg" and item["bytes"] == len(content)
    assert (media_dir / item["key"]).read_bytes() == content


def test_pdf_as_document_and_oversized_photo_are_refused(
    client, redis_conn, telegram, media_dir: Path
) -> None:
    register(client, redis_conn, telegram)
    post(
        client,
        tu.document_update(uid(), USER, file_name="c-hasil.pdf", mime_type="application/pdf"),
    )
    fake_jpeg = telegram.add_file(b"%PDF-1.7 not really a photo", "documents/x.jpg")
    post(client, tu.document_update(uid(), USER, file_id=fake_jpeg, file_size=27))
    post(client, tu.photo_update(uid(), USER, file_size=30 * 1024 * 1024))
    drain(redis_conn)
    texts = [m["text"] for m in telegram.sent_messages(USER)][1:]
    assert texts[0] == (
        "File ini bukan foto (application/pdf). Kirim foto formulir C.Hasil (JPEG atau PNG)."
    )
    assert texts[1].startswith("Foto diterima")
    assert texts[2].startswith("Foto diterima")
    assert "File ini bukan foto (image/jpeg)" in texts[3] or "File ini bukan foto" in texts[3]
    assert any(t.startswith("Foto terlalu besar (30.0 MB; maks 20 MB)") for t in texts[3:])
    assert list(media_dir.rglob("*.jpg")) == []


@pytest.mark.parametrize(
    ("update", "reply"),
    [
        (tu.sticker_update(7001, USER), "Maaf, hanya teks dan foto formulir C.Hasil"),
        (tu.voice_update(7002, USER), "Maaf, hanya teks dan foto formulir C.Hasil"),
        (tu.location_update(7003, USER), "Maaf, hanya teks dan foto formulir C.Hasil"),
        (tu.edited_message_update(7004, USER, TALLY, 5), "Pesan yang diedit tidak diproses."),
        (tu.text_update(7005, USER, "/bahasa en"), "Language set to English."),
        (tu.text_update(7006, USER, "/bantuan formulir hilang"), "Pertanyaan diterima (tiket #"),
        (tu.text_update(7007, USER, "/batal"), "Tidak ada kiriman yang menunggu konfirmasi."),
        (tu.text_update(7008, USER, "/foo"), "Pesan diteruskan ke help desk (tiket #"),
        (tu.group_text_update(7009, USER, TALLY), None),
        (tu.channel_post_update(7010, "Info"), None),
        (tu.unknown_update(7011), None),
        (tu.reaction_update(7012, USER, 5), None),
    ],
    ids=[
        "sticker",
        "voice",
        "location",
        "edited",
        "bahasa",
        "bantuan",
        "batal",
        "unknown-cmd",
        "group",
        "channel-post",
        "unknown-kind",
        "reaction",
    ],
)
def test_everything_else_telegram_sends(client, redis_conn, telegram, update, reply) -> None:
    register(client, redis_conn, telegram)
    before = len(telegram.sent_messages())
    assert post(client, update).status_code == 200
    drain(redis_conn)
    sent = telegram.sent_messages()[before:]
    with session_scope() as session:
        stored = session.scalar(
            select(InboundMessage).where(InboundMessage.provider_id == str(update["update_id"]))
        )
        assert stored is not None and stored.status == "processed"
    if reply is None:
        assert sent == []
    else:
        assert len(sent) == 1 and sent[0]["text"].startswith(reply), sent


def test_polling_mode_gives_the_same_result(app_cli, redis_conn, telegram) -> None:
    telegram.queue_update(tu.contact_update(uid(), USER, PHONE))
    telegram.queue_update(tu.text_update(uid(), USER, TALLY))
    result = app_cli.invoke(args=["telegram", "poll", "--once"])
    assert result.output.strip() == "2 update(s) stored", result.output
    assert app_cli.invoke(args=["telegram", "poll", "--once"]).output.strip() == (
        "0 update(s) stored"
    )
    drain(redis_conn)
    texts = [m["text"] for m in telegram.sent_messages(USER)]
    assert texts[0].startswith("Terdaftar:")
    assert texts[1].startswith("Diterima PPWP TPS 3576011001001")


def test_polling_keeps_updates_it_could_not_store(
    app_cli, db, redis_conn, telegram, tmp_path, monkeypatch
) -> None:
    """The database is down: the poller neither dies nor moves Telegram's offset, so the
    update comes again and is stored once the database is back."""
    telegram.queue_update(tu.text_update(uid(), USER, TALLY))
    make_database_unreachable(db, tmp_path, monkeypatch)
    result = app_cli.invoke(args=["telegram", "poll", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "0 update(s) stored"
    monkeypatch.setenv("DATABASE_URL", db)
    result = app_cli.invoke(args=["telegram", "poll", "--once"])
    assert result.output.strip() == "1 update(s) stored", result.output
    drain(redis_conn)
    assert len(telegram.sent_messages(USER)) == 1  # told to register first


def test_webhook_cli_sets_secret_and_url(app_cli, telegram, monkeypatch) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://relay.example.org")
    assert app_cli.invoke(args=["telegram", "webhook", "set"]).exit_code == 0
    assert telegram.webhook["url"] == "https://relay.example.org/webhooks/telegram"
    assert telegram.webhook["secret_token"] == TELEGRAM_SECRET
    assert "callback_query" in telegram.webhook["allowed_updates"]
    assert app_cli.invoke(args=["telegram", "webhook", "delete"]).exit_code == 0
    assert telegram.webhook == {"url": ""}


def test_throttled_then_delivered_and_blocked_marks_unreachable(
    client, redis_conn, telegram
) -> None:
    register(client, redis_conn, telegram)
    telegram.throttle_next(1, retry_after=1)
    post(client, tu.text_update(uid(), USER, "/status"))
    drain(redis_conn)
    with session_scope() as session:
        status_reply = session.scalars(
            select(OutboundMessage).order_by(OutboundMessage.id.desc())
        ).first()
        assert (status_reply.status, status_reply.attempts) == ("sent", 2)
    telegram.block_user(USER)
    post(client, tu.text_update(uid(), USER, "/status"))
    drain(redis_conn)
    with session_scope() as session:
        officer = session.scalar(select(Officer).where(Officer.telegram_user_id == USER))
        assert officer.reachable is False
        last = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id.desc())).first()
        assert (last.status, last.error_kind) == ("failed", "stopped")


def _submissions() -> list[Submission]:
    with session_scope() as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))


# Telegram's contact phone_number is the full international number (country code first,
# with or without "+"); the roster holds E.164. (shared as, the roster number it binds to)
INTERNATIONAL_CONTACTS = [
    ("+6281234567806", "+6281234567806"),  # Indonesia, with +
    ("6281234567806", "+6281234567806"),  # Indonesia, as Telegram usually sends it
    ("81234567806", "+81234567806"),  # Japan: not an Indonesian 08… without its 0
    ("12025550123", "+12025550123"),  # United States
    ("+1 202 555 0123", "+12025550123"),
]


@pytest.mark.parametrize(("shared", "bound"), INTERNATIONAL_CONTACTS)
def test_a_shared_contact_is_an_international_number(
    client, redis_conn, telegram, shared: str, bound: str
) -> None:
    with session_scope() as session:
        rina = session.scalar(select(Officer).where(Officer.phone == "+6281234567806"))
        for phone, name in (("+81234567806", "Tanaka Hiroshi"), ("+12025550123", "Jane Roe")):
            session.add(
                Officer(
                    phone=phone,
                    name=name,
                    role=rina.role,
                    tps_code=rina.tps_code,
                    village_code=rina.village_code,
                )
            )
    user = 777000000 + len(shared)
    post(client, tu.contact_update(uid(), user, shared))
    drain(redis_conn)
    with session_scope() as session:
        officer = session.scalar(select(Officer).where(Officer.telegram_user_id == user))
        assert officer is not None and officer.phone == bound
        name = officer.name
    [answer] = telegram.sent_messages(user)
    assert answer["text"].startswith("Terdaftar:") and name in answer["text"]
