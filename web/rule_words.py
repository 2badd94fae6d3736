"""A stored rule code in words, in the page's language: one function for the operator console
(the `rule_words` filter, review details) and the public TPS page, so a code never reaches a
reader as its bare name."""

from __future__ import annotations

import re

from web.i18n import DEFAULT, current_language
from web.rule_texts import RULE_PATTERNS, RULE_TEXTS

_PATTERNS = tuple((re.compile(pattern), texts) for pattern, texts in RULE_PATTERNS)


def _pick(texts: dict[str, str], lang: str | None) -> str:
    return texts.get(lang or current_language()) or texts[DEFAULT]


def rule_words(code: str, lang: str | None = None) -> str:
    """`party_03_total` → "jumlah suara partai 03 …"; a code not known yet (a rule added
    later) reads as its words, `new_rule` → "new rule", quietly: the page still says which."""
    if code in RULE_TEXTS:
        return _pick(RULE_TEXTS[code], lang)
    for pattern, texts in _PATTERNS:
        match = pattern.fullmatch(code)
        if match:
            return _pick(texts, lang).format(**match.groupdict())
    return code.replace("_", " ")
