"""Who works on a ticket and what they answer with: an operator claims a ticket, a supervisor
assigns it, the lists show and filter it, everything is audited; a claim by someone else
warns but never stops a reply. Canned replies (seeded by migration 0016) go into the reply
box in the officer's language and only supervisors edit them."""

from __future__ import annotations

import html
import importlib.util
import re

from sqlalchemy import select, update

from relay.config import ROOT
from relay.db import session_scope
from relay.models import AuditEntry, CannedReply, Officer, OutboundMessage, Ticket
from tests.support import converse
from tests.test_console_approvals import operator_client
from tests.web_support import csrf_from


def seed_canned() -> None:
    """The canned replies migration 0016 seeds (every test starts from empty tables)."""
    path = ROOT / "migrations" / "versions" / "0016_ticket_claims_canned.py"
    spec = importlib.util.spec_from_file_location("migration_0016", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with session_scope() as session:
        for i, (title, body_id, body_en) in enumerate(migration.SEED, start=1):
            session.add(CannedReply(title=title, body_id=body_id, body_en=body_en, position=i))


def _ticket(phone: str = "081234567801") -> int:
    converse(phone, "BANTUAN formulir C.Hasil basah kena hujan, bagaimana?")
    with session_scope() as session:
        return session.scalars(select(Ticket.id).order_by(Ticket.id.desc())).first()


def _post(browser, url: str, data: dict[str, str], page: str):
    token = csrf_from(browser.get(page).data)
    return browser.post(url, data={**data, "csrf_token": token})


def _queue(browser, **args: str) -> list[int]:
    page = browser.get("/console/tickets", query_string=args).get_data(as_text=True)
    return [int(n) for n in re.findall(r'href="/console/tickets/(\d+)"', page)]


def _assigned(ticket_id: int) -> str | None:
    with session_scope() as session:
        return session.get_one(Ticket, ticket_id).assigned_to


def _audit(ticket_id: int) -> list[tuple[str, str, dict]]:
    with session_scope() as session:
        return [
            (e.actor, e.action, dict(e.detail))
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity == "ticket", AuditEntry.entity_id == str(ticket_id))
                .order_by(AuditEntry.id)
            )
        ]


def test_claim_filter_take_over_and_reply_despite_anothers_claim(client) -> None:
    mine, other = _ticket("081234567801"), _ticket("081234567803")
    ani = operator_client(client.application, "ani")
    budi = operator_client(client.application, "budi")
    page = f"/console/tickets/{mine}"
    assert "belum diambil" in ani.get(page).get_data(as_text=True)
    done = _post(ani, f"/console/tickets/{mine}/claim", {}, page)
    assert done.status_code == 302 and _assigned(mine) == "ani"
    assert _audit(mine)[-1] == ("operator:ani", "ticket_claimed", {"from": None, "to": "ani"})

    # The lists show who handles what and filter it.
    listing = ani.get("/console/tickets").get_data(as_text=True)
    assert re.search(rf'data-ticket="{mine}".*?class="assignee">ani<', listing, re.S)
    assert _queue(ani, assigned="mine") == [mine]
    assert _queue(budi, assigned="mine") == []
    assert _queue(budi, assigned="unassigned") == [other]
    assert sorted(_queue(budi)) == sorted([mine, other])

    # Another operator is warned, and still answers: the reply goes out, the claim stays.
    seen = budi.get(page).get_data(as_text=True)
    assert "Tiket ini sedang ditangani ani. Anda tetap bisa membalas." in seen
    sent = _post(budi, f"/console/tickets/{mine}/reply", {"body": "Keringkan dulu."}, page)
    assert sent.status_code == 302
    after = budi.get(page).get_data(as_text=True)
    assert "Catatan: tiket ini ditangani ani; balasan Anda tetap dikirim." in after
    with session_scope() as session:
        texts = session.scalars(select(OutboundMessage.text)).all()
    assert any(text.endswith("Keringkan dulu.") for text in texts)
    assert _assigned(mine) == "ani"

    # Taking over is allowed, and says from whom; releasing frees it.
    _post(budi, f"/console/tickets/{mine}/claim", {}, page)
    assert _assigned(mine) == "budi"
    assert _audit(mine)[-1] == ("operator:budi", "ticket_claimed", {"from": "ani", "to": "budi"})
    history = budi.get(page).get_data(as_text=True)
    assert "Tiket diambil alih dari ani." in history and "Tiket dibuka." in history
    _post(budi, f"/console/tickets/{mine}/release", {}, page)
    assert _assigned(mine) is None
    assert _audit(mine)[-1][1:] == ("ticket_released", {"from": "budi", "to": None})


def test_only_a_supervisor_assigns_and_only_to_an_active_operator(client) -> None:
    ticket = _ticket()
    page = f"/console/tickets/{ticket}"
    ani = operator_client(client.application, "ani")
    operator_client(client.application, "budi")
    sari = operator_client(client.application, "sari", role="supervisor")
    assert 'id="assign-form"' not in ani.get(page).get_data(as_text=True)
    refused = _post(ani, f"/console/tickets/{ticket}/assign", {"operator": "ani"}, page)
    assert refused.status_code == 403 and _assigned(ticket) is None

    form = sari.get(page).get_data(as_text=True)
    assert 'id="assign-form"' in form and "<option>budi</option>" in form
    _post(sari, f"/console/tickets/{ticket}/assign", {"operator": "budi"}, page)
    assert _assigned(ticket) == "budi"
    assert _audit(ticket)[-1] == ("operator:sari", "ticket_assigned", {"from": None, "to": "budi"})
    _post(sari, f"/console/tickets/{ticket}/assign", {"operator": "nobody-here"}, page)
    assert _assigned(ticket) == "budi"
    assert "Operator aktif nobody-here tidak ada." in sari.get(page).get_data(as_text=True)
    sari.set_cookie("lang", "en")
    english = sari.get(page).get_data(as_text=True)
    assert "Ticket assigned to budi." in english and "budi is handling this ticket." in english
    _post(sari, f"/console/tickets/{ticket}/assign", {"operator": ""}, page)
    assert _assigned(ticket) is None


def test_canned_replies_go_in_the_officers_language_and_supervisors_edit_them(client) -> None:
    seed_canned()
    ticket = _ticket()
    page = f"/console/tickets/{ticket}"
    ani = operator_client(client.application, "ani")
    with session_scope() as session:
        seeded = session.scalars(select(CannedReply).order_by(CannedReply.position)).all()
        assert len(seeded) >= 3 and all(c.body_id and c.body_en for c in seeded)
        first_id, first_id_text, first_en_text = seeded[0].id, seeded[0].body_id, seeded[0].body_en
    shown = ani.get(page).get_data(as_text=True)
    assert f'data-body="{html.escape(first_id_text, quote=True)}"' in shown
    assert "bahasa petugas (Indonesia)" in shown
    # Without scripts the box is pre-filled by the server, ready to edit.
    prefilled = ani.get(f"{page}?canned={first_id}").get_data(as_text=True)
    assert f">{html.escape(first_id_text, quote=False)}</textarea>" in prefilled

    with session_scope() as session:  # an officer who chose English gets English
        ticket_row = session.get_one(Ticket, ticket)
        session.execute(
            update(Officer).where(Officer.id == ticket_row.officer_id).values(language="en")
        )
    english = ani.get(f"{page}?canned={first_id}").get_data(as_text=True)
    assert f">{html.escape(first_en_text, quote=False)}</textarea>" in english
    assert "bahasa petugas (Inggris)" in english

    # An operator reads the list but cannot change it.
    assert ani.get("/console/canned").status_code == 200
    refused = _post(
        ani, f"/console/canned/{first_id}", {"title": "x", "body_id": "x", "body_en": "x"},
        "/console/canned",
    )
    assert refused.status_code == 403
    sari = operator_client(client.application, "sari", role="supervisor")
    edit = {"title": "Format SMS", "body_id": "Kirim: PPWP <kode TPS> ...",
            "body_en": "Send: PPWP <TPS code> ...", "position": "1", "active": "1"}
    assert _post(sari, f"/console/canned/{first_id}", edit, "/console/canned").status_code == 302
    new = {"title": "Jam tutup", "body_id": "TPS ditutup pukul 13.00.",
           "body_en": "Polling stations close at 13:00.", "position": "9", "active": "1"}
    _post(sari, "/console/canned", new, "/console/canned")
    _post(sari, "/console/canned", {"title": "Tanpa teks", "body_id": "", "body_en": "x"},
          "/console/canned")
    assert "Judul dan kedua teks wajib diisi" in sari.get("/console/canned").get_data(as_text=True)
    hidden = {**edit, "title": "Lama", "body_id": "lama", "body_en": "old"}
    hidden.pop("active")
    second_id = seeded[1].id
    _post(sari, f"/console/canned/{second_id}", hidden, "/console/canned")
    with session_scope() as session:
        rows = {c.title: c for c in session.scalars(select(CannedReply))}
        assert rows["Format SMS"].body_en == "Send: PPWP <TPS code> ..."
        assert rows["Jam tutup"].updated_by == "sari" and "Tanpa teks" not in rows
        assert rows["Lama"].active is False
        saved = session.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "canned_reply_saved")
        ).all()
        assert saved == ["operator:sari"] * 3
    offered = ani.get(page).get_data(as_text=True)
    assert "Polling stations close at 13:00." in offered  # the English officer's text
    assert "Send: PPWP &lt;TPS code&gt; ..." in offered  # escaped in the attribute
    assert ">Lama<" not in offered  # retired replies are not offered
