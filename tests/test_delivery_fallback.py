"""An operator's reply the officer's channel cannot deliver goes by SMS, and the ticket says
why: Telegram blocked / chat not found, WhatsApp's 24-hour window closed (with no approved
template, or reported by Twilio's status callback as 63016), any other permanent refusal.
Outside the window a configured WhatsApp template (Content API) is used instead. Everything
runs through real RQ workers, the real twilio/python-telegram-bot clients and the fake
provider servers; Twilio's status callbacks arrive signed at /webhooks/twilio/status."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from relay.db import session_scope
from relay.models import AuditEntry, InboundMessage, OutboundMessage, Ticket, TicketMessage
from tests.conftest import PUBLIC_URL, TELEGRAM_SECRET, TWILIO_TOKEN
from tests.fakes import telegram_updates as tu
from tests.fakes.twilio_signing import sign
from tests.support import drain
from tests.test_helpdesk_delivery import post_whatsapp
from tests.web_support import logged_in, post_form

PHONE = "+6281234567801"  # Sutrisno, kpps TPS 3576011001001, Indonesian
USER = 555000111
QUESTION = "Kotak suara TPS kami basah kena hujan"
ANSWER = "Simpan formulir di plastik, lalu kirim data seperti biasa."
TEMPLATE_SID = "HX" + "a" * 32
STATUS_PATH = "/webhooks/twilio/status"
_updates = iter(range(70000, 80000))


def _telegram_ticket(client, redis_conn, telegram) -> int:
    """The officer registers on Telegram by sharing their contact, then asks a question."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    client.post("/webhooks/telegram", json=tu.contact_update(next(_updates), USER, PHONE[1:]),
                headers=headers)
    client.post("/webhooks/telegram", json=tu.text_update(next(_updates), USER, QUESTION),
                headers=headers)
    drain(redis_conn)
    return _ticket_id("telegram")


def _whatsapp_ticket(client, redis_conn, aged: bool = False) -> int:
    assert post_whatsapp(client, PHONE, QUESTION).status_code == 200
    drain(redis_conn)
    if aged:  # the officer last wrote 25 hours ago: WhatsApp's window has closed
        with session_scope() as session:
            session.execute(
                update(InboundMessage).values(received_at=datetime.now(UTC) - timedelta(hours=25))
            )
    return _ticket_id("whatsapp")


def _ticket_id(channel: str) -> int:
    with session_scope() as session:
        return session.scalars(select(Ticket.id).where(Ticket.channel == channel)).one()


@pytest.fixture(autouse=True)
def _operator(client) -> None:
    logged_in(client)


def _reply(client, ticket_id: int, body: str = ANSWER) -> None:
    response = post_form(client, f"/console/tickets/{ticket_id}/reply", {"body": body},
                         page=f"/console/tickets/{ticket_id}")
    assert response.status_code == 302


def _page(client, ticket_id: int) -> str:
    return html.unescape(client.get(f"/console/tickets/{ticket_id}").get_data(as_text=True))


def _reply_rows(ticket_id: int) -> tuple[OutboundMessage, OutboundMessage | None]:
    """The operator reply's outbound row and its SMS copy (if any)."""
    with session_scope() as session:
        reply = session.scalars(
            select(TicketMessage).where(
                TicketMessage.ticket_id == ticket_id, TicketMessage.author == "ani"
            )
        ).one()
        original = session.get_one(OutboundMessage, reply.outbound_id)
        copy = session.scalar(
            select(OutboundMessage).where(OutboundMessage.fallback_of_id == original.id)
        )
        session.expunge_all()
        return original, copy


def _sms_to(twilio) -> Callable[[], list[str]]:
    return lambda: [str(m["Body"]) for m in twilio.sent_messages() if m["To"] == PHONE]


def _whatsapp_to(twilio) -> list[dict]:
    return [m for m in twilio.sent_messages() if m["To"] == f"whatsapp:{PHONE}"]


def _deliver_callbacks(client, twilio) -> list[int]:
    def post(url: str, form: dict[str, str], headers: dict[str, str]):
        assert url == PUBLIC_URL + STATUS_PATH
        return client.post(urlsplit(url).path, data=form, headers=headers)

    return [r.status_code for r in twilio.deliver_status_callbacks(post)]


@pytest.mark.parametrize(
    ("provider_problem", "key", "reason", "reason_en"),
    [
        ("block_user", "telegram_blocked", "petugas memblokir bot Telegram",
         "the officer blocked the Telegram bot"),
        ("forget_chat", "telegram_chat_not_found", "Telegram tidak mengenal obrolan ini lagi",
         "Telegram no longer knows this chat"),
        ("deactivate_user", "telegram_deactivated", "akun Telegram petugas sudah dihapus",
         "the officer's Telegram account was deleted"),
    ],
)
def test_telegram_reply_that_cannot_be_delivered_goes_by_sms(
    client, redis_conn, twilio, telegram, provider_problem: str, key: str, reason: str,
    reason_en: str,
) -> None:
    ticket_id = _telegram_ticket(client, redis_conn, telegram)
    getattr(telegram, provider_problem)(USER)
    _reply(client, ticket_id)
    drain(redis_conn)

    expected = f"Help desk (tiket #{ticket_id}): {ANSWER}"
    assert _sms_to(twilio)() == [expected]
    assert expected not in [m.get("text") for m in telegram.sent_messages(USER)]
    original, copy = _reply_rows(ticket_id)
    assert (original.channel, original.status) == ("telegram", "failed")
    assert copy is not None and (copy.channel, copy.to_address, copy.status) == (
        "twilio", PHONE, "sent"
    )
    assert copy.extras == {"fallback_reason": key}
    page = _page(client, ticket_id)
    assert f"dikirim lewat SMS ke {PHONE} karena {reason}" in page
    english = html.unescape(client.get(f"/console/tickets/{ticket_id}",
                                       headers={"Accept-Language": "en"}).get_data(as_text=True))
    assert f"sent by SMS to {PHONE} because {reason_en}" in english
    with session_scope() as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "reply_fallback")
        ).one()
        assert audit.entity_id == str(original.id) and audit.detail["sms"] == copy.id


def test_whatsapp_outside_the_window_uses_the_approved_template(
    client, redis_conn, twilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHATSAPP_TEMPLATE_HELPDESK_REPLY_ID", TEMPLATE_SID)
    twilio.add_content_template(TEMPLATE_SID, "Balasan help desk (tiket #{{1}}): {{2}}")
    ticket_id = _whatsapp_ticket(client, redis_conn, aged=True)
    assert f"balasan dikirim dengan templat {TEMPLATE_SID}" in _page(client, ticket_id)
    _reply(client, ticket_id)
    drain(redis_conn)

    [sent] = _whatsapp_to(twilio)[-1:]
    assert sent["ContentSid"] == TEMPLATE_SID and "Body" in sent  # the fake renders it
    assert sent["Body"] == f"Balasan help desk (tiket #{ticket_id}): {ANSWER}"
    assert _sms_to(twilio)() == []
    original, copy = _reply_rows(ticket_id)
    assert original.status == "sent" and copy is None
    assert f"dikirim dengan templat WhatsApp {TEMPLATE_SID}" in _page(client, ticket_id)
    # Twilio then reports it delivered: kept on the row, shown on the ticket.
    assert _deliver_callbacks(client, twilio) and set(_deliver_callbacks(client, twilio)) <= {204}
    original, _ = _reply_rows(ticket_id)
    assert original.provider_status == "delivered"
    assert "status penyedia: delivered" in _page(client, ticket_id)


def test_whatsapp_outside_the_window_without_a_template_says_so_and_goes_by_sms(
    client, redis_conn, twilio
) -> None:
    ticket_id = _whatsapp_ticket(client, redis_conn, aged=True)
    before = len(_whatsapp_to(twilio))
    page = _page(client, ticket_id)
    assert "WHATSAPP_TEMPLATE_HELPDESK_REPLY tidak diatur" in page
    _reply(client, ticket_id)
    drain(redis_conn)

    assert len(_whatsapp_to(twilio)) == before  # not even tried: it could not arrive
    assert _sms_to(twilio)() == [f"Help desk (tiket #{ticket_id}): {ANSWER}"]
    original, copy = _reply_rows(ticket_id)
    assert original.status == "failed" and "no approved template configured" in (
        original.last_error or ""
    )
    assert copy is not None and copy.status == "sent"
    assert (
        f"dikirim lewat SMS ke {PHONE} karena jendela 24 jam WhatsApp sudah tertutup "
        "dan tidak ada templat yang disetujui"
    ) in _page(client, ticket_id)


def test_whatsapp_window_closed_reported_by_the_status_callback(
    client, redis_conn, twilio
) -> None:
    """Our clock says the window is open, but WhatsApp says otherwise: Twilio accepts the
    message, then reports it failed with 63016; the reply goes by SMS once."""
    ticket_id = _whatsapp_ticket(client, redis_conn)
    twilio.close_whatsapp_window(PHONE)
    _reply(client, ticket_id)
    drain(redis_conn)
    original, copy = _reply_rows(ticket_id)
    assert original.status == "sent" and copy is None

    callbacks = twilio.status_callbacks()
    assert any(f.get("ErrorCode") == "63016" for _, f in callbacks)
    assert set(_deliver_callbacks(client, twilio)) == {204}
    # Twilio may repeat a callback: still one SMS.
    for url, form in callbacks:
        signed = {"X-Twilio-Signature": sign(TWILIO_TOKEN, url, form)}
        assert client.post(STATUS_PATH, data=form, headers=signed).status_code == 204
    drain(redis_conn)

    original, copy = _reply_rows(ticket_id)
    assert (original.status, original.provider_status) == ("failed", "failed")
    assert "63016" in (original.last_error or "")
    assert copy is not None and copy.status == "sent"
    assert _sms_to(twilio)() == [f"Help desk (tiket #{ticket_id}): {ANSWER}"]
    assert "karena jendela 24 jam WhatsApp sudah tertutup" in _page(client, ticket_id)


def test_whatsapp_permanent_failure_goes_by_sms(client, redis_conn, twilio) -> None:
    ticket_id = _whatsapp_ticket(client, redis_conn)
    twilio.add_error_number(f"whatsapp:{PHONE}", 63003, "Channel could not find To address")
    _reply(client, ticket_id)
    drain(redis_conn)
    original, copy = _reply_rows(ticket_id)
    assert original.status == "failed" and "63003" in (original.last_error or "")
    assert copy is not None and copy.status == "sent"
    assert "karena kanal whatsapp gagal mengirim" in _page(client, ticket_id)


def test_undelivered_sms_does_not_fall_back_to_itself(client, redis_conn, twilio) -> None:
    """An operator reply on SMS that Twilio reports undelivered is marked failed, no copy."""
    from tests.support import post_twilio_sms

    post_twilio_sms(client, PHONE, QUESTION)
    drain(redis_conn)
    ticket_id = _ticket_id("twilio")
    twilio.fail_delivery(PHONE, "undelivered", 30003)
    _reply(client, ticket_id)
    drain(redis_conn)
    _deliver_callbacks(client, twilio)
    original, copy = _reply_rows(ticket_id)
    assert (original.status, original.provider_status, copy) == ("failed", "undelivered", None)
    assert "30003" in (original.last_error or "")


def test_conversation_replies_do_not_fall_back(client, redis_conn, twilio, telegram) -> None:
    """Only the help desk's messages go by SMS; a reply to a message just sent does not."""
    _telegram_ticket(client, redis_conn, telegram)
    telegram.block_user(USER)
    client.post("/webhooks/telegram", json=tu.text_update(next(_updates), USER, "/status"),
                headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    drain(redis_conn)
    with session_scope() as session:
        assert session.scalar(
            select(OutboundMessage).where(OutboundMessage.fallback_of_id.is_not(None))
        ) is None
    assert _sms_to(twilio)() == []


def test_status_callback_must_be_signed(client, redis_conn, twilio) -> None:
    ticket_id = _whatsapp_ticket(client, redis_conn)
    twilio.close_whatsapp_window(PHONE)
    _reply(client, ticket_id)
    drain(redis_conn)
    [(url, form)] = [c for c in twilio.status_callbacks() if c[1].get("ErrorCode")]
    assert client.post(STATUS_PATH, data=form).status_code == 403
    wrong = {"X-Twilio-Signature": sign("not-the-token", url, form)}
    assert client.post(STATUS_PATH, data=form, headers=wrong).status_code == 403
    forged = {**form, "ErrorCode": "30008"}  # signed over other values
    signed = {"X-Twilio-Signature": sign(TWILIO_TOKEN, url, form)}
    assert client.post(STATUS_PATH, data=forged, headers=signed).status_code == 403
    original, copy = _reply_rows(ticket_id)
    assert (original.status, original.provider_status, copy) == ("sent", None, None)
    assert client.post(STATUS_PATH, data=form, headers=signed).status_code == 204
    drain(redis_conn)
    original, copy = _reply_rows(ticket_id)
    assert original.status == "failed" and copy is not None


def test_notices_use_the_notice_template_in_the_officers_language(
    client, redis_conn, twilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A help-desk notice (e.g. about a reviewed tally) to an English-speaking officer whose
    window has closed: WHATSAPP_TEMPLATE_HELPDESK_NOTICE_EN wins over the neutral one."""
    from bots.helpdesk import message_officer
    from jobs.queues import enqueue_outbound
    from relay.models import Officer

    english = "+6281234567802"  # Dewi Lestari, kpps TPS 3576011001002, English
    notice_en, notice = "HX" + "e" * 32, "HX" + "f" * 32
    monkeypatch.setenv("WHATSAPP_TEMPLATE_HELPDESK_NOTICE_EN", notice_en)
    monkeypatch.setenv("WHATSAPP_TEMPLATE_HELPDESK_NOTICE", notice)
    twilio.add_content_template(notice_en, "TPS Relay help desk: {{1}}")
    assert post_whatsapp(client, english, "STATUS").status_code == 200
    drain(redis_conn)
    with session_scope() as session:
        session.execute(
            update(InboundMessage).values(received_at=datetime.now(UTC) - timedelta(days=2))
        )
        officer = session.scalars(select(Officer).where(Officer.phone == english)).one()
        queued = message_officer(session, officer, "PPWP TPS 3576011001002 was corrected.")
        assert queued is not None and queued.channel == "whatsapp"
        queued_id = queued.id
    enqueue_outbound(queued_id)
    drain(redis_conn)
    sent = [m for m in twilio.sent_messages() if m["To"] == f"whatsapp:{english}"][-1]
    assert sent["ContentSid"] == notice_en
    assert sent["Body"] == "TPS Relay help desk: PPWP TPS 3576011001002 was corrected."
    with session_scope() as session:
        row = session.get_one(OutboundMessage, queued_id)
        assert (row.status, row.extras["content_sid"]) == ("sent", notice_en)
