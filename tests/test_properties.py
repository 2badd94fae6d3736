"""Property-based tests (hypothesis) of every parser that takes outside input besides the SMS
grammar (tests/test_grammar.py): phone numbers, Twilio's signed form, the SMS gateway's
signed JSON, Telegram updates, and a provider's Retry-After. Whatever arrives, a parser
returns a well-formed message or refuses with a 4xx; it never raises anything else."""

from __future__ import annotations

import json
import math
import re
import string
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from channels.base import CONNECTION, THROTTLED, Incoming, Rejected, SendError
from channels.http_errors import error_for_status, parse_retry_after
from channels.sms_gateway import SmsGatewayChannel, signature
from channels.twilio import MAX_MEDIA, TwilioChannel
from jobs.outbound import MAX_RETRY_AFTER, retry_delay
from relay.config import Settings
from relay.phone import InvalidPhone, to_e164
from tests.fakes.twilio_signing import realistic_sms_payload, sign

E164 = re.compile(r"\+[0-9]{8,15}")
SETTINGS = Settings(
    public_url="https://relay.example.org",
    twilio_account_sid="AC" + "5" * 32,
    twilio_auth_token="twilio-property-token",
    sms_gateway_secret="gateway-property-secret",
    telegram_bot_token="7000000001:AAFakeTelegramTokenForTestsOnly_x1y2z3",
    telegram_webhook_secret="tg-secret",
)
APP = Flask(__name__)
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text as providers deliver it: any Unicode, with the characters that tend to break things.
odd_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from("\x00\x07\x1b\u202e\ufeff\u200b🗳️👍🏽 '\";<>&%+=#:\\\r\n\t"),
    ),
    max_size=300,
)


# --- phone numbers (relay/phone.py) --------------------------------------------------------------


@FAST
@given(odd_text)
def test_any_text_is_a_phone_in_e164_or_invalid(raw: str) -> None:
    try:
        phone = to_e164(raw)
    except InvalidPhone:
        return
    assert E164.fullmatch(phone), phone
    assert to_e164(phone) == phone  # stable: stored numbers normalise to themselves


national = st.from_regex(r"8[0-9]{7,12}", fullmatch=True)
separators = st.lists(st.sampled_from([" ", "-", ".", "(", ")"]), max_size=4)


@FAST
@given(national, st.sampled_from(["0{}", "62{}", "+62{}", "0062{}", "{}"]), separators)
def test_every_indonesian_form_is_one_number(digits: str, form: str, noise: list[str]) -> None:
    written = form.format(digits)
    for i, mark in enumerate(noise):  # separators anywhere after the first character
        at = 1 + (i * 7) % max(1, len(written) - 1)
        written = written[:at] + mark + written[at:]
    assert to_e164(written) == "+62" + digits


@FAST
@given(st.text(alphabet="0123456789²³¹٠١٢٣٤٥٦٧٨٩０１２", min_size=8, max_size=16))
def test_only_ascii_digits_make_a_number(raw: str) -> None:
    assume(not raw.isascii())
    with pytest.raises(InvalidPhone):
        to_e164(raw)


# --- Twilio's signed form (channels/twilio.py) --------------------------------------------------

TWILIO_URL = SETTINGS.public_url + "/webhooks/twilio"
form_key = st.one_of(
    st.sampled_from(
        ["Body", "From", "MessageSid", "SmsSid", "NumMedia", "MediaUrl0", "MediaUrl9", "To"]
    ),
    st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=12),
)
form_value = st.one_of(odd_text, st.sampled_from(["", "-3", "1e9", "99", "٣", "whatsapp:+62812"]))


def _twilio(form: dict[str, str], signature_: str | None = None) -> list[Incoming]:
    header = (
        sign(SETTINGS.twilio_auth_token, TWILIO_URL, form) if signature_ is None else signature_
    )
    with APP.test_request_context(
        "/webhooks/twilio", method="POST", data=form, headers={"X-Twilio-Signature": header}
    ) as ctx:
        return TwilioChannel().receive(ctx.request, SETTINGS)


@FAST
@given(st.dictionaries(form_key, form_value, max_size=12))
def test_any_signed_twilio_form_is_one_message_or_a_400(form: dict[str, str]) -> None:
    try:
        [message] = _twilio(form)
    except Rejected as rejected:
        assert rejected.status == 400
        return
    sid = form.get("MessageSid") or form.get("SmsSid")
    assert message.provider_id == sid and 0 < len(sid or "") <= 100
    assert message.channel == ("whatsapp" if form["From"].startswith("whatsapp:") else "twilio")
    assert message.text == form.get("Body", "")
    assert 0 < len(message.sender) <= 100
    assert len(message.media) <= MAX_MEDIA
    assert all(item["url"] for item in message.media)
    json.loads(message.payload)


@FAST
@given(odd_text, st.text(alphabet=string.ascii_letters + string.digits + "+/=", max_size=40))
def test_an_unsigned_or_wrongly_signed_twilio_form_is_403(body: str, forged: str) -> None:
    form = realistic_sms_payload(
        "+6281234567801", "+14155550100", body, SETTINGS.twilio_account_sid
    )
    right = sign(SETTINGS.twilio_auth_token, TWILIO_URL, form)
    assume(forged != right)
    with pytest.raises(Rejected) as refused:
        _twilio(form, forged)
    assert refused.value.status == 403


# --- the SMS gateway's signed JSON (channels/sms_gateway.py) -----------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | odd_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4),
    max_leaves=12,
)
gateway_objects = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values | st.text(max_size=120),
        "from": json_values | st.from_regex(r"\+?(62|0)8[0-9]{8,11}", fullmatch=True),
        "text": json_values,
        "received_at": json_values,
    },
)


def _gateway(body: bytes) -> list[Incoming]:
    headers = {
        "X-Signature": signature(SETTINGS.sms_gateway_secret, body),
        "Content-Type": "application/json",
    }
    with APP.test_request_context(
        "/webhooks/sms-gateway", method="POST", data=body, headers=headers
    ) as ctx:
        return SmsGatewayChannel().receive(ctx.request, SETTINGS)


def _check_gateway(body: bytes) -> None:
    try:
        [message] = _gateway(body)
    except Rejected as rejected:
        assert rejected.status in (400, 413)
        return
    data = json.loads(body)
    gateway_id = message.provider_id.rpartition("#")[0]
    assert str(data["id"]).startswith(gateway_id.removesuffix("~"))
    assert 0 < len(message.provider_id) <= 100
    assert 0 < len(message.sender) <= 100
    assert message.text == (data["text"] if isinstance(data.get("text"), str) else "")


@FAST
@given(gateway_objects | json_values)
def test_any_signed_gateway_json_is_one_message_or_a_4xx(value: Any) -> None:
    _check_gateway(json.dumps(value).encode())


@FAST
@given(st.binary(max_size=400))
def test_any_signed_gateway_bytes_are_one_message_or_a_4xx(body: bytes) -> None:
    _check_gateway(body)


# --- Telegram updates (channels/telegram_updates.py) -------------------------------------------

user = st.fixed_dictionaries(
    {"id": st.integers(1, 2**40), "is_bot": st.booleans(), "first_name": odd_text}
)
chat = st.fixed_dictionaries(
    {"id": st.integers(-(2**40), 2**40), "type": st.sampled_from(["private", "group", "channel"])}
)
message = st.fixed_dictionaries(
    {"message_id": st.integers(1, 2**31), "date": st.integers(0, 2**31), "chat": chat},
    optional={
        "from": user,
        "text": odd_text,
        "caption": odd_text,
        "contact": st.fixed_dictionaries(
            {"phone_number": odd_text, "first_name": odd_text},
            optional={"user_id": st.integers(1, 2**40)},
        ),
        "sticker": st.just(
            {
                "file_id": "f",
                "file_unique_id": "u",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        ),
    },
)
updates = st.fixed_dictionaries(
    {"update_id": st.integers(0, 2**31)},
    optional={"message": message, "edited_message": message},
)


@FAST
@given(updates)
def test_any_telegram_update_is_one_message(update: dict[str, Any]) -> None:
    from channels.telegram_updates import from_update

    incoming = from_update(update)
    assert incoming.channel == "telegram"
    assert incoming.provider_id == str(update["update_id"])
    assert incoming.sender
    json.loads(incoming.payload)


@FAST
@given(
    st.integers(0, 2**31),
    st.dictionaries(
        st.sampled_from(["message", "edited_message", "callback_query", "my_chat_member", "x"]),
        json_values | message,
        max_size=3,
    ),
)
def test_any_update_with_an_id_is_stored_whatever_else_it_holds(
    update_id: int, rest: dict[str, Any]
) -> None:
    """The webhook's parser: a malformed update is kept as ignored, never an exception."""
    from channels.telegram import TelegramChannel

    incoming = TelegramChannel.parse({"update_id": update_id, **rest})
    assert incoming.provider_id == str(update_id) and incoming.sender
    json.loads(incoming.payload)


# --- Retry-After from a provider (channels/http_errors.py, jobs/outbound.py) ------------------


@FAST
@given(st.one_of(st.none(), odd_text, st.floats().map(str), st.integers().map(str)))
def test_any_retry_after_gives_a_sane_delay(header: str | None) -> None:
    parsed = parse_retry_after(header)
    assert parsed is None or parsed >= 0
    error = error_for_status(429, "throttled", header)
    assert error.kind == THROTTLED
    delay = retry_delay(error, 1, (5, 15, 60))
    assert delay is not None and 1 <= delay <= MAX_RETRY_AFTER
    assert not math.isnan(float(delay))


@FAST
@given(st.integers(100, 599))
def test_every_status_maps_to_one_error_kind(status: int) -> None:
    error = error_for_status(status, "x")
    assert isinstance(error, SendError)
    assert error.retryable == (status >= 500 or status in (408, 409, 429))
    assert error.kind == (
        THROTTLED if status == 429 else CONNECTION if error.retryable else "failed"
    )
