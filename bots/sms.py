"""How long a reply is as an SMS: GSM-7 (160 characters in one SMS) or, as soon as one
character is outside GSM-7, UCS-2 (70 UTF-16 units). Replies that carry a tally's numbers
are sent on SMS channels as numbered single-SMS parts instead of one concatenated message, so a
phone that shows parts out of order (or an Android gateway that sends them one by one) still
reads them in order."""

from __future__ import annotations

import re

from bots.replies import LONG_REPLY, split_reply
from bots.reply import Reply

# Channels whose replies are SMS (the simulator is a web page: it shows replies whole).
SMS_CHANNELS = frozenset({"twilio", "sms-gateway"})

GSM7_SINGLE = 160
UCS2_SINGLE = 70
GSM7_PART = 153  # per segment of a concatenated SMS (the header takes the rest)
UCS2_PART = 67

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")  # two septets each (escape + character)

_PAIR = re.compile(r"(?:^|\s)[0-9A-Z]{1,5}(?:\.[0-9]{1,3})?=[0-9]+\??(?=[\s.,;]|$)")
RECEIPT_PAIRS = 3  # a reply with this many `key=value` words carries a tally's numbers


def is_gsm7(body: str) -> bool:
    return all(c in _GSM7_BASIC or c in _GSM7_EXTENDED for c in body)


def length(body: str) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2): what the SMS limit counts."""
    if is_gsm7(body):
        return sum(2 if c in _GSM7_EXTENDED else 1 for c in body)
    return len(body.encode("utf-16-le")) // 2


def single_limit(body: str) -> int:
    """The most one SMS can carry for a text like `body`."""
    return GSM7_SINGLE if is_gsm7(body) else UCS2_SINGLE


def fits_one(body: str) -> bool:
    return length(body) <= single_limit(body)


def segments(body: str) -> int:
    """How many SMS a concatenated message of `body` is billed as."""
    if fits_one(body):
        return 1
    part = GSM7_PART if is_gsm7(body) else UCS2_PART
    return -(-length(body) // part)


def carries_tally(body: str) -> bool:
    """Whether a reply echoes a tally's numbers (a receipt, a confirmation)."""
    return len(_PAIR.findall(body)) >= RECEIPT_PAIRS


# What one message may carry on channels that are not SMS (their own limits).
CHANNEL_LIMITS = {"telegram": 4096, "whatsapp": 1600}


def parts_for(reply: Reply, channel: str) -> list[Reply]:
    """A reply as the messages a channel sends: on SMS a tally's numbers too long for one
    SMS go as numbered single-SMS parts; other texts as one concatenated SMS (up to 1,600);
    other channels cut only at their own limit, unnumbered."""
    if channel in SMS_CHANNELS:
        if carries_tally(reply.text) and not fits_one(reply.text):
            return split_reply(reply, single_limit(reply.text))
        return split_reply(reply, LONG_REPLY)
    return split_reply(reply, CHANNEL_LIMITS.get(channel, LONG_REPLY), marked=False)
