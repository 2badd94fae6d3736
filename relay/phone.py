"""Phone numbers to E.164: Indonesian ones in any common form (08…, +628…, 628…, 8…) as
officers type them in roster files and SMS, and international ones as messengers give them."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")


class InvalidPhone(ValueError):
    pass


def _digits(text: str) -> bool:
    """0-9 only: str.isdigit() also takes '²' or '٣', which no phone network routes."""
    return text.isascii() and text.isdigit()


def to_e164(raw: str) -> str:
    """Return `+62…` for an Indonesian mobile/landline number, or E.164 as given for others.

    Raises InvalidPhone when the text cannot be a phone number.
    """
    text = _SEPARATORS.sub("", raw or "")
    if text.startswith("whatsapp:"):
        text = text.removeprefix("whatsapp:")
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+"):
        digits = text[1:]
        if not _digits(digits) or not 8 <= len(digits) <= 15:
            raise InvalidPhone(raw)
        return "+" + digits
    if not _digits(text):
        raise InvalidPhone(raw)
    if text.startswith("62"):
        national = text[2:]
    elif text.startswith("0"):
        national = text[1:]
    elif text.startswith("8"):
        national = text
    else:
        raise InvalidPhone(raw)
    if not 8 <= len(national) <= 13 or national.startswith("0"):
        raise InvalidPhone(raw)
    return "+62" + national


def international_to_e164(raw: str) -> str:
    """E.164 for a number that is always in full international form, country code first,
    with or without `+` (Telegram's contact `phone_number`): `81234567806` is Japan's
    +81234567806, not an Indonesian 08… typed without its 0. Raises InvalidPhone."""
    text = _SEPARATORS.sub("", raw or "").removeprefix("+")
    if not _digits(text) or not 8 <= len(text) <= 15 or text.startswith("0"):
        raise InvalidPhone(raw)
    return "+" + text
