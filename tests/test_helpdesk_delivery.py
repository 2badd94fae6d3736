"""An operator's answer goes back through the channel the officer wrote from: Twilio SMS,
WhatsApp, the SMS gateway, the simulator (and Telegram), via real RQ workers to the fake
providers; the ticket page shows each reply's delivery status."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlalchemy import select

from relay.db import session_scope
from relay.models import OutboundMessage, Ticket, TicketMessage
from relay.simulator import send_text
from tests.conftest import PUBLIC_URL, TWILIO_SID, TWILIO_TOKEN
from tests.support import drain, post_gateway, post_twilio_sms
from tests.web_support import logged_in, post_form

PHONE = "+6281234567801"  # Sutrisno, kpps TPS 3576011001001, Indonesian
QUESTION = "Kotak suara TPS kami basah kena hujan"


def post_whatsapp(client, from_: str, body: str):
    from tests.fakes.twilio_signing import realistic_sms_payload, sign

    form = realistic_sms_payload(f"whatsapp:{from_}", "whatsapp:+14155238886", body, TWILIO_SID)
    signature = sign(TWILIO_TOKEN, PUBLIC_URL + "/webhooks/twilio", form)
    return client.post("/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature})


def _twilio_sms(client, fakes) -> Callable[[], list[str]]:
    assert post_twilio_sms(client, PHONE, QUESTION).status_code == 200
    return lambda: [m["Body"] for m in fakes["twilio"].sent_messages() if m["To"] == PHONE]


def _whatsapp(client, fakes) -> Callable[[], list[str]]:
    assert post_whatsapp(client, PHONE, QUESTION).status_code == 200
    to = f"whatsapp:{PHONE}"
    return lambda: [m["Body"] for m in fakes["twilio"].sent_messages() if m["To"] == to]


def _gateway(client, fakes) -> Callable[[], list[str]]:
    assert post_gateway(client, "gw-1", PHONE, QUESTION).status_code == 200
    return lambda: [m["text"] for m in fakes["gateway"].sent_messages() if m["to"] == PHONE]


def _simulator(client, fakes) -> Callable[[], list[str]]:
    send_text(PHONE, QUESTION, operator="trainer")

    def sent() -> list[str]:
        with session_scope() as session:
            return list(
                session.scalars(
                    select(OutboundMessage.text).where(
                        OutboundMessage.channel == "simulator",
                        OutboundMessage.to_address == PHONE,
                        OutboundMessage.status == "sent",
                    )
                )
            )

    return sent


CHANNELS = {
    "twilio": _twilio_sms,
    "whatsapp": _whatsapp,
    "sms-gateway": _gateway,
    "simulator": _simulator,
}


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_operator_reply_reaches_the_officer_on_their_channel(
    client, redis_conn, twilio, gateway, channel: str
) -> None:
    sent = CHANNELS[channel](client, {"twilio": twilio, "gateway": gateway})
    drain(redis_conn)
    with session_scope() as session:
        ticket = session.scalars(select(Ticket)).one()
    assert (ticket.channel, ticket.address, ticket.status) == (channel, PHONE, "open")
    assert sent()[-1].startswith(f"Pesan diteruskan ke help desk (tiket #{ticket.id})")

    logged_in(client)
    page = client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert QUESTION in page and "Sutrisno" in page and "3576011001001" in page
    response = post_form(
        client,
        f"/console/tickets/{ticket.id}/reply",
        {"body": "Simpan formulir di plastik, lalu kirim data seperti biasa."},
        page=f"/console/tickets/{ticket.id}",
    )
    assert response.status_code == 302
    queued = client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert "dalam antrean" in queued

    drain(redis_conn)
    assert sent()[-1] == (
        f"Help desk (tiket #{ticket.id}): "
        "Simpan formulir di plastik, lalu kirim data seperti biasa."
    )
    delivered = client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert re.search(r'class="delivery delivery-sent"[^>]*>terkirim<', delivered)
    with session_scope() as session:
        reply = session.scalars(select(TicketMessage).where(TicketMessage.direction == "out")).one()
        outbound = session.get_one(OutboundMessage, reply.outbound_id)
        ticket = session.get_one(Ticket, ticket.id)
    assert reply.author == "ani" and outbound.channel == channel and outbound.status == "sent"
    assert ticket.waiting_since is None  # answered: it moves behind waiting tickets


def test_a_failed_delivery_shows_why(client, redis_conn, gateway) -> None:
    post_gateway(client, "gw-2", PHONE, QUESTION)
    drain(redis_conn)
    gateway.add_invalid_recipient(PHONE)
    with session_scope() as session:
        ticket_id = session.scalars(select(Ticket.id)).one()
    logged_in(client)
    post_form(client, f"/console/tickets/{ticket_id}/reply", {"body": "Halo"})
    drain(redis_conn)
    page = client.get(f"/console/tickets/{ticket_id}").get_data(as_text=True)
    assert "delivery-failed" in page and "invalid recipient" in page


def test_reply_to_a_telegram_ticket_goes_through_the_bot_api(
    client, redis_conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    telegram = pytest.importorskip("tests.fakes.telegram_server")
    with telegram.FakeTelegram() as fake:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
        monkeypatch.setenv("TELEGRAM_API_URL", fake.url)
        monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "telegram-test-secret")
        chat_id = 555000111
        if hasattr(fake, "add_chat"):
            fake.add_chat(chat_id)
        with session_scope() as session:
            ticket = Ticket(channel="telegram", address=str(chat_id), status="open")
            session.add(ticket)
            session.flush()
            ticket_id = ticket.id
        logged_in(client)
        post_form(client, f"/console/tickets/{ticket_id}/reply", {"body": "Sudah kami cek."})
        drain(redis_conn)
        texts = [m.get("text") for m in fake.sent_messages(chat_id)]
    assert texts == [f"Help desk (tiket #{ticket_id}): Sudah kami cek."]


def test_tickets_queue_oldest_waiting_first_with_tps_and_channel(
    client, redis_conn, gateway
) -> None:
    send_text("+6281234567803", "pertanyaan pertama tentang kotak", operator="trainer")
    drain(redis_conn)
    post_gateway(client, "gw-3", "+6281234567804", "pertanyaan kedua tentang tinta")
    drain(redis_conn)
    logged_in(client)
    html = client.get("/console/tickets").get_data(as_text=True)
    first, second = html.index("pertanyaan pertama"), html.index("pertanyaan kedua")
    assert first < second
    assert "3576011001003" in html and "sms-gateway" in html and "simulator" in html
