"""The review queue: conflicting tallies, officers' change requests, operators' changes —
each with an audit entry (who, when, before, after), updated totals and a notice to the
officer through their channel."""

from __future__ import annotations

import re

from sqlalchemy import select

from bots import review
from relay import media, results
from relay.db import session_scope
from relay.models import (
    AuditEntry,
    Contest,
    InboundMessage,
    OutboundMessage,
    ReviewItem,
    Submission,
)
from tests.support import drain, post_gateway
from tests.web_support import logged_in, login, make_operator, post_form

KPPS = "+6281234567801"  # TPS 3576011001001
PPS = "+6281234567809"  # every TPS of village 3576011001
FIRST = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
SECOND = "PPWP 3576011001001 01=121 02=95 03=40 SAH=256 TS=4"


_gateway_ids = iter(range(1, 10**6))


def sms(client, redis_conn, phone: str, *texts: str) -> None:
    """Officers' SMS through the gateway (a real channel: the simulator's are training)."""
    for text in texts:
        assert post_gateway(client, f"r-{next(_gateway_ids)}", phone, text).status_code == 200
        drain(redis_conn)


def texts_to(phone: str) -> list[str]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(OutboundMessage.text)
                .where(OutboundMessage.to_address == phone, OutboundMessage.status == "sent")
                .order_by(OutboundMessage.id)
            )
        )


def national(contest: str = "PPWP") -> results.Area:
    with session_scope() as session:
        return results.area(session, session.get_one(Contest, contest), "", "Indonesia")


def approved_by_supervisor(client, name: str = "budi") -> None:
    """A second operator, a supervisor, approves the change waiting for approval."""
    from relay import operators
    from relay.models import TallyChange

    make_operator(name)
    with session_scope() as session:
        operators.set_role(session, name, "supervisor")
        [change_id] = session.scalars(
            select(TallyChange.id).where(TallyChange.status == "pending")
        ).all()
    browser = client.application.test_client()
    login(browser, name)
    response = post_form(
        browser, f"/console/approvals/{change_id}/approve", {"note": ""}, "/console/approvals"
    )
    assert response.status_code == 302


def item_id_in(html: str) -> int:
    match = re.search(r'href="/console/review/(\d+)"', html)
    assert match, "no review item listed"
    return int(match.group(1))


def test_conflict_from_another_officer_accepted_by_an_operator(client, redis_conn) -> None:
    sms(client, redis_conn, KPPS, FIRST, "YA")
    sms(client, redis_conn, PPS, SECOND)
    assert national().votes[1] == 120
    logged_in(client)
    queue = client.get("/console/review").get_data(as_text=True)
    assert "konflik" in queue and "3576011001001" in queue
    item_id = item_id_in(queue)
    page = client.get(f"/console/review/{item_id}").get_data(as_text=True)
    assert "Tidak ada foto" in page  # text tallies: a placeholder where the photo would be
    assert SECOND in page and FIRST in page

    response = post_form(
        client,
        f"/console/review/{item_id}/accept",
        {"note": "PPS membawa C.Hasil asli; KPPS salah ketik"},
        page=f"/console/review/{item_id}",
    )
    assert response.status_code == 302
    assert national().votes[1] == 120  # a confirmed tally changes only with a second person
    approved_by_supervisor(client)
    drain(redis_conn)
    with session_scope() as session:
        subs = session.scalars(select(Submission).order_by(Submission.id)).all()
        [entry] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "conflict_accepted")
        ).all()
        item = session.get_one(ReviewItem, item_id)
    assert [(s.status, s.reason) for s in subs] == [
        ("superseded", "replaced_by_operator"),
        ("confirmed", "accepted_by_operator"),
    ]
    assert entry.actor == "operator:budi" and entry.at is not None
    assert entry.detail["before"] == {"votes": {"01": 120, "02": 95, "03": 40}, "sah": 255, "ts": 5}
    assert entry.detail["after"] == {"votes": {"01": 121, "02": 95, "03": 40}, "sah": 256, "ts": 4}
    assert entry.detail["note"].startswith("PPS membawa C.Hasil asli; KPPS salah ketik (#")
    assert item.status == "resolved" and item.resolution == "accepted"
    area = national()
    assert (area.tps_confirmed, area.votes[1], area.sah, area.ts) == (1, 121, 256, 4)
    assert texts_to(PPS)[-1].startswith("Help desk memakai data Anda PPWP TPS 3576011001001")
    assert texts_to(KPPS)[-1].startswith("Help desk mengubah PPWP TPS 3576011001001")


def test_change_request_dismissed_keeps_the_confirmed_tally(client, redis_conn) -> None:
    sms(client, redis_conn, KPPS, FIRST, "YA", SECOND)
    logged_in(client)
    queue = client.get("/console/review").get_data(as_text=True)
    assert "permintaan ubah" in queue
    item_id = item_id_in(queue)
    post_form(client, f"/console/review/{item_id}/dismiss", {"note": "angka lama benar"})
    drain(redis_conn)
    with session_scope() as session:
        conflict = session.scalars(select(Submission).where(Submission.status == "rejected")).one()
    assert conflict.reason == "conflict_dismissed"
    assert texts_to(KPPS)[-1].startswith("Help desk mempertahankan data terkonfirmasi PPWP")
    sms(client, redis_conn, KPPS, "STATUS")
    assert "KONFLIK" not in texts_to(KPPS)[-1]
    assert national().votes[1] == 120
    assert "Tidak ada yang perlu ditinjau." in client.get("/console/review").get_data(as_text=True)


def test_operator_change_is_audited_counted_and_told_to_the_officer(
    client, redis_conn, gateway
) -> None:
    post_gateway(client, "g-1", KPPS, FIRST)
    drain(redis_conn)
    post_gateway(client, "g-2", KPPS, "YA")
    drain(redis_conn)
    with session_scope() as session:
        submission = session.scalars(select(Submission)).one()
    logged_in(client)
    url = f"/console/submissions/{submission.id}"
    assert 'id="change-form"' in client.get(url).get_data(as_text=True)

    bad = post_form(
        client,
        f"{url}/change",
        {"v1": "100", "v2": "95", "v3": "40", "sah": "255", "ts": "5", "note": "salah"},
        page=url,
    )
    assert bad.status_code == 302
    assert "jumlah suara 235 tidak sama dengan SAH 255" in client.get(url).get_data(as_text=True)

    post_form(
        client,
        f"{url}/change",
        {"v1": "100", "v2": "95", "v3": "40", "sah": "235", "ts": "5", "note": "foto C.Hasil"},
        page=url,
    )
    approved_by_supervisor(client)
    drain(redis_conn)
    with session_scope() as session:
        [entry] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "tally_changed")
        ).all()
        changed = session.get_one(Submission, submission.id)
    assert entry.actor == "operator:budi"
    assert (
        entry.detail["before"]["votes"]["01"] == 120 and entry.detail["after"]["votes"]["01"] == 100
    )
    assert entry.detail["note"] == "foto C.Hasil (#1: ani, approved by budi)"
    assert (changed.status, changed.sah, changed.reason) == (
        "confirmed",
        235,
        "changed_by_operator",
    )
    area = national()
    assert (area.tps_confirmed, area.votes[1], area.sah) == (1, 100, 235)
    assert gateway.sent_messages()[-1]["text"] == (
        "Help desk mengubah PPWP TPS 3576011001001 (kode "
        f"{submission.receipt_code}) menjadi: 01=100 02=95 03=40 SAH=235 TS=5."
    )
    history = client.get(url).get_data(as_text=True)
    # The history in words: who, and what changed from what to what (no raw JSON).
    assert "Angka diubah: 01=120 02=95 03=40 SAH=255 TS=5 → 01=100 02=95 03=40 SAH=235" in history
    assert "<td data-label=\"Siapa\">budi</td>" in history
    assert "Usulan #1: 01=120" in history and "<td data-label=\"Siapa\">ani</td>" in history
    assert "tally_changed" not in history and "{&#34;" not in history


def test_photo_reader_items_show_the_photo_beside_the_values(client, redis_conn) -> None:
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
        b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    key = media.save(png, "image/png")
    with session_scope() as session:
        inbound = InboundMessage(
            channel="simulator",
            provider_id="photo-1",
            sender=KPPS,
            payload="{}",
            media=[{"content_type": "image/png", "key": key}],
            status="processed",
        )
        session.add(inbound)
        session.flush()
        item = review.open_item(
            session,
            "low_confidence",
            inbound_id=inbound.id,
            tps_code="3576011001001",
            contest_code="PPWP",
            detail={"fields": {"02": 0.41}},
        )
        again = review.open_item(session, "low_confidence", inbound_id=inbound.id)
        item_id, inbound_id = item.id, inbound.id
    assert again.id != item_id or again.submission_id is None
    logged_in(client)
    page = client.get(f"/console/review/{item_id}").get_data(as_text=True)
    assert f'src="/console/media/{inbound_id}/0"' in page and "bacaan ragu" in page
    assert "Pembaca foto ragu pada 02 (keyakinan 41%)." in page  # in words, not JSON
    photo = client.get(f"/console/media/{inbound_id}/0", follow_redirects=True)  # signed link
    assert photo.status_code == 200 and photo.data == png and photo.mimetype == "image/png"
    post_form(client, f"/console/review/{item_id}/dismiss", {"note": "dibaca manual"})
    with session_scope() as session:
        assert session.get_one(ReviewItem, item_id).resolution == "dismissed"
