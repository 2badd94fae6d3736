"""The /simulator page: sends only through the simulator channel, shows the thread as JSON
and HTML, finds officers, and takes photos (through relay.simulator.send_photo)."""

from __future__ import annotations

from sqlalchemy import select

from relay import simulator
from relay.db import session_scope
from relay.models import InboundMessage, OutboundMessage
from tests.support import drain
from tests.web_support import csrf_from, logged_in

PHONE = "+6281234567801"
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_a_tally_sent_from_the_page_is_answered_on_the_simulator_channel_only(
    client, redis_conn, twilio, gateway
) -> None:
    logged_in(client)
    page = client.get(f"/simulator/?phone={PHONE}")
    assert page.status_code == 200 and "Sutrisno" in page.get_data(as_text=True)
    token = csrf_from(page.data)
    sent = client.post("/simulator/send", data={"phone": PHONE, "text": TALLY, "csrf_token": token})
    assert sent.status_code == 302  # without JavaScript: back to the page
    drain(redis_conn)
    as_json = client.post(
        "/simulator/send",
        data={"phone": PHONE, "text": "YA"},
        headers={"Accept": "application/json", "X-CSRF-Token": token},
    )
    assert as_json.get_json() == {"ok": True, "error": None}
    drain(redis_conn)
    thread = client.get(f"/simulator/thread.json?phone={PHONE}").get_json()["messages"]
    assert [m["direction"] for m in thread] == ["in", "out", "in", "out"]
    assert thread[1]["text"].startswith("Diterima PPWP TPS 3576011001001")
    assert thread[3]["text"].startswith("Terkonfirmasi PPWP TPS 3576011001001")
    with session_scope() as session:
        channels = set(session.scalars(select(OutboundMessage.channel)))
    assert channels == {"simulator"}
    assert twilio.sent_messages() == [] and gateway.sent_messages() == []


def test_empty_and_bad_input_is_refused(client) -> None:
    logged_in(client)
    token = csrf_from(client.get("/simulator/").data)
    headers = {"Accept": "application/json", "X-CSRF-Token": token}
    empty = client.post("/simulator/send", data={"phone": PHONE, "text": "  "}, headers=headers)
    assert empty.status_code == 400 and empty.get_json()["error"] == "Pesan kosong."
    bad_phone = client.post("/simulator/send", data={"phone": "abc", "text": "YA"}, headers=headers)
    assert bad_phone.status_code == 400
    not_image = client.post(
        "/simulator/photo",
        data={"phone": PHONE, "photo": (__import__("io").BytesIO(b"hello"), "a.txt", "text/plain")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert not_image.get_json()["error"] == "Hanya JPEG, PNG atau WebP."


def test_a_photo_goes_to_relay_simulator_send_photo(client, redis_conn) -> None:
    import io

    logged_in(client)
    token = csrf_from(client.get("/simulator/").data)
    response = client.post(
        "/simulator/photo",
        data={"phone": PHONE, "photo": (io.BytesIO(PNG), "c-hasil.png", "image/png")},
        headers={"Accept": "application/json", "X-CSRF-Token": token},
        content_type="multipart/form-data",
    )
    if not hasattr(simulator, "send_photo"):
        assert response.status_code == 400
        assert response.get_json()["error"].startswith("Pengiriman foto lewat simulator belum")
        return
    assert response.get_json()["ok"] is True
    with session_scope() as session:
        inbound = session.scalars(select(InboundMessage)).one()
    assert inbound.channel == "simulator" and inbound.media


def test_officers_are_found_by_name_phone_or_tps(client) -> None:
    logged_in(client)
    by_name = client.get("/simulator/?q=dewi").get_data(as_text=True)
    assert "Dewi Lestari" in by_name and "Sutrisno" not in by_name
    by_phone = client.get("/simulator/?q=081234567803").get_data(as_text=True)
    assert "Bambang Hariyanto" in by_phone and "Dewi Lestari" not in by_phone
    by_tps = client.get("/simulator/?q=3277").get_data(as_text=True)
    assert "Asep Saepudin" in by_tps and "Sutrisno" not in by_tps
