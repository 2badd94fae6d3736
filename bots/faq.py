"""Frequently asked questions, answered at once from editable files (bots/faq/<lang>.yaml).

A question matches an entry when every word of one of its keyword patterns appears in it
(`foto*` matches any word starting with `foto`). Patterns of every language are tried, so an
officer who set English but writes Indonesian is still understood; the answer comes in the
officer's language. The entry whose matching patterns cover the most keywords wins.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bots import wordmatch
from bots.messages import DEFAULT_LANGUAGE, LANGUAGES

FAQ_DIR = Path(__file__).resolve().parent / "faq"
# An answer "fits" a question when its keywords cover at least this share of the question's
# content words (bots.wordmatch.coverage); a looser match is only a suggestion for an operator.
GOOD_FIT = 0.5


@dataclass(frozen=True)
class Entry:
    id: str
    patterns: tuple[tuple[str, ...], ...]
    answers: dict[str, str]


@dataclass(frozen=True)
class Faq:
    entries: tuple[Entry, ...]
    phrases: dict[str, dict[str, str]]  # escalate_hint etc., per language

    def phrase(self, key: str, language: str) -> str:
        variants = self.phrases.get(key, {})
        return variants.get(language) or variants.get(DEFAULT_LANGUAGE, "")

    def answer(self, entry: Entry, language: str) -> str:
        return (
            entry.answers.get(language)
            or entry.answers.get(DEFAULT_LANGUAGE)
            or next(iter(entry.answers.values()))
        )


def _directory() -> Path:
    return Path(os.environ.get("FAQ_DIR") or FAQ_DIR)


def load(directory: Path | None = None) -> Faq:
    """Read every language's file; an entry's id joins its translations."""
    directory = directory or _directory()
    order: list[str] = []
    patterns: dict[str, list[tuple[str, ...]]] = {}
    answers: dict[str, dict[str, str]] = {}
    phrases: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        path = directory / f"{language}.yaml"
        if not path.exists():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in data.items():
            if key != "entries" and isinstance(value, str):
                phrases.setdefault(key, {})[language] = value.strip()
        for item in data.get("entries") or []:
            entry_id = str(item["id"])
            if entry_id not in order:
                order.append(entry_id)
            for words in item.get("keywords") or []:
                pattern = tuple(str(w).lower() for w in words)
                if pattern and pattern not in patterns.setdefault(entry_id, []):
                    patterns[entry_id].append(pattern)
            answers.setdefault(entry_id, {})[language] = " ".join(str(item["answer"]).split())
    entries = tuple(Entry(i, tuple(patterns.get(i, ())), answers[i]) for i in order)
    return Faq(entries, phrases)


@lru_cache(maxsize=4)
def _cached(directory: str, mtimes: tuple[float, ...]) -> Faq:
    return load(Path(directory))


def current() -> Faq:
    """The FAQ as the files say now (re-read when a file changes)."""
    directory = _directory()
    mtimes = tuple(
        (directory / f"{lang}.yaml").stat().st_mtime
        if (directory / f"{lang}.yaml").exists()
        else 0.0
        for lang in LANGUAGES
    )
    return _cached(str(directory), mtimes)


@dataclass(frozen=True)
class Found:
    """The best entry for a question, and whether it answers the whole question."""

    entry: Entry
    fit: float  # share of the question's content words the entry's keywords cover

    @property
    def good(self) -> bool:
        return self.fit >= GOOD_FIT


def words(question: str) -> list[str]:
    return wordmatch.words(question)


def _pattern_matches(pattern: tuple[str, ...], found: list[str]) -> bool:
    return wordmatch.matches(pattern, found)


def _weights(faq: Faq) -> dict[str, float]:
    """A keyword used by fewer entries says more: weight 1 / entries using it."""
    users: dict[str, set[str]] = {}
    for entry in faq.entries:
        for pattern in entry.patterns:
            for word in pattern:
                users.setdefault(word, set()).add(entry.id)
    return {word: 1.0 / len(ids) for word, ids in users.items()}


def match(question: str, faq: Faq | None = None) -> Entry | None:
    """The entry that answers `question`, or None (see `best`)."""
    found = best(question, faq)
    return found.entry if found else None


def best(question: str, faq: Faq | None = None) -> Found | None:
    """The entry that answers `question` best, with how well it fits, or None.

    An entry scores the keywords its matching patterns cover, each weighted by how specific
    it is (1 / entries using it): "bagaimana cara kirim foto" goes to the photo entry, whose
    `foto*` is its own, rather than to the SMS format, whose words are shared. Ties: the
    earlier entry.
    """
    faq = faq or current()
    weights = _weights(faq)
    found = words(question)
    top: tuple[float, Entry] | None = None
    for entry in faq.entries:
        covered = {
            word
            for pattern in entry.patterns
            if _pattern_matches(pattern, found)
            for word in pattern
        }
        score = sum(weights[word] for word in covered)
        if covered and (top is None or score > top[0] + 1e-9):
            top = (score, entry)
    if top is None:
        return None
    entry = top[1]
    keywords = {word for pattern in entry.patterns for word in pattern}
    return Found(entry, wordmatch.coverage(found, keywords))
