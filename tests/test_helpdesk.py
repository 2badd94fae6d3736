"""The help desk as an officer meets it: questions answered from the FAQ, `0` to reach an
operator, free text and BANTUAN opening or continuing tickets (real database, demo roster;
`respond` is the worker's decision step)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlalchemy import select

from bots import faq
from bots.reply import Reply
from relay.db import session_scope
from relay.models import Ticket, TicketMessage
from tests.support import converse

KPPS = "+6281234567801"  # Indonesian
KPPS_EN = "+6281234567802"  # English
STRANGER = "+6289999999999"
_ids = itertools.count(1)


def ask(sender: str, text: str) -> Reply:
    return converse(sender, text)


def say(sender: str, text: str) -> str:
    return ask(sender, text).text


def tickets() -> list[tuple[Ticket, list[TicketMessage]]]:
    with session_scope() as session:
        found = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        return [(t, list(t.messages)) for t in found]


# question → the FAQ entry that answers it (None: no answer, a ticket for an operator)
FAQ_TABLE = [
    ("bagaimana cara kirim data lewat sms?", "sms_format"),
    ("format sms apa ya", "sms_format"),
    ("contoh pesan", "sms_format"),
    ("tips foto formulir", "photo_tips"),
    ("fotonya buram gimana", "photo_tips"),
    ("apa itu kode 7KQ3MD", "receipt_code"),
    ("saya salah ketik angka padahal sudah YA", "correct_confirmed"),
    ("mau koreksi data", "correct_confirmed"),
    ("tidak ada sinyal di TPS", "blank_spot"),
    ("pulsa habis", "blank_spot"),
    ("bagaimana konfirmasi", "confirm_how"),
    ("kertas suara kurang", None),
    ("kotak suara rusak", None),
    ("How do I send the tally?", "sms_format"),
    ("my photo is blurry", "photo_tips"),
    ("what does the code mean", "receipt_code"),
    ("I made a mistake", "correct_confirmed"),
    ("no network here", "blank_spot"),
    ("the ballot box is broken", None),
]


@pytest.mark.parametrize(("question", "expected"), FAQ_TABLE, ids=[q for q, _ in FAQ_TABLE])
def test_faq_table(question: str, expected: str | None) -> None:
    entry = faq.match(question)
    assert (entry.id if entry else None) == expected


def test_every_entry_has_both_languages_and_short_answers() -> None:
    book = faq.load()
    assert {e.id for e in book.entries} >= {
        "sms_format",
        "photo_tips",
        "receipt_code",
        "correct_confirmed",
        "blank_spot",
    }
    for entry in book.entries:
        assert set(entry.answers) == {"id", "en"}, entry.id
        for language, answer in entry.answers.items():
            # the answer plus the "reply 0" hint fits two SMS
            hint = book.phrase("escalate_hint", language)
            assert len(f"{answer} {hint}") <= 320, (entry.id, language)
    for key in ("escalate_hint", "escalate_hint_unknown", "escalate_button", "nothing_to_escalate"):
        assert book.phrase(key, "id") and book.phrase(key, "en")


def test_faq_answer_then_zero_opens_a_ticket_with_the_whole_exchange(demo: str) -> None:
    answer = ask(KPPS, "BANTUAN bagaimana cara kirim foto formulir?")
    assert answer.text.startswith("Foto formulir C.Hasil: letakkan di permukaan datar")
    assert answer.text.endswith("Belum terjawab? Balas 0 untuk menghubungi petugas help desk.")
    assert answer.buttons == (("Hubungi petugas", "0"),)
    [(ticket, messages)] = tickets()
    assert ticket.status == "faq" and ticket.waiting_since is None
    assert [(m.direction, m.author) for m in messages] == [("in", None), ("out", "faq:photo_tips")]

    opened = say(KPPS, "0")
    [(ticket, messages)] = tickets()
    assert (
        opened
        == f"Pertanyaan diterima (tiket #{ticket.id}). Petugas help desk akan membalas di sini."
    )
    assert ticket.status == "open" and ticket.waiting_since is not None
    assert messages[0].body == "bagaimana cara kirim foto formulir?"

    # Now the officer talks to an operator: even an FAQ-like question joins the ticket.
    again = say(KPPS, "format sms apa ya")
    assert (
        again
        == f"Pesan ditambahkan ke tiket #{ticket.id}. Petugas help desk akan membalas di sini."
    )
    [*_, (direction, body, author)] = [(m.direction, m.body, m.author) for m in tickets()[0][1]]
    # The FAQ's answer waits beside it as a suggestion for the operator, unsent.
    assert (direction, author) == ("sug", "faq:sms_format") and body.startswith("Kirim SMS: PPWP")
    assert [m.body for m in tickets()[0][1] if m.direction == "in"][-1] == "format sms apa ya"


def test_unanswered_follow_up_passes_the_faq_exchange_on(demo: str) -> None:
    say(KPPS_EN, "how do I send the tally by sms")
    reply = say(KPPS_EN, "my phone has no letters, only numbers keypad broken")
    [(ticket, messages)] = tickets()
    assert (
        reply == f"Question received (ticket #{ticket.id}). A help-desk operator will reply here."
    )
    assert ticket.status == "open"
    assert [m.direction for m in messages] == ["in", "out", "in"]


def test_zero_without_an_faq_answer_says_so(demo: str) -> None:
    assert (
        say(KPPS, "0") == "Tidak ada pertanyaan yang bisa diteruskan. Kirim BANTUAN <pertanyaan>."
    )
    assert tickets() == []


def test_free_text_opens_a_ticket_and_says_how_to_send_a_tally(demo: str) -> None:
    reply = say(KPPS, "Pak, kotak suara TPS kami rusak")
    [(ticket, messages)] = tickets()
    assert reply == (
        f"Pesan diteruskan ke help desk (tiket #{ticket.id}). "
        "Kirim data: PPWP <kode TPS> 01=.. 02=.. SAH=.. TS=.."
    )
    assert len(reply) <= 160
    assert messages[0].body == "Pak, kotak suara TPS kami rusak"
    assert ticket.channel == "sms-gateway" and ticket.address == KPPS


def test_malformed_tallies_and_keywords_with_extra_words_stay_out_of_the_help_desk(
    demo: str,
) -> None:
    assert say(KPPS, "PPWP 3576011001001 01=abc 02=95 03=40 SAH=255 TS=5").startswith(
        "Nilai 01 'abc' bukan angka"
    )
    assert say(KPPS, "XYZ 3576011001001 01=1 02=2 SAH=3 TS=0").startswith(
        "Kode pemilihan 'XYZ' tidak dikenal"
    )
    assert say(KPPS, "YA tapi 02 salah").startswith("Untuk konfirmasi, kirim YA saja")
    assert tickets() == []


def test_unknown_senders_use_bantuan_and_bantuan_0(demo: str) -> None:
    assert say(STRANGER, "halo").startswith("Nomor ini tidak terdaftar")
    assert tickets() == []
    answer = ask(STRANGER, "BANTUAN bagaimana cara kirim data")
    assert answer.text.endswith("Kirim BANTUAN 0 untuk menghubungi petugas help desk.")
    assert answer.buttons[0][1] == "BANTUAN 0"
    opened = say(STRANGER, "BANTUAN 0")
    [(ticket, _)] = tickets()
    assert opened.startswith(f"Pertanyaan diterima (tiket #{ticket.id})")
    assert ticket.officer_id is None and ticket.status == "open"


def test_an_english_question_from_an_indonesian_officer_is_answered_in_indonesian(
    demo: str,
) -> None:
    assert say(KPPS, "BANTUAN how to send sms").startswith("Kirim SMS: PPWP <13 digit")


def test_the_faq_files_are_editable(
    demo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for language, answer in (("id", "Buka jam 7 pagi."), ("en", "Opens at 7 am.")):
        (tmp_path / f"{language}.yaml").write_text(
            "escalate_hint: 'Balas 0.'\n"
            "entries:\n"
            "  - id: opening_hours\n"
            "    keywords: [[jam, buka], [opening, hours]]\n"
            f"    answer: {answer}\n",
            encoding="utf-8",
        )
    monkeypatch.setenv("FAQ_DIR", str(tmp_path))
    assert say(KPPS, "BANTUAN jam berapa TPS buka?") == "Buka jam 7 pagi. Balas 0."
    assert say(KPPS_EN, "HELP what are the opening hours").startswith("Opens at 7 am.")
