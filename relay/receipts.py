"""Short receipt codes an officer can read out over the phone without ambiguity."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L, 5/S, 8/B: easy to read aloud and to type back on a keypad.
ALPHABET = "2345679ACDEFGHJKMNPQRTUVWXYZ"
LENGTH = 6


def new_receipt_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def looks_like_receipt(text: str) -> bool:
    return len(text) == LENGTH and all(ch in ALPHABET for ch in text.upper())
