"""The ticket queue an operator works through on election night: counts per tab, waiting
time in words, and search/filters by TPS or region, phone, officer name, channel and age."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from relay.db import session_scope
from relay.models import Ticket
from tests.support import converse
from tests.test_console_approvals import operator_client
from web.console.ticket_filters import waited

OFFICERS = {  # demo roster: phone → TPS
    "081234567801": "3576011001001",
    "081234567803": "3576011001003",
    "081234567810": "3277011001001",
}


def _queue(browser, **args: str) -> list[int]:
    page = browser.get("/console/tickets", query_string=args).get_data(as_text=True)
    return [int(n) for n in re.findall(r'href="/console/tickets/(\d+)"', page)]


def _open_tickets() -> dict[str, int]:
    for phone in OFFICERS:
        converse(phone, "BANTUAN formulir C.Hasil basah kena hujan, bagaimana?")
    with session_scope() as session:
        return {t.address: t.id for t in session.query(Ticket)}


def test_queue_filters_by_code_phone_name_channel_and_age(client) -> None:
    ids = _open_tickets()
    assert len(ids) == 3
    ani = operator_client(client.application, "ani")
    every = _queue(ani)
    assert sorted(every) == sorted(ids.values())
    mojokerto = [ids["+6281234567801"], ids["+6281234567803"]]
    assert sorted(_queue(ani, q="3576")) == sorted(mojokerto)  # a regency's code
    assert _queue(ani, q="3277011001001") == [ids["+6281234567810"]]  # a TPS code
    assert _queue(ani, q="0812-3456-7803") == [ids["+6281234567803"]]  # a phone, as typed
    assert _queue(ani, q="sutrisno") == [ids["+6281234567801"]]  # the officer's name
    assert _queue(ani, channel="telegram") == []
    assert sorted(_queue(ani, channel="sms-gateway")) == sorted(every)
    with session_scope() as session:  # one officer has waited 40 minutes
        session.execute(
            update(Ticket)
            .where(Ticket.id == ids["+6281234567810"])
            .values(waiting_since=datetime.now(UTC) - timedelta(minutes=40))
        )
    assert _queue(ani, older_than="30") == [ids["+6281234567810"]]
    page = ani.get("/console/tickets").get_data(as_text=True)
    assert "menunggu 40 mnt" in page
    assert "terbuka (3)" in page
    assert "hapus saringan" in ani.get("/console/tickets?q=3576").get_data(as_text=True)


def test_waiting_time_in_words() -> None:
    now = datetime(2026, 2, 14, 21, 0, tzinfo=UTC)
    assert waited(None, now) is None
    assert waited(now - timedelta(minutes=12, seconds=40), now) == (0, 12)
    assert waited(now - timedelta(hours=1, minutes=5), now) == (1, 5)
