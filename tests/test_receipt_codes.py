"""A new tally's receipt code is never one already given (bots.tallies, relay.receipts)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from relay.db import session_scope
from relay.models import Submission
from relay.receipts import LENGTH
from tests.support import converse

KPPS = "+6281234567801"  # TPS 3576011001001
KPPS_EN = "+6281234567802"  # TPS 3576011001002


def test_a_receipt_code_drawn_twice_is_drawn_again(
    demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The random source made to draw the same code for both tallies, then another: the
    second tally gets the other code (the codes are unique in the table), not a failure."""
    draws: Iterator[str] = iter("A" * LENGTH + "A" * LENGTH + "C" * LENGTH)
    monkeypatch.setattr(secrets, "choice", lambda _alphabet: next(draws))
    converse(KPPS, "PPWP 3576011001001 01=1 02=2 03=3 SAH=6 TS=0")
    reply = converse(KPPS_EN, "PPWP 3576011001002 01=1 02=2 03=3 SAH=6 TS=0")
    assert "CCCCCC" in reply.text
    with session_scope() as session:
        codes = session.scalars(select(Submission.receipt_code).order_by(Submission.id)).all()
    assert codes == ["AAAAAA", "CCCCCC"]
