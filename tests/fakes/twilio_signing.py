"""Sign Twilio webhooks with the real library, and build the form Twilio POSTs inbound."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from twilio.request_validator import RequestValidator

from tests.fakes.twilio_server import count_segments, new_sid

#: Country code prefix -> ISO country Twilio reports in FromCountry/ToCountry.
_COUNTRIES = {
    "+62": "ID",
    "+1": "US",
    "+44": "GB",
    "+61": "AU",
    "+65": "SG",
    "+60": "MY",
}


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The ``X-Twilio-Signature`` Twilio sends for a form POST of ``params`` to ``url``."""
    return RequestValidator(auth_token).compute_signature(url, dict(params))


def _country(number: str) -> str:
    bare = number.removeprefix("whatsapp:")
    return next((c for prefix, c in _COUNTRIES.items() if bare.startswith(prefix)), "")


def _media_fields(media: Sequence[tuple[str, str]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for n, (url, content_type) in enumerate(media):
        fields[f"MediaContentType{n}"] = content_type
        fields[f"MediaUrl{n}"] = url
    return fields


def realistic_sms_payload(
    from_: str,
    to: str,
    body: str,
    account_sid: str,
    message_sid: str | None = None,
    *,
    media: Sequence[tuple[str, str]] = (),
    profile_name: str = "KPPS",
) -> dict[str, str]:
    """The form fields Twilio POSTs for an inbound message, in Twilio's order.

    ``media`` is ``[(url, content_type), ...]``. A ``whatsapp:`` sender gets
    WhatsApp's layout (``ProfileName``, ``WaId``, ``MessageType``, no geo fields).
    Geo fields other than the country are empty, as Twilio sends them for Indonesia.
    """
    sid = message_sid or new_sid("MM" if media else "SM")
    segments = str(count_segments(body)) if body else "1"
    if from_.startswith("whatsapp:"):
        kind = ("image" if media[0][1].startswith("image/") else "document") if media else "text"
        return {
            "SmsMessageSid": sid,
            "NumMedia": str(len(media)),
            **_media_fields(media),
            "ProfileName": profile_name,
            "MessageType": kind,
            "SmsSid": sid,
            "WaId": from_.removeprefix("whatsapp:+"),
            "SmsStatus": "received",
            "Body": body,
            "To": to,
            "NumSegments": segments,
            "ReferralNumMedia": "0",
            "MessageSid": sid,
            "AccountSid": account_sid,
            "From": from_,
            "ApiVersion": "2010-04-01",
        }
    return {
        "ToCountry": _country(to),
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": str(len(media)),
        **_media_fields(media),
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": _country(from_),
        "To": to,
        "ToZip": "",
        "NumSegments": segments,
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": "2010-04-01",
    }
