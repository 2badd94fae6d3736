"""Word matching for officers' free text: SMS spellings, typos and filler words.

Officers write "gmn cara krm foto?" as often as "bagaimana cara mengirim foto". The FAQ
(bots.faq) matches keywords through `matches`, and judges whether an answer fits the whole
question (`coverage`): an answer that covers only one word of a long message is a
suggestion for an operator, not an answer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_WORD = re.compile(r"[0-9a-z]+")

# Common SMS spellings, written out (Indonesian and English).
ABBREVIATIONS = {
    "gmn": "bagaimana",
    "gimana": "bagaimana",
    "bgmn": "bagaimana",
    "gmna": "bagaimana",
    "krm": "kirim",
    "kirm": "kirim",
    "yg": "yang",
    "tdk": "tidak",
    "gak": "tidak",
    "ga": "tidak",
    "nggak": "tidak",
    "ngga": "tidak",
    "enggak": "tidak",
    "gk": "tidak",
    "sdh": "sudah",
    "udah": "sudah",
    "udh": "sudah",
    "blm": "belum",
    "dgn": "dengan",
    "utk": "untuk",
    "sy": "saya",
    "aq": "saya",
    "aku": "saya",
    "klo": "kalau",
    "kalo": "kalau",
    "bs": "bisa",
    "bsa": "bisa",
    "msk": "masuk",
    "pls": "please",
    "u": "you",
    "r": "are",
    "hw": "how",
    "plz": "please",
}

# Words that carry no topic: they neither match nor count against an answer's fit.
FILLER = frozenset(
    """
    saya kami aku anda bapak ibu pak bu mas mbak kak min admin tolong mohon bantu bantuan
    apa apakah ini itu yang di ke dari dan atau dengan untuk pada adalah ada bisa
    kalau jika mau ingin harus sudah belum tidak akan sedang juga lagi ya dong nih sih kok
    deh lah kah tapi karena jadi agar supaya sama saja hanya kita nya the a an is are am
    i me my we our you your to of in on at for and or with do does did can could would
    should will be been it this that please help how what when where why who which there
    have has had not no yes so but if about
    """.split()
)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The message's words, lower case, accents dropped, SMS spellings written out."""
    return [ABBREVIATIONS.get(word, word) for word in _WORD.findall(_plain(text))]


def content_words(found: Iterable[str]) -> list[str]:
    """The words that say what the message is about (no filler, no bare numbers)."""
    return [w for w in found if w not in FILLER and not w.isdigit() and len(w) > 1]


def _one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one inserted, deleted, replaced or swapped letter."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and (a[diff[1]] == b[diff[0]])
        )
    short, long = sorted((a, b), key=len)
    for i in range(len(long)):
        if long[:i] + long[i + 1 :] == short:
            return True
    return False


def same(word: str, want: str) -> bool:
    """Does `word` (from a message) say the keyword `want`? `foto*` matches any word that
    starts with `foto`; a word of five letters or more may carry one typo."""
    if want.endswith("*"):
        stem = want[:-1]
        return word.startswith(stem) or (len(stem) >= 5 and _one_edit(word[: len(stem)], stem))
    if word == want:
        return True
    return len(want) >= 5 and len(word) >= 5 and _one_edit(word, want)


def matches(pattern: Iterable[str], found: list[str]) -> bool:
    """Every keyword of the pattern appears among the found words."""
    return all(any(same(word, want) for word in found) for want in pattern)


def coverage(found: list[str], keywords: Iterable[str]) -> float:
    """The share of the message's content words that the keywords account for (0..1)."""
    content = content_words(found)
    if not content:
        return 1.0
    wants = list(keywords)
    covered = [w for w in content if any(same(w, want) for want in wants)]
    return len(covered) / len(content)
