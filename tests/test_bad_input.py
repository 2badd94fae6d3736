"""Bad input at the webhooks: odd and hostile texts, forged and replayed requests, bodies too
big or malformed, a flooding sender. Each gets a specific reply or a 4xx; nothing crashes,
nothing is half-stored, memory stays bounded, and the per-sender rate limit holds.
(Photo corpus — corrupt images, decompression bombs, PDFs as photos — lives with the OCR
and media tests.)"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from relay.config import load_settings
from relay.db import session_scope
from relay.models import InboundMessage, OutboundMessage, Submission
from tests.conftest import GATEWAY_SECRET, PUBLIC_URL, TWILIO_SID, TWILIO_SMS_NUMBER, TWILIO_TOKEN
from tests.fakes.sms_gateway_server import signature
from tests.fakes.twilio_signing import realistic_sms_payload, sign
from tests.live import Gunicorn, process_env, rss_kib
from tests.support import drain, post_gateway, post_twilio_sms
from webhooks import MAX_REQUEST_BYTES

OFFICER = "+6281234567801"  # kpps of TPS 3576011001001, Indonesian
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
LONGEST_REPLY = 320  # two SMS segments: a reply never echoes a long input back


def inbound_texts() -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(InboundMessage.text).order_by(InboundMessage.id)))


def count(model) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def replies_to(fake, phone: str) -> list[str]:
    return [str(m["Body"]) for m in fake.sent_messages() if m["To"] == phone]


# --- texts: long, odd, hostile -----------------------------------------------------------------

# (name, text as sent, start of the one reply expected)
TEXTS = [
    ("10,000 characters of tally", "PPWP 3576011001001 " + "01=1 " * 2000, "01 ditulis lebih"),
    # junk gets a short reply and opens no ticket (bots.chitchat)
    ("10,000 characters of nothing", "x" * 10_000, "Pesan tidak dipahami. Kirim data: PPWP"),
    (
        "control characters",
        "PPWP\x00 3576011001001\x07 01=120\x1b 02=95 03=40 SAH=255 TS=5\x7f",
        "Diterima PPWP TPS 3576011001001: 01=120 02=95 03=40 SAH=255 TS=5.",
    ),
    # the same numbers again: no new code, YA confirms the pending tally
    ("emoji after a tally", TALLY + " 🗳️👍🏽", "PPWP TPS 3576011001001: angka sama dengan kiriman"),
    ("only emoji", "🗳️👍🏽🇮🇩", "Pesan tidak dipahami."),
    ("SQL injection", "'; DROP TABLE inbound_messages; --", "Pesan diteruskan ke help desk"),
    ("SQL in a number", "PPWP 3576011001001 01=1' OR '1'='1 SAH=1 TS=0", "Nilai 01 "),
    ("HTML", "<script>alert(1)</script><img src=x onerror=alert(2)>", "Pesan ditambahkan"),
    # a part of a tally completes the pending tally of that TPS and contest: here it repeats it
    ("right-to-left override", "\u202ePPWP 3576011001001 01=120", "PPWP TPS 3576011001001: angka"),
    ("only NUL", "\x00\x00", "Pesan kosong."),
    ("empty", "", "Pesan kosong."),
]


def test_every_odd_text_is_stored_as_sent_and_answered_once(client, redis_conn, twilio) -> None:
    for name, body, _ in TEXTS:
        assert post_twilio_sms(client, OFFICER, body).status_code == 200, name
    drain(redis_conn)  # one worker, in arrival order
    replies = replies_to(twilio, OFFICER)
    assert len(replies) == len(TEXTS)
    for (name, _, expected), reply in zip(TEXTS, replies, strict=True):
        assert reply.startswith(expected), (name, reply)
        assert len(reply) <= LONGEST_REPLY, (name, reply)
    # Stored verbatim (NUL aside: PostgreSQL text cannot hold it), used only as data.
    assert inbound_texts() == [body.replace("\x00", "") for _, body, _ in TEXTS]
    with session_scope() as session:
        assert session.execute(text("SELECT count(*) FROM inbound_messages")).scalar() == 11
    # the control-character tally only: the same numbers again make no new tally
    assert count(Submission) == 1


# --- signatures and replays ---------------------------------------------------------------------


def _signed_form(body: str, sid: str, url: str = PUBLIC_URL + "/webhooks/twilio"):
    form = realistic_sms_payload(OFFICER, TWILIO_SMS_NUMBER, body, TWILIO_SID, sid)
    return form, sign(TWILIO_TOKEN, url, form)


def test_tampered_or_misdirected_twilio_requests_are_refused(client, twilio) -> None:
    form, signature_ = _signed_form(TALLY, "SM" + "1" * 32)
    tampered = {**form, "Body": TALLY.replace("01=120", "01=121")}
    headers = {"X-Twilio-Signature": signature_}
    assert client.post("/webhooks/twilio", data=tampered, headers=headers).status_code == 403
    # Signed for another address (another deployment, another path): refused here.
    other, other_signature = _signed_form(TALLY, "SM" + "2" * 32, "https://elsewhere.example/x")
    answer = client.post(
        "/webhooks/twilio", data=other, headers={"X-Twilio-Signature": other_signature}
    )
    assert answer.status_code == 403
    # A query string the signature did not cover.
    answer = client.post(
        "/webhooks/twilio?channel=admin", data=form, headers={"X-Twilio-Signature": signature_}
    )
    assert answer.status_code == 403
    assert count(InboundMessage) == 0


def test_a_replayed_request_is_stored_and_answered_once(client, redis_conn, twilio) -> None:
    """Twilio's signatures carry no timestamp: a captured request can be replayed verbatim.
    The message id makes the replay a no-op, whenever it comes."""
    form, signature_ = _signed_form(TALLY, "SM" + "3" * 32)
    headers = {"X-Twilio-Signature": signature_}
    assert client.post("/webhooks/twilio", data=form, headers=headers).status_code == 200
    drain(redis_conn)
    for _ in range(3):
        assert client.post("/webhooks/twilio", data=form, headers=headers).status_code == 200
    drain(redis_conn)
    assert count(InboundMessage) == 1
    assert count(Submission) == 1
    assert len(replies_to(twilio, OFFICER)) == 1
    gateway_body = json.dumps({"id": "gw-1", "from": OFFICER, "text": "STATUS"}).encode()
    for _ in range(3):
        assert _post_gateway_raw(client, gateway_body).status_code == 200
    assert count(InboundMessage) == 2


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=" + "0" * 40,
        "SHA256=" + "0" * 64,
        "upper",  # the right digest in capitals: not what we send, refused
        "other body",
    ],
)
def test_forged_gateway_signatures_are_refused(client, gateway, header: str | None) -> None:
    body = json.dumps({"id": "gw-9", "from": OFFICER, "text": TALLY}).encode()
    good = signature(GATEWAY_SECRET, body)
    value = {
        "upper": "sha256=" + good.removeprefix("sha256=").upper(),
        "other body": signature(GATEWAY_SECRET, body + b" "),
    }.get(header or "", header)
    headers = {} if value is None else {"X-Signature": value}
    answer = client.post(
        "/webhooks/sms-gateway", data=body, content_type="application/json", headers=headers
    )
    assert answer.status_code == 403
    assert count(InboundMessage) == 0


# --- bodies too big or malformed ----------------------------------------------------------------


def _post_gateway_raw(client, body: bytes):
    return client.post(
        "/webhooks/sms-gateway",
        data=body,
        content_type="application/json",
        headers={"X-Signature": signature(GATEWAY_SECRET, body)},
    )


def test_bodies_over_the_limits_are_413(client, twilio, gateway) -> None:
    form, signature_ = _signed_form("x" * (MAX_REQUEST_BYTES + 1), "SM" + "4" * 32)
    answer = client.post("/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature_})
    assert answer.status_code == 413
    one_sms_too_many = json.dumps({"id": "1", "from": OFFICER, "text": "x" * 70_000}).encode()
    assert _post_gateway_raw(client, one_sms_too_many).status_code == 413
    assert count(InboundMessage) == 0


GATEWAY_MALFORMED = [
    ("not JSON", b"{not json", "body is not JSON"),
    ("empty", b"", "body is not JSON"),
    ("invalid UTF-8", b'{"id": "1", "from": "0812", "text": "\xff\xfe"}', "body is not JSON"),
    ("deeply nested", b"[" * 30_000 + b"]" * 30_000, "body is not JSON"),
    ("5,000-digit number", b'{"id": ' + b"9" * 5000 + b"}", "body is not JSON"),
    ("an array", b"[1, 2]", "body must be a JSON object"),
    ("null", b"null", "body must be a JSON object"),
    ("no id", b'{"from": "081234567801", "text": "x"}', "id is required"),
    ("id true", b'{"id": true, "from": "081234567801", "text": "x"}', "id is required"),
    ("id 1.5", b'{"id": 1.5, "from": "081234567801", "text": "x"}', "id is required"),
    ("id blank", b'{"id": "  ", "from": "081234567801", "text": "x"}', "id is required"),
    ("long id", json.dumps({"id": "i" * 101, "from": "0812"}).encode(), "id longer than 100"),
    ("no from", b'{"id": "1", "text": "x"}', "from is required"),
    ("from a number", b'{"id": "1", "from": 81234567801, "text": "x"}', "from is required"),
    ("long from", json.dumps({"id": "1", "from": "9" * 65}).encode(), "from longer than 64"),
]


def test_malformed_gateway_json_is_400_with_the_reason(client, gateway) -> None:
    for name, body, reason in GATEWAY_MALFORMED:
        answer = _post_gateway_raw(client, body)
        assert (answer.status_code, answer.get_data(as_text=True)[: len(reason)]) == (
            400,
            reason,
        ), name
    assert count(InboundMessage) == 0


def test_odd_but_valid_gateway_json_is_stored(client, redis_conn, gateway) -> None:
    bodies = [
        json.dumps({"id": "n1", "from": "0812-3456-7801", "text": "PPWP\u0000 3576011001001"}),
        json.dumps({"id": 17, "from": OFFICER, "text": {"not": "text"}}),
        '\ufeff{"id": "bom", "from": "081234567801", "text": "STATUS"}',
        json.dumps({"id": "u16", "from": OFFICER, "text": "STATUS"}),
    ]
    encoded = [b.encode() for b in bodies[:3]] + [bodies[3].encode("utf-16")]
    for body in encoded:
        assert _post_gateway_raw(client, body).status_code == 200
    drain(redis_conn)
    assert inbound_texts() == ["PPWP 3576011001001", "", "STATUS", "STATUS"]
    assert len(gateway.sent_messages()) == 4


# --- a flooding sender ---------------------------------------------------------------------------


def test_an_unknown_sender_flooding_is_stored_but_told_only_once(
    client, redis_conn, twilio
) -> None:
    """SENDER_RATE_LIMIT (default 20 per SENDER_RATE_WINDOW, 60 s) per sender and channel:
    every message is stored; 20 are processed (an unknown sender is told once who may
    report), the rest are marked rate_limited (an outsider's message carries no tally, so
    it is not processed later), and nothing more is sent to the outsider."""
    settings = load_settings()
    limit = settings.sender_rate_limit
    stranger = "+6285700000099"
    for i in range(limit + 15):
        post_twilio_sms(client, stranger, f"{TALLY} #{i}")
    post_gateway(client, "gw-flood", stranger, TALLY)  # another channel: its own budget
    drain(redis_conn)
    with session_scope() as session:
        statuses = [
            s
            for (s,) in session.execute(
                select(InboundMessage.status)
                .where(InboundMessage.channel == "twilio")
                .order_by(InboundMessage.id)
            )
        ]
    assert statuses == ["processed"] * limit + ["rate_limited"] * 15
    [unknown] = replies_to(twilio, stranger)
    assert unknown.startswith("Nomor ini tidak terdaftar sebagai petugas KPPS/PPS.")
    assert count(Submission) == 0
    with session_scope() as session:
        gateway_status = session.scalar(
            select(InboundMessage.status).where(InboundMessage.channel == "sms-gateway")
        )
    assert gateway_status == "processed"
    assert count(OutboundMessage) == 2


# --- memory under oversized bodies and a flood, on the real web process ------------------------


def test_web_memory_stays_bounded_under_big_bodies_and_a_flood(
    client, twilio, gateway, tmp_path: Path
) -> None:
    with (tmp_path / "web.log").open("wb") as log:
        env = process_env(WEB_CONCURRENCY="1", WEB_ACCESS_LOG="")
        with Gunicorn(env, log=log) as web:
            [worker] = web.worker_pids()
            _flood(web.port, 50)
            before = rss_kib(worker)
            for _ in range(10):  # 10 × 50 MiB announced, 4 MiB actually sent each
                assert _oversized(web.port, 50 * 1024 * 1024, 4 * 1024 * 1024) == 413
            _flood(web.port, 300)
            after = rss_kib(worker)
            assert web.proc is not None and web.proc.poll() is None
    assert after - before < 16 * 1024, f"web worker grew from {before} KiB to {after} KiB"


def _oversized(port: int, announced: int, sent: int) -> int:
    """POST a gateway body announcing `announced` bytes, send `sent` of them, read the answer."""
    head = (
        "POST /webhooks/sms-gateway HTTP/1.1\r\nHost: relay\r\n"
        "Content-Type: application/json\r\nX-Signature: sha256=00\r\n"
        f"Content-Length: {announced}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        chunk = b" " * 65536
        try:
            for _ in range(sent // len(chunk)):
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed without reading it all: fine
        answer = sock.recv(64)
    return int(answer[9:12])


def _flood(port: int, n: int) -> None:
    """`n` signed gateway messages from unknown senders, each on its own connection."""
    for i in range(n):
        body = json.dumps({"id": f"flood-{port}-{i}", "from": f"+62857{i:08d}", "text": "x"})
        payload = body.encode()
        head = (
            "POST /webhooks/sms-gateway HTTP/1.1\r\nHost: relay\r\n"
            "Content-Type: application/json\r\n"
            f"X-Signature: {signature(GATEWAY_SECRET, payload)}\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(head + payload)
            assert sock.recv(64)[9:12] == b"200"


# --- Telegram updates that are not what Telegram sends ------------------------------------------

MALFORMED_UPDATES = [
    {"update_id": 1, "message": "not an object"},
    {"update_id": 2, "message": {"chat": 5}},
    {"update_id": 3, "callback_query": {}},
    {"update_id": 4, "my_chat_member": {}},
    {
        "update_id": 5,
        "message": {"message_id": 1, "date": "x", "chat": {"id": 1, "type": "private"}},
    },
]


def test_malformed_telegram_updates_are_not_a_500(client, telegram) -> None:
    from tests.conftest import TELEGRAM_SECRET

    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    statuses = [
        client.post("/webhooks/telegram", json=update, headers=headers).status_code
        for update in MALFORMED_UPDATES
    ]
    assert statuses == [200] * len(MALFORMED_UPDATES), statuses
    from sqlalchemy import select

    from relay.db import session_scope
    from relay.models import InboundMessage

    with session_scope() as session:  # kept raw, answered nothing, never retried by Telegram
        stored = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert [m.provider_id for m in stored] == [str(u["update_id"]) for u in MALFORMED_UPDATES]
        assert all(m.event == {"type": "ignored"} for m in stored)


def test_deeply_nested_telegram_json_is_a_400(client, telegram) -> None:
    from tests.conftest import TELEGRAM_SECRET

    body = b'{"update_id": 1, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    answer = client.post(
        "/webhooks/telegram",
        data=body,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert answer.status_code == 400
    assert count(InboundMessage) == 0
