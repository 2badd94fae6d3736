"""1,000 officers write to the help desk at once, through the real pipeline (signed gateway
webhooks → Redis → the production RQ worker class → conversation → sends to the fake
gateway): small talk, FAQ questions, real problems and change requests. Only the real
problems (and FAQ questions asked a second time) open tickets, one per officer; every
change request is a review item; every officer's answer is sent, not only queued.

2,200 jobs; most of the time goes to RQ's own Redis round trips (~60 per job)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from jobs.worker import RelayWorker
from relay.db import session_scope
from relay.loaders.regions import load_regions
from relay.loaders.roster import import_roster
from relay.models import (
    InboundMessage,
    OutboundMessage,
    ReviewItem,
    Submission,
    Ticket,
    TicketMessage,
)
from tests.support import converse, drain, post_gateway

OFFICERS = 1_000
VILLAGES = 10  # of 100 TPS each, in district 357601 of the demo regions
CHITCHAT = range(0, 300)
FAQ = range(300, 550)
FAQ_ASKED_TWICE = range(300, 350)
PROBLEMS = range(550, 850)
PROBLEMS_FOLLOWED_UP = range(550, 600)
CHANGES = range(850, 1_000)

SMALL_TALK = ["halo", "terima kasih", "ok", "selamat pagi pak", "???", "hello", "thanks", "wkwk"]
QUESTIONS = [
    "BANTUAN bagaimana cara kirim foto",
    "BANTUAN format sms",
    "HELP how do I send a photo",
    "BANTUAN apa arti kode di balasan",
    "cara cek status data",
    "HELP what does the code mean",
]
PROBLEM_TEXTS = [
    "BANTUAN kertas suara kurang 20 lembar",
    "BANTUAN saksi menolak tanda tangan formulir",
    "listrik mati di TPS, penghitungan tertunda",
    "HELP the ballot box seal is broken",
    "BANTUAN sinyal jelek, data tidak terkirim dari tadi pagi",
    "BANTUAN foto buram tidak terbaca",
]
CHANGE_TEXTS = [
    "BANTUAN {code} 01=121 SAH=256",
    "BANTUAN {code} salah ketik, 01 harusnya 121 SAH 256",
    "HELP {code} 01 should be 121, SAH 256",
]
TALLY = "PPWP {tps} 01=120 02=95 03=40 SAH=255 TS=5"


def phone(i: int) -> str:
    return f"+628131{i:06d}"


def tps(i: int) -> str:
    return f"35760111{i // 100:02d}{i % 100 + 1:03d}"


def load_officers(directory: Path, url: str) -> None:
    """TPS and a roster of OFFICERS kpps officers, one per TPS, one in four English."""
    regions = ["code,name,parent,level,registered_voters"]
    for v in range(VILLAGES):
        village = f"35760111{v:02d}"
        regions.append(f"{village},Desa Uji {v},357601,village,")
        regions += [f"{village}{t:03d},TPS {t:03d},{village},tps,280" for t in range(1, 101)]
    roster = ["phone,name,role,tps_code,language"]
    roster += [
        f"{phone(i)},Petugas {i},kpps,{tps(i)},{'en' if i % 4 == 3 else 'id'}"
        for i in range(OFFICERS)
    ]
    (directory / "regions.csv").write_text("\n".join(regions) + "\n", encoding="utf-8")
    (directory / "roster.csv").write_text("\n".join(roster) + "\n", encoding="utf-8")
    for report in (
        load_regions(directory / "regions.csv", url),
        import_roster(directory / "roster.csv", url),
    ):
        assert not report.errors, report.errors


def count(query) -> int:
    with session_scope() as session:
        return session.scalar(query) or 0


def test_a_thousand_officers_get_answers_and_only_real_problems_open_tickets(
    demo: str, client, redis_conn, gateway, tmp_path: Path
) -> None:
    load_officers(tmp_path, demo)
    # The officers who will ask for a change first report and confirm their tally.
    for i in CHANGES:
        converse(phone(i), TALLY.format(tps=tps(i)))
        converse(phone(i), "YA")
    with session_scope() as session:
        codes = dict(
            session.execute(
                select(Submission.tps_code, Submission.receipt_code).where(
                    Submission.status == "confirmed"
                )
            ).all()
        )
        first_inbound = session.scalar(select(func.max(InboundMessage.id))) or 0
        first_outbound = session.scalar(select(func.max(OutboundMessage.id))) or 0
    assert len(codes) == len(CHANGES)

    def first_message(i: int) -> str:
        if i in CHITCHAT:
            return SMALL_TALK[i % len(SMALL_TALK)]
        if i in FAQ:
            return QUESTIONS[i % len(QUESTIONS)]
        if i in PROBLEMS:
            return PROBLEM_TEXTS[i % len(PROBLEM_TEXTS)]
        return CHANGE_TEXTS[i % len(CHANGE_TEXTS)].format(code=codes[tps(i)])

    second = {i: QUESTIONS[i % len(QUESTIONS)] for i in FAQ_ASKED_TWICE}
    second |= {i: "BANTUAN sudah satu jam belum ada jawaban" for i in PROBLEMS_FOLLOWED_UP}
    for round_ in ({i: first_message(i) for i in range(OFFICERS)}, second):
        for i, body in round_.items():
            response = post_gateway(client, f"load-{len(round_)}-{i}", phone(i), body)
            assert response.status_code == 200
        drain(redis_conn, 120.0, RelayWorker)

    sent = count(
        select(func.count())
        .select_from(OutboundMessage)
        .where(OutboundMessage.id > first_outbound, OutboundMessage.status == "sent")
    )
    inbound = count(
        select(func.count()).select_from(InboundMessage).where(InboundMessage.id > first_inbound)
    )
    assert inbound == OFFICERS + len(second)
    answered_messages = count(
        select(func.count(func.distinct(OutboundMessage.inbound_id))).where(
            OutboundMessage.id > first_outbound, OutboundMessage.status == "sent"
        )
    )
    unsent = count(
        select(func.count())
        .select_from(OutboundMessage)
        .where(OutboundMessage.id > first_outbound, OutboundMessage.status != "sent")
    )
    # Every message answered and every reply sent; a reply carrying a tally's numbers may go
    # as several single SMS parts marked (i/n) (bots/sms.py), so there can be more SMS.
    assert answered_messages == inbound and unsent == 0
    assert inbound <= sent <= inbound + len(CHANGES)
    with session_scope() as session:
        answered = set(
            session.scalars(
                select(OutboundMessage.to_address).where(
                    OutboundMessage.id > first_outbound, OutboundMessage.status == "sent"
                )
            )
        )
    assert answered == {phone(i) for i in range(OFFICERS)}
    delivered = {m["to"] for m in gateway.sent_messages()}
    assert {phone(i) for i in range(OFFICERS)} <= delivered

    # Tickets: one per real problem (its follow-up joins it), one per question asked twice.
    open_tickets = count(select(func.count()).select_from(Ticket).where(Ticket.status == "open"))
    assert open_tickets == len(PROBLEMS) + len(FAQ_ASKED_TWICE)
    with session_scope() as session:
        by_officer = session.execute(
            select(Ticket.address, func.count())
            .where(Ticket.status == "open")
            .group_by(Ticket.address)
        ).all()
        followed_up = session.scalar(
            select(func.count())
            .select_from(TicketMessage)
            .join(Ticket, Ticket.id == TicketMessage.ticket_id)
            .where(
                Ticket.address == phone(PROBLEMS_FOLLOWED_UP[0]), TicketMessage.direction == "in"
            )
        )
    assert {n for _, n in by_officer} == {1}
    assert {address for address, _ in by_officer} == {
        phone(i) for i in (*PROBLEMS, *FAQ_ASKED_TWICE)
    }
    assert followed_up == 2
    # Change requests: in the review queue, with the numbers asked for; no ticket.
    with session_scope() as session:
        requests = session.scalars(
            select(ReviewItem).where(ReviewItem.kind == "change_request")
        ).all()
        assert len(requests) == len(CHANGES)
        assert {str(r.detail["changes"]) for r in requests} == {"{'01': 121, 'SAH': 256}"}
        assert all(r.detail["checks"] == [] for r in requests)
