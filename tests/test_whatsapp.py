"""WhatsApp through Twilio: the same conversation as SMS, replies sent with the
`whatsapp:` sender through the real twilio client, photos fetched with the account's
credentials, checked by content and size, and stored."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from relay.db import session_scope
from relay.models import InboundMessage, Submission
from tests.conftest import PUBLIC_URL, TWILIO_SID, TWILIO_TOKEN
from tests.fakes.twilio_signing import realistic_sms_payload, sign
from tests.support import drain

OFFICER = "whatsapp:+6281234567801"
BUSINESS = "whatsapp:+14155238886"
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"


def post(client, body: str, media=(), sid: str | None = None):
    form = realistic_sms_payload(OFFICER, BUSINESS, body, TWILIO_SID, sid, media=media)
    signature = sign(TWILIO_TOKEN, PUBLIC_URL + "/webhooks/twilio", form)
    return client.post("/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature})


def whatsapp_replies(twilio) -> list[dict]:
    return [m for m in twilio.sent_messages() if m["To"] == OFFICER]


def test_tally_confirm_and_status_over_whatsapp(client, redis_conn, twilio) -> None:
    sid = "SM" + "b" * 32
    assert post(client, TALLY, sid=sid).status_code == 200
    assert post(client, TALLY, sid=sid).status_code == 200  # redelivery
    drain(redis_conn)
    [receipt] = whatsapp_replies(twilio)
    [submission] = _submissions()
    assert receipt["From"] == BUSINESS
    assert receipt["Body"].startswith("Diterima PPWP TPS 3576011001001: 01=120 02=95 03=40")
    post(client, "Ya")
    post(client, "status")
    drain(redis_conn)
    confirmed, status = (m["Body"] for m in whatsapp_replies(twilio)[1:])
    assert confirmed == (
        "Terkonfirmasi PPWP TPS 3576011001001: 01=120 02=95 03=40 SAH=255 TS=5. "
        f"Kode {submission.receipt_code}. Terima kasih."
    )
    assert status.startswith(f"TPS 3576011001001: PPWP terkonfirmasi ({submission.receipt_code})")
    with session_scope() as session:
        channels = set(session.scalars(select(InboundMessage.channel)))
    assert channels == {"whatsapp"}


def test_photo_is_fetched_with_credentials_and_stored(
    client, redis_conn, twilio, media_dir: Path
) -> None:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), "white").save(out, "JPEG")
    url = twilio.add_media(out.getvalue(), "image/jpeg")
    post(client, "", media=[(url, "image/jpeg")])
    drain(redis_conn)
    ack, answer = whatsapp_replies(twilio)
    assert ack["Body"].startswith("Foto diterima dan disimpan")
    assert answer["Body"].startswith("Foto buram.")  # a blank white page: nothing to read
    with session_scope() as session:
        [item] = session.scalars(select(InboundMessage)).one().media
    assert (media_dir / item["key"]).read_bytes() == out.getvalue()
    [media_request] = [r for r in twilio.requests if "/Media/" in r.path]
    assert media_request.status == 200
    assert (media_request.header("Authorization") or "").startswith("Basic ")


def test_a_pdf_sent_as_photo_is_refused(client, redis_conn, twilio, media_dir: Path) -> None:
    url = twilio.add_media(b"%PDF-1.7 C.Hasil scan", "application/pdf")
    post(client, "", media=[(url, "application/pdf")])
    drain(redis_conn)
    [refused] = (m["Body"] for m in whatsapp_replies(twilio))
    assert refused == (
        "File ini bukan foto (application/pdf). Kirim foto formulir C.Hasil (JPEG atau PNG)."
    )
    assert not [r for r in twilio.requests if "/Media/" in r.path]  # never downloaded
    assert not media_dir.exists()


def _submissions() -> list[Submission]:
    with session_scope() as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))


def test_golden_photo_reading_comes_back_with_the_annotated_page(
    client, redis_conn, twilio, media_dir: Path
) -> None:
    golden = Path(__file__).parent / "data" / "ocr" / "ppwp_clean.jpg"
    url = twilio.add_media(golden.read_bytes(), "image/jpeg")
    post(client, "", media=[(url, "image/jpeg")])
    drain(redis_conn)
    ack, reading = whatsapp_replies(twilio)
    assert ack["Body"].startswith("Foto diterima dan disimpan")
    assert reading["Body"].startswith(  # DPT: handwriting and bubbles disagree
        "Dibaca dari foto PPWP TPS 3576011001001: DPT=287? DPTB=3 DPK=2 PHP=260 PDPT=255 "
        "PDPTB=3 PDPK=2 SSD=293 SSR=2 SSTD=31 SS=260 DIS=4 PDIS=3? 01=120 02=95 03=40 SAH=255 "
        "TS=5."
    )
    [page_url] = reading["MediaUrl"]
    assert page_url.startswith(PUBLIC_URL + "/media/")
    path = page_url.removeprefix(PUBLIC_URL)
    page = client.get(path)
    assert page.status_code == 200 and page.mimetype == "image/jpeg"
    assert page.data[:3] == b"\xff\xd8\xff"
    assert client.get(path.split("?")[0] + "?sig=forged").status_code == 403
    assert client.get("/media/../../etc/passwd?sig=x").status_code in (403, 404)


def test_the_same_form_twice_in_one_message_is_one_tally_and_a_rerun_answers_nothing_again(
    client, redis_conn, twilio, media_dir: Path
) -> None:
    """A message stores one tally: its second photo of the same form is echoed, not stored
    again; the photo job run again (a retry after a crash) neither reads nor answers again."""
    from jobs.photo import read_photos
    from relay.models import OutboundMessage, ReviewItem

    golden = (Path(__file__).parent / "data" / "ocr" / "ppwp_clean.jpg").read_bytes()
    media = [(twilio.add_media(golden, "image/jpeg"), "image/jpeg") for _ in range(2)]
    post(client, "", media=media)
    drain(redis_conn)
    _ack, first, second = whatsapp_replies(twilio)
    with session_scope() as session:
        [message] = session.scalars(select(InboundMessage)).all()
        [stored] = session.scalars(select(Submission)).all()
        items = session.scalars(select(ReviewItem.kind).order_by(ReviewItem.id)).all()
        replies = session.scalar(select(func.count()).select_from(OutboundMessage))
    assert (stored.inbound_id, stored.source, stored.status) == (message.id, "photo", "pending")
    assert first["Body"].startswith("Dibaca dari foto PPWP TPS 3576011001001")
    assert stored.receipt_code in first["Body"]
    assert second["Body"] == "PPWP TPS 3576011001001"
    assert message.follow_up is None

    assert read_photos(message.id) == "0 read"
    drain(redis_conn)
    assert len(whatsapp_replies(twilio)) == 3
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 1
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == replies
        again = session.scalars(select(ReviewItem.kind).order_by(ReviewItem.id)).all()
    assert again == items
