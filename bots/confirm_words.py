"""What officers actually type to say "yes, that is right", and the thanks they add.

Checked before the grammar, and only while a tally waits for YA: `ya benar` would otherwise be
read as `YA <receipt code BENAR>`. A trailing `terima kasih` after a tally is politeness, not
part of the tally.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from bots.corrections import looks_like_correction
from bots.grammar import Tally, parse

# Whole messages (compared in upper case, punctuation and emoji removed) that mean YA.
NATURAL_CONFIRMATIONS = frozenset(
    {
        "YA BENAR", "YA SUDAH BENAR", "SUDAH BENAR", "BENAR", "BETUL", "YA BETUL", "SUDAH BETUL",
        "BENAR SEMUA", "SUDAH SESUAI", "SESUAI", "YA SESUAI", "OK BENAR", "OKE BENAR", "OK SIAP",
        "OKE SIAP", "SIAP", "SIP", "SIPP", "MANTAP", "YA OK", "YA OKE", "IYA BENAR", "YA SIAP",
        "YES CORRECT", "YES ITS CORRECT", "YES THATS RIGHT", "YES THAT IS RIGHT", "THATS RIGHT",
        "THAT IS RIGHT", "ALL CORRECT", "ALL GOOD", "LOOKS GOOD", "RIGHT", "CONFIRM",
        "CONFIRMED", "YES CONFIRM", "OK CONFIRM", "YES RIGHT", "YEP", "YUP",
    }
)  # fmt: skip
_THUMBS_ONLY = re.compile("[\U0001f44d\U0001f3fb-\U0001f3ff\ufe0f" r"\s]+")
_THANKS = re.compile(
    r"[\s,.;!]*\b(?:terima\s*kasih|terimakasih|makasih|trima\s*kasih|trims|thanks|thank\s+you|"
    r"thx|tq|tks)\b(?:\s+(?:banyak|ya|pak|bu|mas|mbak|much|a\s+lot))*[\s.!,🙏]*$",
    re.IGNORECASE,
)
_NOT_WORD = re.compile(r"[^0-9A-Za-z ]+")


def _words(message: str) -> str:
    """`Ya, sudah benar!! 🙏` -> `YA SUDAH BENAR` (thanks removed)."""
    bare = _THANKS.sub("", message)
    return " ".join(_NOT_WORD.sub(" ", bare.replace("'", "")).upper().split())


def is_confirmation(message: str) -> bool:
    """A natural `YA`: `ya benar`, `ok siap`, `sip`, 👍, `yes that's right` (thanks allowed)."""
    words = _words(message)
    if not words:  # 👍 alone (any skin tone), never 👍 among other emoji
        return bool(message.strip()) and not _THUMBS_ONLY.sub("", message).strip()
    return words in NATURAL_CONFIRMATIONS


def without_thanks(message: str) -> str | None:
    """The message without a trailing `terima kasih` / `thanks`; None when there is none or
    nothing else is left."""
    bare = _THANKS.sub("", message)
    return bare if bare != message and bare.strip() else None


def tally_text(message: str, contest_codes: Collection[str]) -> str:
    """A tally or a correction with `terima kasih` after it, without the thanks; any other
    message as it came (`BANTUAN …, terima kasih` keeps its words)."""
    bare = without_thanks(message)
    if bare is None:
        return message
    if looks_like_correction(bare) or isinstance(parse(bare, contest_codes), Tally):
        return bare
    return message
