"""Render the conversation's outcomes as text in the officer's language."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping

from bots.grammar import SECTION_KEYS, ParseError, Tally
from bots.messages import join_numbers, text
from bots.reply import Reply
from bots.tally_rules import RuleFailure

SMS_LENGTH = 160


def format_values(
    votes: dict[int, int],
    sah: int | None,
    ts: int | None,
    uncertain: Collection[str] = (),
    candidate_votes: Mapping[tuple[int, int], int] | None = None,
    sections: Mapping[str, int] | None = None,
) -> str:
    """`DPT=280 … 01=120 01.1=30 02=95 … SAH=255 TS=5`: the form in its own order (sections,
    then each number followed by its candidates, then SAH and TS); keys in `uncertain` get a
    `?`; rows not given are left out."""
    items = [(key, sections[key]) for key in SECTION_KEYS if sections and key in sections]
    by_party: dict[int, list[tuple[int, int]]] = {}
    for (party, candidate), count in sorted((candidate_votes or {}).items()):
        by_party.setdefault(party, []).append((candidate, count))
    for number in sorted(set(votes) | set(by_party)):
        if number in votes:
            items.append((f"{number:02d}", votes[number]))
        items += [(f"{number:02d}.{k}", count) for k, count in by_party.get(number, [])]
    items += [(key, value) for key, value in (("SAH", sah), ("TS", ts)) if value is not None]
    return " ".join(f"{key}={value}{'?' if key in uncertain else ''}" for key, value in items)


def tally_values(tally: Tally, uncertain: Collection[str] = ()) -> str:
    return format_values(
        tally.votes, tally.sah, tally.ts, uncertain, tally.candidate_votes, tally.sections
    )


MISSING_SHOWN = 12  # keys named in a "still missing" list before "+N more"


def missing_keys(failures: list[RuleFailure]) -> list[str]:
    """The keys a tally still lacks, in the form's order: `03 SAH TS DPT 01.2`."""
    keys: list[str] = []
    for failure in failures:
        params = failure.params
        if failure.code == "missing_ballot":
            keys += [f"{n:02d}" for n in params["numbers"]]  # type: ignore[attr-defined]
        elif failure.code == "missing_sah":
            keys.append("SAH")
        elif failure.code == "missing_ts":
            keys.append("TS")
        elif failure.code == "missing_rows":
            keys += list(params["rows"])  # type: ignore[call-overload]
        elif failure.code == "missing_candidates":
            keys += list(params["keys"])  # type: ignore[call-overload]
    return keys


def missing_list(failures: list[RuleFailure], language: str) -> str:
    keys = missing_keys(failures)
    shown = " ".join(keys[:MISSING_SHOWN])
    if len(keys) > MISSING_SHOWN:
        shown += text("missing_more", language, count=len(keys) - MISSING_SHOWN)
    return shown


def parse_error(
    error: ParseError,
    language: str,
    contest_hint: str,
    own: str = "",
    known: Collection[str] = (),
) -> str:
    """`own`: the officer's TPS code(s), named when the TPS code is wrong or missing; `known`:
    the contests on the ballot of the TPS in question (else every contest is listed)."""
    params = dict(error.params)
    if error.code == "unknown_contest":
        listed = known or params.get("known", [])
        params["known"] = " ".join(str(code) for code in listed)  # type: ignore[union-attr]
    if error.code == "no_votes":
        params["contest_hint"] = contest_hint
    params["own_hint"] = text("own_tps_hint", language, own=own) if own else ""
    return text(error.code, language, **params)


KEYS_SHOWN = 8  # candidate keys named in one failure before "+N"


def _keys(keys: list[str], language: str) -> str:
    shown = ",".join(keys[:KEYS_SHOWN])
    if len(keys) > KEYS_SHOWN:
        shown += text("missing_more", language, count=len(keys) - KEYS_SHOWN)
    return shown


def _failure(failure: RuleFailure, language: str, contest: str, valid: list[int]) -> str:
    params = dict(failure.params)
    code = failure.code
    if "numbers" in params:
        params["numbers"] = join_numbers(params["numbers"])  # type: ignore[arg-type]
    for name in ("keys", "rows"):
        if name in params:
            params[name] = _keys(list(params[name]), language)  # type: ignore[call-overload]
    if "counts" in params:
        counts = params["counts"]
        params["counts"] = ", ".join(f"{k}={v}" for k, v in counts.items())  # type: ignore[attr-defined]
    if code == "voters_sum":
        params["total"] = sum(params[k] for k in ("pdpt", "pdptb", "pdpk"))  # type: ignore[misc]
    if code == "over_ballots" and params.get("source") == "SSD":
        code = "over_ballots_ssd"
    return text(code, language, contest=contest, valid=join_numbers(valid), **params)


def warning_list(warnings: list[RuleFailure], language: str) -> str:
    """Warnings appended to a receipt (each starts with a space)."""
    return "".join(text(w.code, language, **w.params) for w in warnings)


def failure_list(failures: list[RuleFailure], language: str, contest: str, valid: list[int]) -> str:
    return " ".join(_failure(f, language, contest, valid) for f in failures)


def rule_failures(
    failures: list[RuleFailure],
    language: str,
    contest: str,
    tps: str,
    valid: list[int],
    tail: str = "",
) -> str:
    """All failures when they fit one SMS, else the first and how many more; then `tail`
    (what still stands, the next step)."""
    prefix = text("rule_prefix", language, contest=contest, tps=tps)
    parts = [_failure(f, language, contest, valid) for f in failures]
    full = prefix + " ".join(parts) + tail
    if len(full) <= SMS_LENGTH or len(parts) == 1:
        return full
    return prefix + parts[0] + text("rule_more", language, count=len(parts) - 1) + tail


# The longest text one message may carry: Twilio joins up to 1600 characters into one
# concatenated SMS. A longer reply (a DPR receipt of ~200 numbers) goes as several.
LONG_REPLY = 1600
_MARK_ROOM = len(" (99/99)")
_GROUP_START = re.compile(r"[0-9]{2,3}=")  # a ballot number's own votes: a party's rows start


def _cut_before(words: list[str], index: int) -> bool:
    """A sensible place for a cut: before a party's rows, or after a sentence."""
    return bool(_GROUP_START.match(words[index])) or words[index - 1].endswith(".")


def split_text(body: str, limit: int = LONG_REPLY, marked: bool = True) -> list[str]:
    """`body` as parts of at most `limit` characters, each ending "(i/n)" when `marked`, cut
    between two words (never inside a number), before a party's rows or after a sentence
    where possible."""
    if len(body) <= limit:
        return [body]
    room = limit - (_MARK_ROOM if marked else 0)
    parts: list[list[str]] = []
    current: list[str] = []
    for word in body.split(" "):
        if current and len(" ".join([*current, word])) > room:
            starts = [i for i in range(1, len(current)) if _cut_before(current, i)]
            cut = starts[-1] if starts else len(current)
            if len(" ".join(current[:cut])) < room // 2:  # a party longer than half a part
                cut = len(current)
            parts.append(current[:cut])
            current = current[cut:]
        current.append(word)
    parts.append(current)
    if len(parts) == 1:  # one word longer than a message: sent whole, never cut
        return [body]
    if not marked:
        return [" ".join(words) for words in parts]
    return [f"{' '.join(words)} ({i}/{len(parts)})" for i, words in enumerate(parts, start=1)]


def split_reply(reply: Reply, limit: int = LONG_REPLY, marked: bool = True) -> list[Reply]:
    """A reply too long for one message as several: the buttons go with the last part."""
    texts = split_text(reply.text, limit, marked)
    if len(texts) == 1:
        return [reply]
    first = dataclasses.replace(reply, text=texts[0], buttons=())
    middle = [Reply(t) for t in texts[1:-1]]
    last = Reply(texts[-1], buttons=reply.buttons)
    return [first, *middle, last]
