"""The help desk as an officer meets it, in Indonesian and English: small talk, FAQ
questions, real problems and change requests — text in → exact reply out, and how many
tickets and change requests each leaves behind (the conversation step with the real
database and the demo roster, as in tests/test_conversation_table.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from relay.db import session_scope
from relay.models import ReviewItem, Submission, Ticket, TicketMessage
from tests.support import converse

KPPS = "+6281234567801"  # TPS 3576011001001, Indonesian
KPPS_EN = "+6281234567802"  # TPS 3576011001002, English
TALLY = {
    KPPS: "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5",
    KPPS_EN: "PPWP 3576011001002 01=100 02=90 03=40 SAH=230 TS=4",
}
SMS = 160

# Officer's state before the message: nothing, a tally waiting for YA, a confirmed tally,
# or messages sent before (sent as they are).
NOTHING, PENDING, CONFIRMED = (), ("tally",), ("tally", "YA")

# (sender, before, text ({receipt}: the tally's code), reply (regex, fullmatch),
#  open tickets, change requests after it)
TABLE = [
    # --- small talk: a friendly reply, no ticket ----------------------------------------
    (
        KPPS,
        NOTHING,
        "halo pak",
        r"Halo! Kirim data: PPWP <kode TPS> 01=\.\. SAH=\.\. TS=\.\., "
        r"STATUS, atau BANTUAN <pertanyaan>\.",
        0,
        0,
    ),
    (
        KPPS_EN,
        NOTHING,
        "good morning",
        r"Hello! Send a tally: PPWP <TPS code> 01=\.\. "
        r"SAH=\.\. TS=\.\., STATUS, or HELP <question>\.",
        0,
        0,
    ),
    (
        KPPS,
        NOTHING,
        "Terima kasih banyak, Bu",
        r"Sama-sama, selamat bertugas! Ada masalah\? "
        r"Kirim BANTUAN <pertanyaan>\.",
        0,
        0,
    ),
    (
        KPPS_EN,
        NOTHING,
        "thanks!",
        r"You're welcome, good luck! A problem\? Send HELP "
        r"<question>\.",
        0,
        0,
    ),
    (
        KPPS,
        NOTHING,
        "ok",
        r"Baik\. Kirim STATUS untuk melihat data TPS Anda, atau BANTUAN "
        r"<pertanyaan>\.",
        0,
        0,
    ),
    (KPPS_EN, NOTHING, "okay sir", r"OK\. Send STATUS to see your TPS, or HELP <question>\.", 0, 0),
    (
        KPPS,
        NOTHING,
        "???",
        r"Pesan tidak dipahami\. Kirim data: PPWP <kode TPS> 01=\.\. "
        r"SAH=\.\. TS=\.\., atau BANTUAN <pertanyaan>\.",
        0,
        0,
    ),
    (
        KPPS_EN,
        NOTHING,
        "hmm",
        r"Message not understood\. Send a tally: PPWP <TPS code> "
        r"01=\.\. SAH=\.\. TS=\.\., or HELP <question>\.",
        0,
        0,
    ),
    (KPPS, NOTHING, "BANTUAN selamat pagi", r"Halo! Kirim data: .*", 0, 0),
    (KPPS_EN, NOTHING, "HELP thank you", r"You're welcome, good luck! .*", 0, 0),
    # A tally waits for YA: "ok" confirms it, "terima kasih" leaves it waiting.
    (KPPS, PENDING, "ok", r"Terkonfirmasi PPWP TPS 3576011001001.*", 0, 0),
    (KPPS, PENDING, "terima kasih", r"Sama-sama, selamat bertugas! .*", 0, 0),
    # --- a question the FAQ answers well: answered, no ticket ------------------------------
    (
        KPPS,
        NOTHING,
        "BANTUAN gmn cara krm foto?",
        r"Foto formulir C\.Hasil: letakkan .* "
        r"Belum terjawab\? Balas 0 untuk menghubungi petugas help desk\.",
        0,
        0,
    ),
    (
        KPPS_EN,
        NOTHING,
        "HELP how do I send a photo",
        r"Photographing the C\.Hasil form: .* "
        r"Not answered\? Reply 0 to reach a help-desk operator\.",
        0,
        0,
    ),
    # ... asked again: the answer did not help, a person will (the FAQ as a suggestion)
    (
        KPPS,
        ("BANTUAN bagaimana cara kirim foto",),
        "BANTUAN cara kirim foto gimana?",
        r"Pertanyaan yang sama diteruskan ke petugas help desk \(tiket #\d+\)\. "
        r"Jawabannya dikirim ke sini\.",
        1,
        0,
    ),
    (
        KPPS_EN,
        ("HELP how do I send a photo",),
        "HELP how to send photo??",
        r"Same question again: passed to a help-desk operator \(ticket #\d+\)\. "
        r"The answer comes here\.",
        1,
        0,
    ),
    # --- a real problem: a ticket at once; one open ticket per officer --------------------
    (
        KPPS,
        NOTHING,
        "BANTUAN kertas suara kurang 20 lembar",
        r"Pertanyaan diterima \(tiket #\d+\)\. Petugas help desk akan membalas di sini\.",
        1,
        0,
    ),
    (
        KPPS_EN,
        NOTHING,
        "HELP the witness refuses to sign the form",
        r"Question received \(ticket #\d+\)\. A help-desk operator will reply here\.",
        1,
        0,
    ),
    (
        KPPS,
        ("BANTUAN kertas suara kurang 20 lembar",),
        "BANTUAN sudah satu jam belum dibalas",
        r"Pesan ditambahkan ke tiket #\d+\. Petugas help desk akan membalas di sini\.",
        1,
        0,
    ),
    (
        KPPS_EN,
        ("HELP the witness refuses to sign",),
        "HELP still waiting for an answer",
        r"Added to ticket #\d+\. A help-desk operator will reply here\.",
        1,
        0,
    ),
    (
        KPPS,
        NOTHING,
        "listrik mati di TPS kami",
        r"Pesan diteruskan ke help desk "
        r"\(tiket #\d+\)\. Kirim data: PPWP <kode TPS> .*",
        1,
        0,
    ),
    # --- a change to a confirmed tally: a change request in the review queue --------------
    (
        KPPS,
        CONFIRMED,
        "BANTUAN {receipt} 01=121 SAH=256",
        r"Permintaan ubah PPWP TPS 3576011001001 kode {receipt}: 01=121 SAH=256 diterima "
        r"\(no\. \d+\)\. Petugas memeriksa; hasilnya dikirim ke sini\.",
        0,
        1,
    ),
    (
        KPPS,
        CONFIRMED,
        "BANTUAN {receipt} salah ketik, 01 harusnya 121 dan SAH jadi 256",
        r"Permintaan ubah PPWP TPS 3576011001001 kode {receipt}: 01=121 SAH=256 diterima .*",
        0,
        1,
    ),
    (
        KPPS,
        CONFIRMED,
        "bantuan 01 harusnya 121, sah 256",
        r"Permintaan ubah PPWP TPS 3576011001001 kode {receipt}: 01=121 SAH=256 .*",
        0,
        1,
    ),
    (
        KPPS_EN,
        CONFIRMED,
        "HELP {receipt} 02 should be 91, SAH=231",
        r"Change request PPWP TPS 3576011001002 code {receipt}: 02=91 SAH=231 received "
        r"\(no\. \d+\)\. An operator checks it; the outcome comes here\.",
        0,
        1,
    ),
    (
        KPPS,
        CONFIRMED,
        "BANTUAN {receipt} 01=120",
        r"PPWP TPS 3576011001001 kode {receipt} sudah berisi 01=120; tidak ada yang diubah\.",
        0,
        0,
    ),
    (
        KPPS_EN,
        CONFIRMED,
        "HELP {receipt} 07=5",
        r"07 is not on PPWP code {receipt}\. Write e\.g\. HELP {receipt} 01=51\.",
        0,
        0,
    ),
    (
        KPPS,
        CONFIRMED,
        "BANTUAN 7KQ3MD 01=51",
        r"Kode 7KQ3MD tidak ada di data terkonfirmasi Anda\. Kirim STATUS untuk melihat kode, "
        r"lalu BANTUAN <kode> 01=51\.",
        0,
        0,
    ),
    (
        KPPS_EN,
        PENDING,
        "HELP {receipt} 01=101",
        r"Code {receipt} is not confirmed yet: send 01=101 alone to correct it, then YA\.",
        0,
        0,
    ),
    # No confirmed tally and no code: a question for a person.
    (KPPS, NOTHING, "BANTUAN 01 harusnya 51", r"Pertanyaan diterima \(tiket #\d+\)\. .*", 1, 0),
]


def _counts() -> tuple[int, int]:
    with session_scope() as session:
        tickets = session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.status == "open")
        )
        requests = session.scalar(
            select(func.count()).select_from(ReviewItem).where(ReviewItem.kind == "change_request")
        )
    return tickets or 0, requests or 0


def _receipt(sender: str) -> str:
    with session_scope() as session:
        codes = session.scalars(
            select(Submission.receipt_code)
            .where(Submission.tps_code == TALLY[sender].split()[1])
            .order_by(Submission.id)
        ).all()
    return codes[0] if codes else "-"


@pytest.mark.parametrize(
    ("sender", "before", "message", "expected", "tickets", "requests"),
    TABLE,
    ids=[f"{i:02d}-{row[2][:30]}" for i, row in enumerate(TABLE)],
)
def test_help_desk_table(
    demo: str,
    sender: str,
    before: tuple[str, ...],
    message: str,
    expected: str,
    tickets: int,
    requests: int,
) -> None:
    for earlier in before:
        converse(sender, TALLY[sender] if earlier == "tally" else earlier)
    receipt = _receipt(sender)
    reply = converse(sender, message.format(receipt=receipt)).text
    assert re.fullmatch(expected.replace("{receipt}", receipt), reply, flags=re.DOTALL), reply
    assert _counts() == (tickets, requests)
    if not reply.startswith(("Foto formulir", "Photographing")):  # the FAQ's own answers
        assert len(reply) <= SMS, reply


def test_a_ticket_carries_the_faq_answer_as_an_unsent_suggestion(demo: str) -> None:
    converse(KPPS, "BANTUAN sinyal jelek di desa, data tidak terkirim dari tadi pagi")
    with session_scope() as session:
        ticket = session.scalars(select(Ticket)).one()
        messages = [(m.direction, m.author) for m in ticket.messages]
        suggestion = ticket.messages[-1].body
    assert ticket.status == "open" and ticket.waiting_since is not None
    assert messages == [("in", None), ("sug", "faq:blank_spot")]
    assert suggestion.startswith("Sinyal lemah")
    # The same topic again joins the ticket; the suggestion is not repeated.
    converse(KPPS, "BANTUAN sinyal masih hilang")
    with session_scope() as session:
        directions = list(session.scalars(select(TicketMessage.direction)))
    assert directions == ["in", "sug", "in"]


def test_a_change_request_is_a_tally_with_the_new_numbers_and_a_review_item(demo: str) -> None:
    converse(KPPS, TALLY[KPPS])
    converse(KPPS, "YA")
    receipt = _receipt(KPPS)
    converse(KPPS, f"BANTUAN {receipt} salah ketik, 01 harusnya 121, SAH 256")
    with session_scope() as session:
        item = session.scalars(select(ReviewItem)).one()
        asked = session.get_one(Submission, item.submission_id)
        confirmed = session.get_one(Submission, item.other_submission_id)
        assert (asked.status, asked.reason) == ("rejected", "locked_conflict")
        assert asked.votes_by_ballot() == {1: 121, 2: 95, 3: 40}
        assert (asked.sah, asked.ts) == (256, 5)
        assert (confirmed.receipt_code, confirmed.status) == (receipt, "confirmed")
        assert confirmed.votes_by_ballot()[1] == 120  # nothing changes before a decision
    assert (item.kind, item.status, item.tps_code, item.contest_code) == (
        "change_request",
        "open",
        "3576011001001",
        "PPWP",
    )
    assert item.detail["changes"] == {"01": 121, "SAH": 256}
    assert item.detail["before"] == {"01": 120, "SAH": 255}
    assert item.detail["checks"] == []
    assert item.detail["message"].endswith("01 harusnya 121, SAH 256")


@pytest.mark.parametrize("message", ["PPWP", "DPD", "YA", "BATAL", "STATUS", "CEK", "BAHASA"])
def test_a_contest_code_or_command_alone_is_never_small_talk(demo: str, message: str) -> None:
    """Short and vowel-less like "hmm", but the grammar's own words: it answers them."""
    reply = converse(KPPS, message).text
    assert not reply.startswith(("Pesan tidak dipahami", "Halo!", "Baik.", "Sama-sama")), reply
    assert _counts() == (0, 0)
