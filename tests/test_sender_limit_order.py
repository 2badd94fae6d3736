"""An officer's messages deferred by the rate limit keep their order against what the
officer sends next: while an earlier message waits, a later one waits behind it, even once
the window has room again (jobs.inbound._deferral). Otherwise a `YA` sent just after the
window ends would be answered "nothing pending" before the tally it confirms is read."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from relay.db import session_scope
from relay.models import Submission
from tests.support import drain, post_twilio_sms
from tests.test_sender_limits import (
    OFFICER,
    TALLY,
    inbound_rows,
    replies_to,
    the_window_ends,
    work_without_scheduler,
)


def test_a_message_sent_while_an_earlier_one_is_deferred_waits_behind_it(
    client, redis_conn, twilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDER_RATE_LIMIT", "2")
    monkeypatch.setenv("SENDER_RATE_WINDOW", "3600")
    for body in ("STATUS", "STATUS", TALLY):
        assert post_twilio_sms(client, OFFICER, body).status_code == 200
    work_without_scheduler(redis_conn)
    assert [status for _, status in inbound_rows()] == ["processed", "processed", "deferred"]

    redis_conn.delete(f"relay:rate:twilio:{OFFICER}")  # the window has room again, but the
    assert post_twilio_sms(client, OFFICER, "YA").status_code == 200  # tally is not back yet
    work_without_scheduler(redis_conn)
    assert inbound_rows()[3] == ("YA", "deferred")  # behind the tally, not before it

    the_window_ends(redis_conn, OFFICER)
    drain(redis_conn)
    assert [status for _, status in inbound_rows()] == ["processed"] * 4
    with session_scope() as session:
        [submission] = session.scalars(select(Submission)).all()
        assert submission.status == "confirmed"  # the YA confirmed the tally sent before it
    replies = replies_to(twilio, OFFICER)
    assert any(r.startswith("Diterima PPWP TPS 3576011001001") for r in replies)
    assert submission.receipt_code in replies[-1] and replies[-1].startswith("Terkonfirmasi")
