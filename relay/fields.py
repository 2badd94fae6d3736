"""How long the values providers send may be, in one place.

Senders are checked against MAX_ADDRESS when a message arrives (a clear 400 for the
provider, nothing stored); every column that holds an address, or a value made from one
(an audit actor `sender:<address>`), is wider than that. Values kept only for reference
(the id a provider gives a message we sent) are cut to their column instead: refusing
them after the message went out would send it again.
"""

from __future__ import annotations

from typing import Any

# An address any channel can produce fits: E.164 numbers (at most 16 characters with the
# "+"), alphanumeric SMS sender ids (11), Telegram chat ids (at most 20), short codes.
MAX_ADDRESS = 64


def fit(value: str | None, column: Any) -> str | None:
    """`value` cut to the length of `column` (a mapped attribute, e.g. Model.field)."""
    length = getattr(column.property.columns[0].type, "length", None)
    if value is None or length is None:
        return value
    return value[:length]
