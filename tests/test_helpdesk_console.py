"""The help desk in the console: a ticket shows the FAQ's suggested answer (never sent by
itself), and an officer's `BANTUAN <code> 01=..` is a change request in the review queue
that one operator proposes and a supervisor approves, like any change to a confirmed tally."""

from __future__ import annotations

import html

from sqlalchemy import select

from relay.db import session_scope
from relay.models import OutboundMessage, ReviewItem, Submission, Ticket
from tests.support import drain
from tests.test_console_approvals import changes, decide, operator_client
from tests.test_console_review import FIRST, KPPS, item_id_in, national, sms, texts_to
from tests.web_support import post_form


def test_a_ticket_shows_the_faq_suggestion_and_sends_only_the_operators_reply(
    client, redis_conn
) -> None:
    sms(client, redis_conn, KPPS, "BANTUAN sinyal jelek, data tidak terkirim dari tadi pagi")
    [opened] = texts_to(KPPS)
    assert opened.startswith("Pertanyaan diterima (tiket #")
    with session_scope() as session:
        ticket = session.scalars(select(Ticket)).one()
    ani = operator_client(client.application, "ani")
    page = html.unescape(ani.get(f"/console/tickets/{ticket.id}").get_data(as_text=True))
    assert "Saran jawaban FAQ (belum dikirim) (blank_spot)" in page
    assert "Sinyal lemah: SMS tetap bisa terkirim walau internet tidak ada." in page
    with session_scope() as session:
        sent = list(session.scalars(select(OutboundMessage.text)))
    assert not any("Sinyal lemah" in body for body in sent)  # a suggestion is not sent


def test_a_change_request_is_proposed_by_an_operator_and_approved_by_a_supervisor(
    client, redis_conn
) -> None:
    sms(client, redis_conn, KPPS, FIRST, "YA")
    with session_scope() as session:
        receipt = session.scalars(select(Submission.receipt_code)).one()
    sms(client, redis_conn, KPPS, f"BANTUAN {receipt} salah ketik, 01 harusnya 121 SAH 256")
    assert texts_to(KPPS)[-1].startswith(
        f"Permintaan ubah PPWP TPS 3576011001001 kode {receipt}: 01=121 SAH=256 diterima"
    )
    with session_scope() as session:
        assert session.scalars(select(Ticket)).all() == []  # no free text for an operator
    ani = operator_client(client.application, "ani")
    item_id = item_id_in(ani.get("/console/review").get_data(as_text=True))
    page = html.unescape(ani.get(f"/console/review/{item_id}").get_data(as_text=True))
    assert "Perubahan yang diminta petugas" in page
    assert "01: 120 → <strong>121</strong> · SAH: 255 → <strong>256</strong>" in page
    assert "salah ketik, 01 harusnya 121 SAH 256" in page
    assert "berlaku setelah disetujui supervisor lain" in page

    response = post_form(ani, f"/console/review/{item_id}/accept", {"note": "C.Hasil dicek"})
    assert response.headers["Location"] == "/console/approvals"
    assert national().votes[1] == 120  # one person cannot change a confirmed tally
    [change] = changes()
    citra = operator_client(client.application, "citra", "supervisor")
    decide(citra, change.id, "approve")
    drain(redis_conn)  # the notice to the officer is sent
    area = national()
    assert (area.votes[1], area.sah, area.ts) == (121, 256, 5)
    with session_scope() as session:
        item = session.get_one(ReviewItem, item_id)
        assert (item.status, item.resolution) == ("resolved", "accepted")
    assert texts_to(KPPS)[-1].startswith("Help desk memakai data Anda PPWP TPS 3576011001001")
