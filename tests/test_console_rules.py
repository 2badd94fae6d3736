"""Nothing impossible is accepted from the console either: an operator's numbers, and an
officer's change request an operator accepts, pass the same form rules as an officer's SMS.

The text path refuses such numbers before they are stored; these are the paths where a
person sets numbers directly (a pending tally corrected by one operator, an officer's
change request accepted in place of a confirmed tally)."""

from __future__ import annotations

from sqlalchemy import select

from relay.db import session_scope
from relay.models import AuditEntry, OutboundMessage, ReviewItem, Submission, TallyChange
from tests.support import drain, post_gateway
from tests.test_console_review import FIRST, KPPS, item_id_in, national, sms
from tests.web_support import logged_in, post_form

CHANGE = {"v1": "120", "v2": "95", "v3": "40", "sah": "255", "ts": "5", "note": "foto C.Hasil"}


def _only_submission() -> Submission:
    with session_scope() as session:
        return session.scalars(select(Submission)).one()


def _actions() -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _sent_to(phone: str) -> int:
    with session_scope() as session:
        return len(
            session.scalars(
                select(OutboundMessage.id).where(OutboundMessage.to_address == phone)
            ).all()
        )


def test_an_operator_cannot_correct_a_pending_tally_to_numbers_that_break_the_form(
    client, redis_conn
) -> None:
    """A pending tally is corrected by one operator, without approval: the form's rules are
    the only thing standing between a slip of the keyboard and the officer's `YA`."""
    sms(client, redis_conn, KPPS, FIRST)
    pending = _only_submission()
    assert pending.status == "pending"
    logged_in(client)
    url = f"/console/submissions/{pending.id}"
    before_actions, before_sent = _actions(), _sent_to(KPPS)
    refused = {
        "votes do not add up to SAH": {**CHANGE, "v1": "100"},
        "SAH + TS over DPT + 2%": {**CHANGE, "v1": "320", "sah": "455"},
    }
    for why, form in refused.items():
        response = post_form(client, f"{url}/change", form, page=url)
        assert response.status_code == 302, why
        after = _only_submission()
        assert (after.votes, after.sah, after.ts) == (pending.votes, pending.sah, pending.ts), why
    assert "tally_changed" not in _actions()[len(before_actions) :]
    drain(redis_conn)
    assert _sent_to(KPPS) == before_sent  # the officer is told of no change
    # The officer's YA still confirms the numbers they sent.
    sms(client, redis_conn, KPPS, "YA")
    area = national()
    assert (area.tps_confirmed, area.votes[1], area.sah) == (1, 120, 255)


def test_an_officers_change_request_that_breaks_the_form_cannot_be_accepted(
    client, redis_conn
) -> None:
    """`BANTUAN <code> 01=121` on a confirmed 01=120 … SAH=255 changes one vote and not SAH:
    it reaches the review queue (the officer's words are worth reading), but accepting it
    would publish votes that do not add up to SAH — refused, no proposal waits."""
    sms(client, redis_conn, KPPS, FIRST, "YA")
    confirmed = _only_submission()
    assert confirmed.status == "confirmed"
    assert post_gateway(client, "r-bantuan", KPPS, f"BANTUAN {confirmed.receipt_code} 01=121")
    drain(redis_conn)
    logged_in(client)
    queue = client.get("/console/review").get_data(as_text=True)
    item_id = item_id_in(queue)
    with session_scope() as session:
        item = session.get_one(ReviewItem, item_id)
        assert item.kind == "change_request"
    response = post_form(
        client,
        f"/console/review/{item_id}/accept",
        {"note": "officer asked"},
        page=f"/console/review/{item_id}",
    )
    assert response.status_code == 302
    with session_scope() as session:
        assert session.scalars(select(TallyChange)).all() == []
        assert session.get_one(ReviewItem, item_id).status == "open"
        still = session.get_one(Submission, confirmed.id)
    assert (still.status, still.sah) == ("confirmed", 255)
    area = national()
    assert (area.tps_confirmed, area.votes[1], area.sah) == (1, 120, 255)
