"""The fake provider servers behave like the real APIs (checked with the real clients)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests
import urllib3
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from tests.fakes.http_fake import FakeHTTPServer
from tests.fakes.sms_gateway_server import FakeSmsGateway, signature
from tests.fakes.twilio_server import FakeTwilio, redirecting_client
from tests.fakes.twilio_signing import realistic_sms_payload, sign

SID = "AC" + "0" * 31 + "1"
TOKEN = "secret-token"
FROM = "+15005550006"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, TOKEN) as fake:
        yield fake


@pytest.fixture
def gateway() -> Iterator[FakeSmsGateway]:
    with FakeSmsGateway("gw-secret") as fake:
        yield fake


def test_real_client_creates_message(twilio: FakeTwilio) -> None:
    client = redirecting_client(twilio.url, SID, TOKEN)
    msg = client.messages.create(
        to="+6281234567890",
        from_=FROM,
        body="PPWP diterima",
        status_callback="https://relay.example/cb",
    )
    assert msg.sid.startswith("SM") and len(msg.sid) == 34
    assert (
        msg.status == "queued"
        and msg.num_segments == "1"
        and msg.direction == "outbound-api"
    )
    assert msg.date_created is not None and msg.price is None
    sent = twilio.sent_messages()
    assert sent == [
        {
            "To": "+6281234567890",
            "From": FROM,
            "Body": "PPWP diterima",
            "StatusCallback": "https://relay.example/cb",
        }
    ]
    assert twilio.created_resources()[0]["sid"] == msg.sid
    (req,) = twilio.wait_for(1)
    assert req.path == f"/2010-04-01/Accounts/{SID}/Messages.json" and req.status == 201


def test_media_urls_are_repeated_fields(twilio: FakeTwilio) -> None:
    client = redirecting_client(twilio.url, SID, TOKEN)
    msg = client.messages.create(
        to="whatsapp:+6281",
        from_="whatsapp:+14155238886",
        body="x",
        media_url=["https://a/1", "https://a/2"],
    )
    assert msg.num_media == "2" and msg.sid.startswith("MM")
    assert twilio.sent_messages()[0]["MediaUrl"] == ["https://a/1", "https://a/2"]


def test_wrong_token_is_401(twilio: FakeTwilio) -> None:
    client = redirecting_client(twilio.url, SID, "wrong")
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to="+6281", from_=FROM, body="x")
    assert err.value.status == 401 and err.value.code == 20003
    assert twilio.sent_messages() == []


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("+15005550001", 21211),
        ("+15005550004", 21610),
        ("+15005550009", 21614),
        ("+15005550003", 21408),
    ],
)
def test_magic_numbers_are_permanent_errors(
    twilio: FakeTwilio, to: str, code: int
) -> None:
    client = redirecting_client(twilio.url, SID, TOKEN)
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to=to, from_=FROM, body="x")
    assert err.value.status == 400 and err.value.code == code
    if code == 21211:
        assert (
            "The 'To' number +15005550001 is not a valid phone number." in err.value.msg
        )


def test_registered_error_number(twilio: FakeTwilio) -> None:
    twilio.add_error_number(
        "+628999", 21610, "Attempt to send to unsubscribed recipient"
    )
    client = redirecting_client(twilio.url, SID, TOKEN)
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to="whatsapp:+628999", from_="whatsapp:+1415", body="x")
    assert err.value.code == 21610


def test_scripted_429_then_success(twilio: FakeTwilio) -> None:
    twilio.fail_next(1, 429, headers={"Retry-After": "2"})
    client = redirecting_client(twilio.url, SID, TOKEN)
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to="+6281", from_=FROM, body="x")
    assert err.value.status == 429 and err.value.code == 20429
    twilio.fail_next(1, 429, headers={"Retry-After": "2"})
    raw = requests.post(
        f"{twilio.url}/2010-04-01/Accounts/{SID}/Messages.json", timeout=2
    )
    assert raw.headers["Retry-After"] == "2" and raw.json()["code"] == 20429
    client.messages.create(to="+6281", from_=FROM, body="x")
    assert [(r.status, r.outcome) for r in twilio.requests] == [
        (429, "scripted"),
        (429, "scripted"),
        (201, "handled"),
    ]
    assert len(twilio.sent_messages()) == 1


def test_timeout_via_delay_and_stop_is_quick(twilio: FakeTwilio) -> None:
    twilio.fail_next(1, None, delay=5.0)  # accepted, but the answer comes too late
    client = redirecting_client(twilio.url, SID, TOKEN, timeout=0.3)
    with pytest.raises(urllib3.exceptions.TimeoutError):  # the client's transport: urllib3
        client.messages.create(to="+6281", from_=FROM, body="x")
    assert len(twilio.sent_messages()) == 1 and twilio.requests[0].delay == 5.0
    started = time.monotonic()
    twilio.stop()
    assert time.monotonic() - started < 2


def test_drop_closes_connection() -> None:
    with FakeHTTPServer() as fake:
        fake.fail_next(1, drop=True, match="/x")
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(fake.url + "/x", timeout=2)
        assert requests.get(fake.url + "/x", timeout=2).status_code == 404
        assert [r.outcome for r in fake.requests] == ["dropped", "handled"]


def test_wait_for_times_out_with_what_was_received() -> None:
    with FakeHTTPServer() as fake:
        requests.post(fake.url + "/a", json={"k": 1}, timeout=2)
        assert fake.wait_for(lambda r: r.json == {"k": 1})[0].path == "/a"
        with pytest.raises(AssertionError, match="POST /a -> 404"):
            fake.wait_for(lambda r: r.path == "/b", timeout=0.1)
        fake.clear()
        assert fake.requests == []


def test_media_requires_basic_auth(twilio: FakeTwilio) -> None:
    url = twilio.add_media(b"\xff\xd8jpeg", "image/jpeg")
    assert requests.get(url, timeout=2).status_code == 401
    assert requests.get(url, auth=(SID, "wrong"), timeout=2).status_code == 401
    ok = requests.get(url, auth=(SID, TOKEN), timeout=2)
    assert ok.status_code == 200 and ok.content == b"\xff\xd8jpeg"
    assert ok.headers["Content-Type"] == "image/jpeg"
    assert requests.get(url + "x", auth=(SID, TOKEN), timeout=2).status_code == 404


def test_signing_matches_validator_and_payload_shape() -> None:
    payload = realistic_sms_payload(
        "+6281234567890", "+14155550100", "PPWP 1 01=1", SID
    )
    assert payload["SmsSid"] == payload["MessageSid"] == payload["SmsMessageSid"]
    assert (
        payload["FromCountry"] == "ID"
        and payload["NumMedia"] == "0"
        and payload["ApiVersion"] == "2010-04-01"
    )
    url = "https://relay.example/webhooks/twilio"
    assert RequestValidator(TOKEN).validate(url, payload, sign(TOKEN, url, payload))
    wa = realistic_sms_payload(
        "whatsapp:+6281",
        "whatsapp:+1415",
        "",
        SID,
        media=[("https://m/1", "image/jpeg")],
    )
    assert (
        wa["WaId"] == "6281"
        and wa["MediaUrl0"] == "https://m/1"
        and wa["MessageType"] == "image"
    )


def test_content_template_is_rendered_from_its_variables(twilio: FakeTwilio) -> None:
    """WhatsApp templates (Content API): ContentSid + ContentVariables, no Body."""
    twilio.add_content_template("HX" + "1" * 32, "Tiket #{{1}}: {{2}}")
    client = redirecting_client(twilio.url, SID, TOKEN)
    msg = client.messages.create(
        to="whatsapp:+6281", from_="whatsapp:+14155238886",
        content_sid="HX" + "1" * 32, content_variables=json.dumps({"1": "7", "2": "Sudah."}),
    )
    assert msg.body == "Tiket #7: Sudah." and msg.status == "queued"
    [sent] = twilio.sent_messages()
    assert sent["ContentSid"] == "HX" + "1" * 32 and sent["Body"] == "Tiket #7: Sudah."
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to="whatsapp:+6281", from_="whatsapp:+14155238886",
                               content_sid="HX" + "2" * 32)
    assert (err.value.status, err.value.code) == (400, 21655)


def test_closed_whatsapp_window_fails_free_text_in_the_status_callback(
    twilio: FakeTwilio,
) -> None:
    """Like Twilio: free text outside the 24-hour window is accepted, then reported failed
    with 63016; a template still goes out; callbacks are signed with the auth token."""
    twilio.close_whatsapp_window("+6281")
    twilio.add_content_template("HX" + "3" * 32, "Halo {{1}}")
    client = redirecting_client(twilio.url, SID, TOKEN)
    callback = "https://relay.example/webhooks/twilio/status"
    text = client.messages.create(to="whatsapp:+6281", from_="whatsapp:+1415", body="Hi",
                                  status_callback=callback)
    template = client.messages.create(
        to="whatsapp:+6281", from_="whatsapp:+1415", content_sid="HX" + "3" * 32,
        content_variables='{"1": "Budi"}', status_callback=callback,
    )
    sms = client.messages.create(to="+6281", from_=FROM, body="Hi", status_callback=callback)
    reports = [(f["MessageSid"], f["MessageStatus"], f.get("ErrorCode")) for _, f in
               twilio.status_callbacks()]
    assert reports == [
        (text.sid, "failed", "63016"),
        (template.sid, "sent", None), (template.sid, "delivered", None),
        (sms.sid, "sent", None), (sms.sid, "delivered", None),
    ]
    received: list[tuple[str, dict[str, str], str]] = []
    answers = twilio.deliver_status_callbacks(
        lambda url, form, headers: received.append((url, form, headers["X-Twilio-Signature"]))
        or 204
    )
    assert answers == [204] * 5 and twilio.status_callbacks() == []
    validator = RequestValidator(TOKEN)
    assert all(validator.validate(url, form, sig) for url, form, sig in received)
    assert not RequestValidator("other").validate(*received[0])


def test_fail_delivery_reports_undelivered(twilio: FakeTwilio) -> None:
    twilio.fail_delivery("+6282", "undelivered", 30003)
    client = redirecting_client(twilio.url, SID, TOKEN)
    client.messages.create(to="+6282", from_=FROM, body="x", status_callback="https://r/cb")
    client.messages.create(to="+6283", from_=FROM, body="x")  # no callback asked: none sent
    assert [(f["MessageStatus"], f.get("ErrorCode")) for _, f in twilio.status_callbacks()] == [
        ("sent", None), ("undelivered", "30003")
    ]


def test_gateway_accepts_signed_send(gateway: FakeSmsGateway) -> None:
    body = json.dumps({"id": "out-1", "to": "+6281", "text": "OK"}).encode()
    resp = requests.post(
        gateway.url + "/send",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Signature": signature("gw-secret", body),
        },
        timeout=2,
    )
    assert resp.status_code == 200
    assert resp.json() == {
        "id": "out-1",
        "status": "queued",
        "gateway_message_id": "gw-1",
    }
    assert gateway.sent_messages() == [{"id": "out-1", "to": "+6281", "text": "OK"}]


def test_gateway_rejects_bad_signature_and_invalid_recipient(
    gateway: FakeSmsGateway,
) -> None:
    body = json.dumps({"id": "out-2", "to": "+6200", "text": "OK"}).encode()
    headers = {"Content-Type": "application/json"}
    assert (
        requests.post(
            gateway.url + "/send", data=body, headers=headers, timeout=2
        ).status_code
        == 401
    )
    bad = {**headers, "X-Signature": signature("other", body)}
    assert (
        requests.post(
            gateway.url + "/send", data=body, headers=bad, timeout=2
        ).status_code
        == 401
    )
    gateway.add_invalid_recipient("+6200")
    good = {**headers, "X-Signature": signature("gw-secret", body)}
    resp = requests.post(gateway.url + "/send", data=body, headers=good, timeout=2)
    assert resp.status_code == 400 and resp.json() == {"error": "invalid recipient"}
    assert gateway.sent_messages() == []


def test_gateway_without_secret_and_scripted_500() -> None:
    with FakeSmsGateway() as gateway:
        gateway.fail_next(1, 500)
        send = {"id": "a", "to": "+6281", "text": "t"}
        assert (
            requests.post(gateway.url + "/send", json=send, timeout=2).status_code
            == 500
        )
        assert (
            requests.post(gateway.url + "/send", json=send, timeout=2).json()[
                "gateway_message_id"
            ]
            == "gw-1"
        )
