"""Small talk: greetings, thanks, "ok" and junk get a short friendly reply, never a ticket.

At millions of officers, every "terima kasih" that opened a ticket would be an operator's
minute. The conversation asks here only when no tally of the officer waits for YA, so
"ok", "sip" or 👍 after a tally still confirm it (bots.conversation).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from bots import wordmatch
from bots.grammar import (
    CANCEL_WORDS,
    CHECK_WORDS,
    CONFIRM_WORDS,
    HELP_WORDS,
    LANGUAGE_WORDS,
    STATUS_WORDS,
)
from bots.messages import text

GREETINGS = frozenset(
    """
    halo hallo helo hai hi hey hello pagi siang sore malam selamat assalamualaikum
    assalamualaikum wr wb salam permisi morning afternoon evening good
    """.split()
)
THANKS = frozenset(
    "terima kasih makasih trims trimakasih terimakasih thanks thank thx tq ty".split()
)
ACKS = frozenset("ok oke okay okey sip siap baik noted mantap good great".split())
# Words that may come along with any of the above ("halo pak", "terima kasih banyak ya").
COURTESY = frozenset(
    """
    pak bu bapak ibu mas mbak kak min admin bang dik semua all banyak much very so ya yaa
    ok oke sir madam team tim everyone you
    """.split()
)
# Words the grammar answers itself, even alone: "YA" with nothing pending says so, "PPWP"
# alone that the TPS code is missing.
COMMAND_WORDS = frozenset(
    word.lower()
    for word in (*CONFIRM_WORDS, *CANCEL_WORDS, *STATUS_WORDS, *CHECK_WORDS, *HELP_WORDS)
    if word not in ("OK", "OKE")  # "ok" alone is small talk unless a tally waits for YA
) | frozenset(word.lower() for word in LANGUAGE_WORDS)
_LAUGH = re.compile(r"^(wk)+w?$|^(ha)+h?$|^(he)+h?$|^(hi)+h?$")


def kind(message: str, known: Collection[str] = ()) -> str | None:
    """The kind of small talk (greeting, thanks, ack, junk), or None: the message says more.

    `known`: more words the grammar understands (the contest codes: PPWP, DPD, ...)."""
    if not message.strip():
        return None  # an empty message: the grammar's "Pesan kosong" already says what to send
    found = wordmatch.words(message)
    if not found:
        return "junk"  # punctuation, emoji, symbols only
    if found[0] in COMMAND_WORDS or found[0].upper() in known:
        return None
    if all(_LAUGH.match(word) for word in found):
        return "junk"
    if len(found) == 1 and not any(ch in "aeiou" for ch in found[0]) and not found[0].isdigit():
        return "junk"  # "sdfgh", "hmm"
    topical = [w for w in found if w not in COURTESY]
    for name, vocabulary in (("thanks", THANKS), ("greeting", GREETINGS), ("ack", ACKS)):
        if topical and all(w in vocabulary or w in GREETINGS | THANKS | ACKS for w in topical):
            if any(w in vocabulary for w in topical):
                return name
    if not topical:
        return "ack"  # "ok pak", "ya pak"
    return None


def reply(message: str, language: str, known: Collection[str] = ()) -> str | None:
    """The friendly reply to small talk, or None when the message says more."""
    found = kind(message, known)
    return text(f"chitchat_{found}", language) if found else None
