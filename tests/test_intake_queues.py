"""Which queue a stored message goes to (relay.intake): an officer's (by phone, by bound
Telegram account, or sharing their own contact to register) to `inbound`, anyone else's to
`inbound-unknown`; and when the roster cannot be read after the store, everyone's to
`inbound`, the message stored and acknowledged all the same."""

from __future__ import annotations

from rq import Queue
from sqlalchemy import select, text, update

from jobs.queues import INBOUND, INBOUND_UNKNOWN
from relay.db import session_scope
from relay.models import InboundMessage, Officer
from tests.conftest import TELEGRAM_SECRET
from tests.fakes import telegram_updates as tu
from tests.support import owner_connection, post_gateway, post_twilio_sms

OFFICER = "+6281234567801"  # the demo kpps of TPS 3576011001001
BOUND_USER = 555000111
OUTSIDER = "+6289900000001"


def queued(redis_conn) -> dict[str, set[int]]:
    """Inbound ids per inbound queue."""
    return {
        name: {
            int(job_id.removeprefix("inbound-"))
            for job_id in Queue(name, connection=redis_conn).job_ids
        }
        for name in (INBOUND, INBOUND_UNKNOWN)
    }


def stored_id(provider_id: str) -> int:
    """The row of `provider_id` (a gateway's: the id before its digest)."""
    with session_scope() as session:
        found = session.scalar(
            select(InboundMessage.id).where(
                (InboundMessage.provider_id == provider_id)
                | InboundMessage.provider_id.startswith(provider_id + "#")
            )
        )
        assert found is not None, provider_id
        return found


def post_telegram(client, update: dict):
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    return client.post("/webhooks/telegram", json=update, headers=headers)


def test_officers_go_to_inbound_and_everyone_else_to_the_slow_queue(
    client, redis_conn, telegram
) -> None:
    with session_scope() as session:
        session.execute(
            update(Officer).where(Officer.phone == OFFICER).values(telegram_user_id=BOUND_USER)
        )
    assert post_twilio_sms(client, OFFICER, "STATUS", sid="SM" + "a" * 32).status_code == 200
    assert post_twilio_sms(client, OUTSIDER, "halo", sid="SM" + "b" * 32).status_code == 200
    assert post_gateway(client, "gw-officer", "081234567801", "STATUS").status_code == 200
    assert post_telegram(client, tu.text_update(7001, BOUND_USER, "STATUS")).status_code == 200
    assert post_telegram(client, tu.text_update(7002, 555000999, "halo")).status_code == 200
    # A stranger on Telegram sharing their own contact, whose number is on the roster.
    own_contact = tu.contact_update(7003, 555000222, "6281234567802")
    assert post_telegram(client, own_contact).status_code == 200
    assert (
        post_telegram(client, tu.contact_update(7004, 555000333, "6289900002222")).status_code
        == 200
    )

    officers = {
        stored_id("SM" + "a" * 32),
        stored_id("gw-officer"),
        stored_id("7001"),
        stored_id("7003"),
    }
    outsiders = {stored_id("SM" + "b" * 32), stored_id("7002"), stored_id("7004")}
    assert queued(redis_conn) == {INBOUND: officers, INBOUND_UNKNOWN: outsiders}


def test_a_roster_that_cannot_be_read_after_the_store_sends_everyone_to_inbound(
    client, redis_conn, owner_db: str
) -> None:
    with owner_connection(owner_db) as conn:
        conn.execute(text("ALTER TABLE officers RENAME TO officers_away"))
    try:
        answer = post_twilio_sms(client, OUTSIDER, "halo", sid="SM" + "c" * 32)
    finally:
        with owner_connection(owner_db) as conn:
            conn.execute(text("ALTER TABLE officers_away RENAME TO officers"))
    assert answer.status_code == 200
    assert queued(redis_conn) == {INBOUND: {stored_id("SM" + "c" * 32)}, INBOUND_UNKNOWN: set()}
    # The next webhook finds the roster again.
    assert post_twilio_sms(client, OUTSIDER, "halo", sid="SM" + "d" * 32).status_code == 200
    assert stored_id("SM" + "d" * 32) in queued(redis_conn)[INBOUND_UNKNOWN]


def test_a_telegram_id_too_long_for_the_roster_is_an_unknown_sender(
    client, redis_conn, telegram
) -> None:
    huge = 10**20  # no BIGINT holds it: nobody's id, and no database may be asked about it
    assert post_telegram(client, tu.text_update(7101, huge, "halo")).status_code == 200
    assert queued(redis_conn) == {INBOUND: set(), INBOUND_UNKNOWN: {stored_id("7101")}}
