"""One sender on no roster gets at most UNKNOWN_SENDER_REPLIES answers per
UNKNOWN_REPLY_EVERY, however many different things they send (jobs.rate_limit
.unknown_reply_refused): each answer costs an SMS and helps nobody report a tally. The flood
test in test_sender_limits.py spends the channel's shared budget first, so it never reaches
this one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from relay.db import session_scope
from relay.models import InboundMessage
from tests.support import drain, post_twilio_sms
from tests.test_sender_limits import replies_to

STRANGER = "+6285700000042"
TEXTS = [
    "BANTUAN cara kirim foto",
    "BAHASA EN",
    "halo",
    "BANTUAN formulir hilang",
    "STATUS",
    "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5",
    "BANTUAN tolong",
    "BAHASA ID",
]


def test_one_outsider_gets_at_most_their_own_budget_of_answers(
    client, redis_conn, twilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNKNOWN_SENDER_REPLIES", "3")
    monkeypatch.setenv("UNKNOWN_REPLY_EVERY", "3600")
    monkeypatch.setenv("UNKNOWN_REPLY_LIMIT", "1000")  # the shared budget is not the bound
    for text in TEXTS:
        assert post_twilio_sms(client, STRANGER, text).status_code == 200
        drain(redis_conn)
    with session_scope() as session:
        stored = session.scalars(
            select(InboundMessage.status).where(InboundMessage.sender == STRANGER)
        ).all()
    assert len(stored) == len(TEXTS)  # every message is kept, answered or not
    assert len(replies_to(twilio, STRANGER)) == 3
