"""Frequently asked questions, answered at once from editable files (bots/faq/<lang>.yaml).

A question matches an entry when every word of one of its keyword patterns appears in it
(`foto*` matches any word starting with `foto`). Patterns of every language are tried, so an
officer who set English but writes Indonesian is still understood; the answer comes in the
officer's language. The entry whose matching patterns cover the most keywords wins.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bots.messages import DEFAULT_LANGUAGE, LANGUAGES

FAQ_DIR = Path(__file__).resolve().parent / "faq"
_WORD = re.compile(r"[0-9a-zà-ÿ]+")


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


def words(question: str) -> list[str]:
    return _WORD.findall(question.lower())


def _pattern_matches(pattern: tuple[str, ...], found: list[str]) -> bool:
    for want in pattern:
        if want.endswith("*"):
            if not any(word.startswith(want[:-1]) for word in found):
                return False
        elif want not in found:
            return False
    return True


def _weights(faq: Faq) -> dict[str, float]:
    """A keyword used by fewer entries says more: weight 1 / entries using it."""
    users: dict[str, set[str]] = {}
    for entry in faq.entries:
        for pattern in entry.patterns:
            for word in pattern:
                users.setdefault(word, set()).add(entry.id)
    return {word: 1.0 / len(ids) for word, ids in users.items()}


def match(question: str, faq: Faq | None = None) -> Entry | None:
    """The entry that answers `question`, or None.

    An entry scores the keywords its matching patterns cover, each weighted by how specific
    it is (1 / entries using it): "bagaimana cara kirim foto" goes to the photo entry, whose
    `foto*` is its own, rather than to the SMS format, whose words are shared. Ties: the
    earlier entry.
    """
    faq = faq or current()
    weights = _weights(faq)
    found = words(question)
    best: tuple[float, Entry] | None = None
    for entry in faq.entries:
        covered = {
            word
            for pattern in entry.patterns
            if _pattern_matches(pattern, found)
            for word in pattern
        }
        score = sum(weights[word] for word in covered)
        if covered and (best is None or score > best[0] + 1e-9):
            best = (score, entry)
    return best[1] if best else None
