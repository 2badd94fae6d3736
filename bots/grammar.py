"""SMS grammar: turn an officer's text message into a Command (DESIGN.md section 6).

Pure functions only: no database, no I/O. ``parse`` never raises on any ``str``.

Canonical tally::

    PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5

The whole C.Hasil (every section optional unless the election file requires it)::

    DPR 3576011001001 DPT=280 DPTB=3 DPK=1 PHP=262 SSD=286 SSR=1 SSTD=23 SS=262
    01=10 01.1=30 01.2=12 02=5 02.1=40 ... SAH=250 TS=12

Keys: ``DPT DPTB DPK`` registered voters per list; ``PHP`` voters who used their right (total)
or ``PDPT PDPTB PDPK`` per list; ``SSD`` ballots received, ``SSR`` returned damaged or
mis-voted, ``SSTD`` unused, ``SS`` used; ``DIS PDIS`` disabled voters registered / voting;
``NN=`` a candidate's votes, or a party's own votes (DPR, DPRD); ``NN.K=`` candidate K of party
NN; ``SAH`` valid, ``TS`` invalid. Every key at most once (``duplicate_key``); a key with a dot
that is not ``NN.K`` (``01.=5``, ``01.2.3=4``) is ``bad_candidate``.

Tolerances (all documented in the module so callers can phrase replies):

* any case; any whitespace (spaces, tabs, line breaks); C0/C1 control characters count as
  whitespace; zero-width characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen) are removed;
* leading words without any letter or digit (emoji, ``>>``) are ignored; the first word is
  compared with punctuation stripped from both ends (``Ya.``, ``STATUS?``, ``PPWP,``);
* contest and TPS code may be glued: ``PPWP3576011001001`` or ``PPWP:3576011001001``;
  a bare ``TPS`` word (or ``TPS:`` prefix) before the code is skipped;
* key/value separators ``=``, ``:``, ``#`` with optional spaces around them;
* pairs may be separated by whitespace, ``,``, ``;`` or a ``.`` that ends a word; words made
  only of punctuation/emoji (``-``, ``|``, ``👍``) between pairs are ignored; trailing
  punctuation at the end of a tally message is ignored;
* ballot keys: ASCII digits, leading zeros allowed, at most 3 significant digits
  (``1``, ``01``, ``001`` are ballot 1; ``0``/``00`` is ballot 0, which the tally rules report
  as unknown). Keys are never letter-substituted (``O1=5`` is a ``bad_token``);
* ``SAH`` (also ``S.A.H``); ``TS`` aliases: ``TIDAKSAH``, ``TDKSAH``, ``TIDAK SAH``, ``TDK SAH``,
  ``T.S``, ``T.SAH``/``TSAH`` (dots, dashes and underscores inside a word key are ignored);
* values and TPS codes: O/o read as 0 and I/i/l/L read as 1; each such reading is recorded in
  ``Tally.readings`` (``"02=1O0->100"``, ``"TPS=357601100I001->3576011001001"``);
* a value may have at most 5 significant digits (leading zeros do not count).

Other commands (keywords are checked before contest codes):

* ``YA``/``Y``/``OK``/``OKE``/``IYA``/``YES`` -> Confirm; ``BATAL``/``CANCEL`` -> Cancel. Either may
  be followed by exactly one receipt word (3-16 ASCII letters/digits/dashes, returned
  uppercased); any further words ("Ya tapi 02 salah") give ``unrecognized`` rather than act;
* ``STATUS`` [code]: a following word containing a digit is read as a TPS code (``bad_tps`` if
  wrong), other words are ignored; ``CEK``/``CHECK`` <code>: the code is required; a 10-digit
  village code instead asks for the village (``Status.village_code``);
* a TPS code glued to the first pair (``741101200100101=120``: 14-16 digits before the
  separator) is ``tps_glued`` with the code and the pair, not ``missing_tps``;
* ``BANTUAN``/``HELP`` <question>; ``BAHASA``/``LANG``/``LANGUAGE`` EN|ENG|ENGLISH|INGGRIS or
  ID|IND|INDO|INDONESIA (exactly one value word).

A first word that is neither a keyword nor a contest gives ``unknown_contest`` when the text looks
like a tally (a 13-digit code, a SAH/TS pair, or at least two ``<number>=<digit>`` pairs), else
``unrecognized``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

__all__ = [
    "Cancel",
    "Command",
    "Confirm",
    "Help",
    "Language",
    "ParseError",
    "Status",
    "Tally",
    "parse",
]


@dataclass(frozen=True)
class Tally:
    """A tally (or a part of one) for one contest at one TPS, with what was sent only.

    ``votes``: by ballot number, a candidate's votes or a party's OWN votes (``NN=``);
    ``candidate_votes``: {(party, candidate): votes} (``NN.K=``); ``sections``: the C.Hasil's
    other rows by key (``{"DPT": 280, "PHP": 255}``); ``sah``/``ts`` None when not sent.
    """

    contest: str
    tps_code: str
    votes: dict[int, int] = field(hash=False)
    sah: int | None
    ts: int | None
    readings: tuple[str, ...] = ()
    candidate_votes: dict[tuple[int, int], int] = field(default_factory=dict, hash=False)
    sections: dict[str, int] = field(default_factory=dict, hash=False)

    def votes_by_ballot(self) -> dict[int, int]:
        """What each ballot number counts towards SAH: own votes plus its candidates'."""
        totals = dict(self.votes)
        for (party, _), count in self.candidate_votes.items():
            totals[party] = totals.get(party, 0) + count
        return totals

    def updated(self, part: Tally) -> Tally:
        """This tally with a later part's values replacing its own, key by key."""
        return Tally(
            self.contest,
            self.tps_code,
            self.votes | part.votes,
            self.sah if part.sah is None else part.sah,
            self.ts if part.ts is None else part.ts,
            part.readings,
            self.candidate_votes | part.candidate_votes,
            self.sections | part.sections,
        )

    def form(self) -> tuple[object, ...]:
        """Every value of the form, for comparing two tallies (readings aside)."""
        return (self.votes, self.candidate_votes, self.sections, self.sah, self.ts)

    def is_empty(self) -> bool:
        return not (self.votes or self.candidate_votes or self.sections) and (
            self.sah is None and self.ts is None
        )


@dataclass(frozen=True)
class Confirm:
    """YA / OK / Y (optionally with a receipt code, uppercased)."""

    receipt: str | None = None


@dataclass(frozen=True)
class Cancel:
    """BATAL (optionally with a receipt code, uppercased)."""

    receipt: str | None = None


@dataclass(frozen=True)
class Status:
    """STATUS, or CEK <TPS_CODE>; ``tps_code`` is the normalized 13-digit code or None.
    ``CEK <10-digit village code>`` asks for the village: ``village_code`` is set instead."""

    tps_code: str | None = None
    village_code: str | None = None


@dataclass(frozen=True)
class Help:
    """BANTUAN / HELP <question>; question keeps its case, whitespace collapsed, may be ""."""

    question: str


@dataclass(frozen=True)
class Language:
    """BAHASA EN / BAHASA ID; ``language`` is 'en' or 'id'."""

    language: str


@dataclass(frozen=True)
class ParseError:
    """The message could not be read; ``code`` names the problem, ``params`` its details."""

    code: str
    params: dict[str, object] = field(default_factory=dict, hash=False)


Command = Tally | Confirm | Cancel | Status | Help | Language | ParseError

# --------------------------------------------------------------------------- vocabulary

CONFIRM_WORDS = frozenset({"YA", "Y", "OK", "OKE", "IYA", "YES"})
CANCEL_WORDS = frozenset({"BATAL", "CANCEL"})
STATUS_WORDS = frozenset({"STATUS"})
CHECK_WORDS = frozenset({"CEK", "CHECK"})
HELP_WORDS = frozenset({"BANTUAN", "HELP"})
LANGUAGE_WORDS = frozenset({"BAHASA", "LANG", "LANGUAGE"})
LANGUAGE_VALUES = {
    "EN": "en",
    "ENG": "en",
    "ENGLISH": "en",
    "INGGRIS": "en",
    "ID": "id",
    "IND": "id",
    "INDO": "id",
    "INDONESIA": "id",
}
SAH_KEYS = frozenset({"SAH"})
# The C.Hasil's rows beyond the votes (the same keys as relay.ballots.SECTION_KEYS).
SECTION_KEYS = (
    "DPT", "DPTB", "DPK", "PHP", "PDPT", "PDPTB", "PDPK",  # I. voters
    "SSD", "SSR", "SSTD", "SS",  # II. ballots
    "DIS", "PDIS",  # disabled voters registered / voting
)  # fmt: skip
TS_KEYS = frozenset({"TS", "TSAH", "TIDAKSAH", "TDKSAH"})

SEPARATORS = "=:#"
MAX_VALUE_DIGITS = 5
MAX_KEY_DIGITS = 3
TPS_DIGITS = 13
VILLAGE_DIGITS = 10
TRUNC = 20

_DIGITS = frozenset("0123456789")
_LOOKALIKES = {"O": "0", "o": "0", "I": "1", "i": "1", "l": "1", "L": "1"}
_TPS_PUNCT = frozenset(".-/")

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_CONTROLS = {c: " " for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]}
_CLEAN_TABLE = str.maketrans({**_CONTROLS, **_ZERO_WIDTH})

_SEP_RE = re.compile(r"[=:#]")
_BOUNDARY_RE = re.compile(r"[,;]|\.(?=\s|$)")
_TIDAK_SAH_RE = re.compile(r"(?<![0-9A-Za-z])(TIDAK|TDK)\s+(SAH)(?![0-9A-Za-z])", re.IGNORECASE)
_GLUED_RE = re.compile(r"([A-Za-z]+)[.:#=/-]?([0-9].*)", re.DOTALL)
_TPS_PREFIX_RE = re.compile(r"TPS[:=#.]?(?=[0-9])", re.IGNORECASE)
_RECEIPT_RE = re.compile(r"[A-Z0-9-]{3,16}")
_CODE_LIKE_RE = re.compile(r"(?<![0-9])[0-9](?:[./-]*[0-9]){12}(?![0-9])")
_PAIR_LIKE_RE = re.compile(r"(?<![0-9A-Za-z])[0-9]{1,3}\s*[=:#]\s*[0-9OoIil]")
_SAH_TS_PAIR_RE = re.compile(
    r"(?<![0-9A-Za-z])(?:SAH|TS|TIDAKSAH|TDKSAH)\s*[=:#]\s*[0-9OoIil]", re.IGNORECASE
)

_CANDIDATE_KEY_RE = re.compile(r"([0-9]+)\.([0-9]+)")

_BOUNDARY = ""  # marker between pair groups in the token stream (words are never empty)


# --------------------------------------------------------------------------- helpers


def _has_alnum(word: str) -> bool:
    return any(c.isalnum() for c in word)


def _strip_edges(word: str) -> str:
    """Strip characters that are not letters/digits from both ends."""
    start, end = 0, len(word)
    while start < end and not word[start].isalnum():
        start += 1
    while end > start and not word[end - 1].isalnum():
        end -= 1
    return word[start:end]


def _rstrip_junk(text: str) -> str:
    """Strip trailing characters that are neither letters/digits nor key separators."""
    end = len(text)
    while end > 0 and not text[end - 1].isalnum() and text[end - 1] not in SEPARATORS:
        end -= 1
    return text[:end]


def _read_digits(raw: str) -> tuple[str, bool] | None:
    """Read ``raw`` as ASCII digits with O/I/l look-alikes; None if another char occurs."""
    out: list[str] = []
    substituted = False
    for ch in raw:
        if ch in _DIGITS:
            out.append(ch)
        elif ch in _LOOKALIKES:
            out.append(_LOOKALIKES[ch])
            substituted = True
        else:
            return None
    return "".join(out), substituted


def _read_tps(token: str) -> tuple[str, str | None] | None:
    """Return (13-digit code, reading or None), or None when the token is not a TPS code."""
    kept = "".join(ch for ch in token if ch not in _TPS_PUNCT)
    read = _read_digits(kept)
    if read is None:
        return None
    digits, substituted = read
    if len(digits) != TPS_DIGITS:
        return None
    reading = f"TPS={token[:TRUNC]}->{digits}" if substituted else None
    return digits, reading


def _drop_tps_prefix(token: str) -> str:
    """``TPS:3576011001001`` -> ``3576011001001``."""
    prefix = _TPS_PREFIX_RE.match(token)
    return token[prefix.end() :] if prefix else token


def _tps_or_error(token: str) -> tuple[str, str | None] | ParseError:
    read = _read_tps(_drop_tps_prefix(token))
    if read is None:
        return ParseError("bad_tps", {"text": token[:TRUNC]})
    return read


def _tps_glued(word: str) -> ParseError | None:
    """``741101200100101=120``: a 13-digit TPS code and the first pair without a space."""
    match = _SEP_RE.search(word)
    if match is None:
        return None
    digits = "".join(ch for ch in word[: match.start()] if ch not in _TPS_PUNCT)
    if not (TPS_DIGITS < len(digits) <= TPS_DIGITS + MAX_KEY_DIGITS) or set(digits) - _DIGITS:
        return None
    pair = f"{digits[TPS_DIGITS:]}={word[match.end() :]}"
    return ParseError("tps_glued", {"tps": digits[:TPS_DIGITS], "pair": pair[:TRUNC]})


def _is_tps_word(word: str) -> bool:
    return _strip_edges(word).upper() == "TPS"


def _looks_like_tally(text: str) -> bool:
    """A 13-digit code, a SAH/TS pair, or at least two numeric key pairs."""
    if _CODE_LIKE_RE.search(text) or _SAH_TS_PAIR_RE.search(text):
        return True
    pairs = _PAIR_LIKE_RE.finditer(text)
    return next(pairs, None) is not None and next(pairs, None) is not None


Key = int | tuple[int, int] | str


def _key_display(key: Key) -> str:
    if isinstance(key, int):
        return f"{key:02d}"
    if isinstance(key, tuple):
        return f"{key[0]:02d}.{key[1]}"
    return key


def _read_number_key(raw: str) -> int | None:
    significant = raw.lstrip("0")
    if len(significant) > MAX_KEY_DIGITS:
        return None
    return int(significant or "0")


def _read_key(raw: str) -> Key | ParseError | None:
    """Ballot number (int), (party, candidate), 'SAH', 'TS' or a section key; None when the
    key is not understood, ``bad_candidate`` for a dotted number that is not ``NN.K``."""
    if raw and all(ch in _DIGITS for ch in raw):
        return _read_number_key(raw)
    if raw[:1] in _DIGITS and "." in raw:
        pair = _CANDIDATE_KEY_RE.fullmatch(raw)
        party = _read_number_key(pair.group(1)) if pair else None
        candidate = _read_number_key(pair.group(2)) if pair else None
        if party is None or candidate is None:
            return ParseError("bad_candidate", {"key": raw[:TRUNC]})
        return (party, candidate)
    word = raw.upper().replace(".", "").replace("-", "").replace("_", "")
    if word in SAH_KEYS:
        return "SAH"
    if word in TS_KEYS:
        return "TS"
    if word in SECTION_KEYS:
        return word
    return None


def _receipt_command(kind: type[Confirm] | type[Cancel], words: list[str]) -> Command:
    """YA/BATAL alone, or followed by exactly one receipt code (3-16 letters/digits/dashes).

    Confirming or discarding is consequential, so any other trailing words ("Ya tapi 02 salah")
    make the message ``unrecognized`` instead of being acted upon. Emoji/punctuation are ignored.
    """
    extra = [w for w in words[1:] if _has_alnum(w)]
    if not extra:
        return kind(None)
    if len(extra) == 1:
        candidate = _strip_edges(extra[0]).upper()
        if _RECEIPT_RE.fullmatch(candidate):
            return kind(candidate)
    return ParseError("unrecognized", {"word": words[0][:TRUNC]})


# --------------------------------------------------------------------------- commands


def _parse_status(words: list[str], required: bool) -> Status | ParseError:
    rest = words[1:]
    if rest and _is_tps_word(rest[0]):
        rest = rest[1:]
    if not rest or not _has_alnum(rest[0]):
        return ParseError("missing_tps", {}) if required else Status(None)
    token = _strip_edges(rest[0])
    if not required and not any(ch in _DIGITS for ch in token):
        return Status(None)
    village = "".join(ch for ch in token if ch not in _TPS_PUNCT)
    if len(village) == VILLAGE_DIGITS and all(ch in _DIGITS for ch in village):
        return Status(None, village)
    read = _tps_or_error(token)
    if isinstance(read, ParseError):
        return read
    return Status(read[0])


def _parse_language(words: list[str]) -> Language | ParseError:
    value = " ".join(words[1:])
    language = LANGUAGE_VALUES.get(_strip_edges(value).upper())
    if language is None:
        return ParseError("bad_language", {"value": value[:TRUNC]})
    return Language(language)


def _stream(text: str) -> list[str]:
    """Words of a tally body, with ``_BOUNDARY`` where pairs are hard-separated."""
    text = _TIDAK_SAH_RE.sub(r"\1\2", text)
    items: list[str] = []
    for piece in _BOUNDARY_RE.split(text):
        for word in piece.split():
            if not _has_alnum(word) and not _SEP_RE.search(word):
                items.append(_BOUNDARY)
            else:
                items.append(word)
        items.append(_BOUNDARY)
    return items


def _starts_with_separator(word: str) -> bool:
    return word != _BOUNDARY and word[0] in SEPARATORS


def _parse_tally(contest: str, body: str) -> Tally | ParseError:
    items = _stream(_rstrip_junk(body))
    words = [(k, w) for k, w in enumerate(items) if w != _BOUNDARY]
    if words and _is_tps_word(words[0][1]):
        words = words[1:]
    if not words:
        return ParseError("missing_tps", {})
    i, tps_word = words[0]
    following = items[i + 1] if i + 1 < len(items) else _BOUNDARY
    glued = _tps_glued(_drop_tps_prefix(tps_word))
    if glued is not None:
        return glued
    if _SEP_RE.search(_drop_tps_prefix(tps_word)) or _starts_with_separator(following):
        return ParseError("missing_tps", {})  # the first word is already a pair
    read = _tps_or_error(tps_word)
    if isinstance(read, ParseError):
        return read
    tps_code, tps_reading = read
    readings: list[str] = [tps_reading] if tps_reading else []

    votes: dict[int, int] = {}
    candidate_votes: dict[tuple[int, int], int] = {}
    sections: dict[str, int] = {}
    sah: int | None = None
    ts: int | None = None
    seen: set[Key] = set()
    n = len(items)
    i += 1
    while i < n:
        word = items[i]
        if word == _BOUNDARY:
            i += 1
            continue
        start = i
        i += 1
        match = _SEP_RE.search(word)
        if match:
            raw_key, value = word[: match.start()], word[match.end() :]
            if not raw_key:
                return ParseError("bad_token", {"token": word[:TRUNC]})
        else:
            raw_key = word
            if i >= n or not _starts_with_separator(items[i]):
                return ParseError("bad_token", {"token": word[:TRUNC]})
            value = items[i][1:]
            i += 1
        if value == "" and i < n and items[i] != _BOUNDARY and not _SEP_RE.search(items[i]):
            value = items[i]  # "01= 120" / "01 = 120"
            i += 1
        token_text = " ".join(w for w in items[start:i] if w != _BOUNDARY)

        key = _read_key(raw_key)
        if key is None:
            return ParseError("bad_token", {"token": token_text[:TRUNC]})
        if isinstance(key, ParseError):
            return key
        shown = _key_display(key)
        if key in seen:
            return ParseError("duplicate_key", {"key": shown})
        seen.add(key)
        read_value = _read_digits(value) if value else None
        if read_value is None:
            return ParseError("bad_number", {"key": shown, "value": value[:TRUNC]})
        digits, substituted = read_value
        significant = digits.lstrip("0")
        if len(significant) > MAX_VALUE_DIGITS:
            return ParseError("number_too_large", {"key": shown, "value": value[:TRUNC]})
        number = int(significant or "0")
        if substituted:
            readings.append(f"{shown}={value[:TRUNC]}->{number}")
        if isinstance(key, int):
            votes[key] = number
        elif isinstance(key, tuple):
            candidate_votes[key] = number
        elif key == "SAH":
            sah = number
        elif key == "TS":
            ts = number
        else:
            sections[key] = number

    tally = Tally(contest, tps_code, votes, sah, ts, tuple(readings), candidate_votes, sections)
    if tally.is_empty():
        return ParseError("no_votes", {})
    return tally


# --------------------------------------------------------------------------- entry point


def parse(text: str, contest_codes: Collection[str]) -> Command:
    """Parse one incoming message. Never raises; problems come back as ``ParseError``."""
    try:
        return _parse(text, contest_codes)
    except Exception:  # pragma: no cover - defensive: parse must never raise
        return ParseError("unrecognized", {"word": text[:TRUNC] if isinstance(text, str) else ""})


def _parse(text: str, contest_codes: Collection[str]) -> Command:
    if not isinstance(text, str):
        return ParseError("empty", {})
    words = text.translate(_CLEAN_TABLE).split()
    if not words:
        return ParseError("empty", {})
    first_real = next((k for k, w in enumerate(words) if _has_alnum(w)), None)
    if first_real is None:
        return ParseError("unrecognized", {"word": words[0][:TRUNC]})
    words = words[first_real:]
    head = _strip_edges(words[0]).upper()

    if head in CONFIRM_WORDS:
        return _receipt_command(Confirm, words)
    if head in CANCEL_WORDS:
        return _receipt_command(Cancel, words)
    if head in STATUS_WORDS:
        return _parse_status(words, required=False)
    if head in CHECK_WORDS:
        return _parse_status(words, required=True)
    if head in HELP_WORDS:
        return Help(" ".join(words[1:]))
    if head in LANGUAGE_WORDS:
        return _parse_language(words)

    contests = {c.upper(): c for c in contest_codes if isinstance(c, str)}
    if head in contests:
        return _parse_tally(contests[head], " ".join(words[1:]))
    glued = _GLUED_RE.fullmatch(_strip_edges(words[0]))
    if glued and glued.group(1).upper() in contests:
        body = " ".join([glued.group(2), *words[1:]])
        return _parse_tally(contests[glued.group(1).upper()], body)

    if _looks_like_tally(" ".join(words)):
        return ParseError(
            "unknown_contest", {"contest": head[:TRUNC], "known": sorted(contests.values())}
        )
    return ParseError("unrecognized", {"word": words[0][:TRUNC]})
