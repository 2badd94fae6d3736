"""Render the conversation's outcomes as text in the officer's language."""

from __future__ import annotations

from collections.abc import Collection

from bots.grammar import ParseError
from bots.messages import join_numbers, text
from bots.tally_rules import RuleFailure

SMS_LENGTH = 160


def format_values(votes: dict[int, int], sah: int, ts: int, uncertain: Collection[str] = ()) -> str:
    """`01=120 02=95 03=40 SAH=255 TS=5`; keys in `uncertain` get a `?`."""
    items = [(f"{number:02d}", count) for number, count in sorted(votes.items())]
    items += [("SAH", sah), ("TS", ts)]
    return " ".join(f"{key}={value}{'?' if key in uncertain else ''}" for key, value in items)


def parse_error(error: ParseError, language: str, contest_hint: str) -> str:
    params = dict(error.params)
    if error.code == "unknown_contest":
        params["known"] = " ".join(str(code) for code in params.get("known", []))  # type: ignore[union-attr]
    if error.code == "no_votes":
        params["contest_hint"] = contest_hint
    return text(error.code, language, **params)


def _failure(failure: RuleFailure, language: str, contest: str, valid: list[int]) -> str:
    params = dict(failure.params)
    if "numbers" in params:
        params["numbers"] = join_numbers(params["numbers"])  # type: ignore[arg-type]
    return text(failure.code, language, contest=contest, valid=join_numbers(valid), **params)


def failure_list(failures: list[RuleFailure], language: str, contest: str, valid: list[int]) -> str:
    return " ".join(_failure(f, language, contest, valid) for f in failures)


def rule_failures(
    failures: list[RuleFailure], language: str, contest: str, tps: str, valid: list[int]
) -> str:
    """All failures when they fit one SMS, else the first and how many more."""
    prefix = text("rule_prefix", language, contest=contest, tps=tps)
    parts = [_failure(f, language, contest, valid) for f in failures]
    full = prefix + " ".join(parts)
    if len(full) <= SMS_LENGTH or len(parts) == 1:
        return full
    return prefix + parts[0] + text("rule_more", language, count=len(parts) - 1)
