"""SMS tallies end to end: signed webhook → store → real RQ worker → conversation →
reply sent through the real twilio client / HTTP to the fake providers."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from relay.db import session_scope
from relay.models import AuditEntry, InboundMessage, OutboundMessage, Submission, Ticket
from tests.support import drain, post_gateway, post_twilio_sms

OFFICER = "081234567801"  # kpps, TPS 3576011001001, Indonesian
OFFICER_E164 = "+6281234567801"
ENGLISH_OFFICER = "+6281234567802"  # kpps, TPS 3576011001002, English
PPS_OFFICER = "+6281234567809"  # pps, village 3576011001
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"


def replies_to(fake, phone: str) -> list[str]:
    return [m["Body"] for m in fake.sent_messages() if m["To"] == phone]


def submissions() -> list[Submission]:
    with session_scope() as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))


def test_tally_confirm_status_through_twilio(client, redis_conn, twilio) -> None:
    response = post_twilio_sms(client, OFFICER_E164, TALLY)
    assert response.status_code == 200
    assert response.data.endswith(b"<Response/>")
    drain(redis_conn)

    [receipt_reply] = replies_to(twilio, OFFICER_E164)
    [submission] = submissions()
    assert submission.status == "pending"
    assert receipt_reply == (
        "Diterima PPWP TPS 3576011001001: 01=120 02=95 03=40 SAH=255 TS=5. "
        f"Kode {submission.receipt_code}. Balas YA jika benar, atau kirim ulang."
    )
    assert len(receipt_reply) <= 160
    outbound_request = twilio.sent_messages()[0]
    assert outbound_request["From"] == "+14155550100"

    post_twilio_sms(client, OFFICER_E164, "ya")
    drain(redis_conn)
    assert replies_to(twilio, OFFICER_E164)[-1] == (
        "Terkonfirmasi PPWP TPS 3576011001001: 01=120 02=95 03=40 SAH=255 TS=5. "
        f"Kode {submission.receipt_code}. Terima kasih."
    )
    assert submissions()[0].status == "confirmed"

    post_twilio_sms(client, OFFICER_E164, "STATUS")
    drain(redis_conn)
    status = replies_to(twilio, OFFICER_E164)[-1]
    assert status.startswith("TPS 3576011001001: PPWP terkonfirmasi (" + submission.receipt_code)

    with session_scope() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        sent = session.scalars(select(OutboundMessage)).all()
    assert actions == ["tally_received", "tally_confirmed"]
    assert {m.status for m in sent} == {"sent"} and all(
        m.provider_id.startswith("SM") for m in sent
    )


def test_redelivered_message_sid_gives_one_submission_and_one_reply(
    client, redis_conn, twilio
) -> None:
    sid = "SM" + "a" * 32
    for _ in range(3):
        assert post_twilio_sms(client, OFFICER_E164, TALLY, sid=sid).status_code == 200
    drain(redis_conn)
    assert post_twilio_sms(client, OFFICER_E164, TALLY, sid=sid).status_code == 200
    drain(redis_conn)
    assert len(submissions()) == 1
    assert len(replies_to(twilio, OFFICER_E164)) == 1
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_forged_missing_and_misplaced_signatures_are_refused(client, twilio) -> None:
    assert post_twilio_sms(client, OFFICER_E164, TALLY, signature="Zm9yZ2Vk").status_code == 403
    assert post_twilio_sms(client, OFFICER_E164, TALLY, signature="").status_code == 403
    # Not even ASCII (a header is latin-1): refused like any other wrong signature.
    assert post_twilio_sms(client, OFFICER_E164, TALLY, signature="ÿ" * 28).status_code == 403
    from tests.conftest import PUBLIC_URL, TWILIO_SID
    from tests.fakes.twilio_signing import realistic_sms_payload, sign

    form = realistic_sms_payload(OFFICER_E164, "+14155550100", TALLY, TWILIO_SID)
    other_url_signature = sign("another-token", PUBLIC_URL + "/webhooks/twilio", form)
    response = client.post(
        "/webhooks/twilio", data=form, headers={"X-Twilio-Signature": other_url_signature}
    )
    assert response.status_code == 403
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0


def test_a_signature_over_the_url_with_its_default_port_is_accepted(client) -> None:
    """Twilio signs the URL as configured on the number: with ':443' or without it. The
    variant without a port is tried first, the other only when it does not match."""
    from tests.conftest import PUBLIC_URL, TWILIO_SID, TWILIO_TOKEN
    from tests.fakes.twilio_signing import realistic_sms_payload, sign

    with_port = PUBLIC_URL.replace(".org", ".org:443") + "/webhooks/twilio"
    for i, url in enumerate((with_port, PUBLIC_URL + "/webhooks/twilio")):
        form = realistic_sms_payload(OFFICER_E164, "+14155550100", TALLY, TWILIO_SID, f"SM{i:032x}")
        headers = {"X-Twilio-Signature": sign(TWILIO_TOKEN, url, form)}
        assert client.post("/webhooks/twilio", data=form, headers=headers).status_code == 200
    form = realistic_sms_payload(OFFICER_E164, "+14155550100", TALLY, TWILIO_SID, "SM" + "9" * 32)
    elsewhere = PUBLIC_URL.replace(".org", ".org:8443") + "/webhooks/twilio"
    headers = {"X-Twilio-Signature": sign(TWILIO_TOKEN, elsewhere, form)}
    assert client.post("/webhooks/twilio", data=form, headers=headers).status_code == 403
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 2


def test_a_webhook_answer_sets_no_cookie(client) -> None:
    """Providers keep no cookies: a webhook opens no session and sends none back."""
    response = post_twilio_sms(client, OFFICER_E164, TALLY)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_unknown_sender_is_told_once_and_every_message_is_kept(
    client, redis_conn, twilio
) -> None:
    stranger = "+6285700000001"
    post_twilio_sms(client, stranger, TALLY)
    post_twilio_sms(client, stranger, TALLY.replace("120", "121").replace("255", "256"))
    drain(redis_conn)
    [reply] = replies_to(twilio, stranger)
    assert reply.startswith("Nomor ini tidak terdaftar sebagai petugas KPPS/PPS.")
    assert submissions() == []
    with session_scope() as session:
        statuses = list(session.scalars(select(InboundMessage.status)))
    assert statuses == ["processed", "processed"]


def test_each_rule_is_answered_precisely(client, redis_conn, twilio) -> None:
    cases = [
        (
            "PPWP 3576011002001 01=120 02=95 03=40 SAH=255 TS=5",
            "Anda tidak terdaftar untuk TPS 3576011002001. Kode TPS Anda: 3576011001001.",
        ),
        (
            "PPWP 3576011001001 01=120 02=95 03=40 SAH=250 TS=5",
            "Ditolak PPWP TPS 3576011001001: jumlah suara 255 tidak sama dengan SAH 250.",
        ),
        (
            "PPWP 3576011001001 01=120 03=40 SAH=160 TS=5",
            # a part of a tally: kept pending, the reply says what is still missing
            "Diterima sebagian PPWP TPS 3576011001001: 01=120 03=40 SAH=160 TS=5",
        ),
        (
            "PPWP 3576011001001 01=300 02=295 03=240 SAH=835 TS=5",
            "Ditolak PPWP TPS 3576011001001: SAH+TS=840 melebihi surat suara tersedia",
        ),
        ("PPWP 3576011001999 01=120 02=95 03=40 SAH=255 TS=5", "TPS 3576011001999 tidak dikenal."),
        ("PPWP 3576011001001 01=12O 02=95 03=40 SAH=255 TS=5", "Koreksi PPWP TPS 3576011001001"),
    ]
    for text, _ in cases:
        post_twilio_sms(client, OFFICER_E164, text)
        drain(redis_conn)
    replies = replies_to(twilio, OFFICER_E164)
    assert len(replies) == len(cases)
    for reply, (_, expected) in zip(replies, cases, strict=True):
        assert reply.startswith(expected), reply
        assert len(reply) <= 160, reply
    assert "Dibaca: 01=12O->120." in replies[-1]


def test_english_officer_gets_english_and_can_switch(client, redis_conn, twilio) -> None:
    post_twilio_sms(client, ENGLISH_OFFICER, "PPWP 3576011001002 01=1 02=2 03=3 SAH=7 TS=0")
    drain(redis_conn)
    assert replies_to(twilio, ENGLISH_OFFICER)[-1] == (
        "Rejected PPWP TPS 3576011001002: votes add up to 6, not SAH 7. Check and resend."
    )
    post_twilio_sms(client, ENGLISH_OFFICER, "BAHASA ID")
    post_twilio_sms(client, ENGLISH_OFFICER, "BATAL")
    drain(redis_conn)
    assert replies_to(twilio, ENGLISH_OFFICER)[-2:] == [
        "Bahasa diganti ke Bahasa Indonesia.",
        "Tidak ada kiriman yang menunggu konfirmasi. Kirim STATUS untuk melihat data TPS.",
    ]


def test_resend_replaces_pending_and_confirmed_is_locked(client, redis_conn, twilio) -> None:
    post_twilio_sms(client, OFFICER_E164, TALLY)
    drain(redis_conn)
    post_twilio_sms(client, OFFICER_E164, "PPWP 3576011001001 01=121 02=95 03=40 SAH=256 TS=4")
    drain(redis_conn)
    first, second = submissions()
    assert (first.status, second.status) == ("superseded", "pending")
    assert replies_to(twilio, OFFICER_E164)[-1].startswith(
        f"Koreksi PPWP TPS 3576011001001: 01=121 02=95 03=40 SAH=256 TS=4. "
        f"Kode {second.receipt_code} (ganti {first.receipt_code})."
    )
    post_twilio_sms(client, OFFICER_E164, f"YA {second.receipt_code.lower()}")
    post_twilio_sms(client, OFFICER_E164, TALLY)
    post_twilio_sms(client, OFFICER_E164, "STATUS")
    drain(redis_conn)
    *_, confirmed_reply, locked_reply, status = replies_to(twilio, OFFICER_E164)
    assert confirmed_reply.startswith("Terkonfirmasi")
    assert locked_reply.startswith(
        f"PPWP TPS 3576011001001 sudah terkonfirmasi (kode {second.receipt_code}); "
        "data baru tidak dipakai."
    )
    conflict = submissions()[-1]
    assert (conflict.status, conflict.reason) == ("rejected", "locked_conflict")
    assert f"PPWP KONFLIK ({second.receipt_code} vs {conflict.receipt_code})" in status


def test_pps_officer_reports_for_any_tps_of_the_village(client, redis_conn, twilio) -> None:
    post_twilio_sms(client, PPS_OFFICER, "PPWP 3576011001002 01=10 02=20 03=30 SAH=60 TS=1")
    post_twilio_sms(client, PPS_OFFICER, "PPWP 3576011002001 01=10 02=20 03=30 SAH=60 TS=1")
    drain(redis_conn)
    accepted, refused = replies_to(twilio, PPS_OFFICER)
    assert accepted.startswith("Diterima PPWP TPS 3576011001002")
    assert refused == (
        "Anda tidak terdaftar untuk TPS 3576011002001. "
        "Kode TPS Anda: 3576011001001 s.d. 004 (4 TPS). Kirim ulang dengan kode itu."
    )


def test_help_opens_a_ticket_and_continues_it(client, redis_conn, twilio) -> None:
    post_twilio_sms(client, OFFICER_E164, "BANTUAN formulir C.Hasil basah kena hujan")
    post_twilio_sms(client, OFFICER_E164, "help masih menunggu")
    drain(redis_conn)
    opened, continued = replies_to(twilio, OFFICER_E164)
    with session_scope() as session:
        [ticket] = session.scalars(select(Ticket)).all()
        bodies = [m.body for m in ticket.messages]
    assert opened.startswith(f"Pertanyaan diterima (tiket #{ticket.id}).")
    assert continued.startswith(f"Pesan ditambahkan ke tiket #{ticket.id}.")
    assert bodies == ["formulir C.Hasil basah kena hujan", "masih menunggu"]


def test_sms_gateway_round_trip_and_signature(client, redis_conn, gateway) -> None:
    assert post_gateway(client, "gw-17", "0812-3456-7801", TALLY).status_code == 200
    assert post_gateway(client, "gw-17", "0812-3456-7801", TALLY).status_code == 200
    assert post_gateway(client, "gw-18", OFFICER, TALLY, secret="wrong").status_code == 403
    bad_json = client.post(
        "/webhooks/sms-gateway", data=b"{not json", headers={"X-Signature": "sha256=00"}
    )
    assert bad_json.status_code == 403
    drain(redis_conn)
    [sent] = gateway.sent_messages()
    [submission] = submissions()
    assert sent["to"] == OFFICER_E164
    assert sent["text"].startswith("Diterima PPWP TPS 3576011001001")
    assert submission.receipt_code in sent["text"]
    assert re.fullmatch(r"out-\d+", sent["id"])
    signed = gateway.requests[-1].header("X-Signature")
    assert signed and signed.startswith("sha256=")
