"""Issue #11: the officer always sees what is confirmed, and every reply says what to do next.

Each case is a short conversation through the real conversation and the demo roster: the
messages in, the exact replies out (Indonesian and English). `{c0}`, `{c1}`, … stand for the
receipt codes in the order they first appear (six characters of relay.receipts.ALPHABET).
"""

from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import select

from relay.db import session_scope
from relay.models import Submission
from relay.receipts import ALPHABET
from tests.support import converse

KPPS = "+6281234567801"  # TPS 3576011001001, Indonesian
KPPS_EN = "+6281234567802"  # TPS 3576011001002, English
PPS = "+6281234567809"  # village 3576011001 (TPS 001-004), Indonesian
GUNUNGKIDUL = "+6281234567814"  # TPS 3403012001001 (DI Yogyakarta: no GUB; a regency: no WAL)

TPS = "3576011001001"
TPS_EN = "3576011001002"
TALLY = f"PPWP {TPS} 01=120 02=95 03=40 SAH=255 TS=5"
VALUES = "01=120 02=95 03=40 SAH=255 TS=5"
TALLY_EN = f"PPWP {TPS_EN} 01=1 02=2 03=3 SAH=6 TS=0"
VALUES_EN = "01=1 02=2 03=3 SAH=6 TS=0"
HERE = "PPWP DPR DPD DPRP DPRK GUB WAL"  # the contests on the ballot of the 3576 TPSs

RECEIVED = f"Diterima PPWP TPS {TPS}: {VALUES}. Kode {{c0}}. Balas YA jika benar, atau kirim ulang."
RECEIVED_EN = (
    f"Received PPWP TPS {TPS_EN}: {VALUES_EN}. Code {{c0}}. Reply YA if correct, or resend."
)
CONFIRMED = f"Terkonfirmasi PPWP TPS {TPS}: {VALUES}. Kode {{c0}}. Terima kasih."
CONFIRMED_EN = f"Confirmed PPWP TPS {TPS_EN}: {VALUES_EN}. Code {{c0}}. Thank you."

Step = tuple[str, str, str | None]  # sender, text in, exact reply out (None: any reply)

CASES: dict[str, list[Step]] = {
    # --- confirmation shows what is confirmed -------------------------------------------
    "YA echoes the numbers it locks": [(KPPS, TALLY, RECEIVED), (KPPS, "YA", CONFIRMED)],
    "YA echoes them in English": [(KPPS_EN, TALLY_EN, RECEIVED_EN), (KPPS_EN, "ya", CONFIRMED_EN)],
    "a refused correction: the earlier numbers still stand, and YA shows them": [
        (KPPS, TALLY, RECEIVED),
        (
            KPPS,
            "02=96",
            f"Ditolak PPWP TPS {TPS}: jumlah suara 256 tidak sama dengan SAH 255. "
            "Angka kode {c0} tetap berlaku. Periksa lalu kirim ulang.",
        ),
        (KPPS, "YA", CONFIRMED),
    ],
    "a refused correction in English": [
        (KPPS_EN, TALLY_EN, RECEIVED_EN),
        (
            KPPS_EN,
            "03=4",
            f"Rejected PPWP TPS {TPS_EN}: votes add up to 7, not SAH 6. "
            "The numbers of code {c0} still stand. Check and resend.",
        ),
    ],
    "a refused resend of the whole tally keeps the pending one too": [
        (KPPS, TALLY, RECEIVED),
        (
            KPPS,
            f"PPWP {TPS} 01=120 02=95 03=40 SAH=250 TS=5",
            f"Ditolak PPWP TPS {TPS}: jumlah suara 255 tidak sama dengan SAH 250. "
            "Angka kode {c0} tetap berlaku. Periksa lalu kirim ulang.",
        ),
    ],
    "ya benar confirms": [(KPPS, TALLY, RECEIVED), (KPPS, "ya benar", CONFIRMED)],
    "Ya, sudah benar! confirms": [(KPPS, TALLY, RECEIVED), (KPPS, "Ya, sudah benar!", CONFIRMED)],
    "benar confirms": [(KPPS, TALLY, RECEIVED), (KPPS, "benar", CONFIRMED)],
    "ok siap confirms": [(KPPS, TALLY, RECEIVED), (KPPS, "ok siap 🙏", CONFIRMED)],
    "sip confirms": [(KPPS, TALLY, RECEIVED), (KPPS, "Sip", CONFIRMED)],
    "a thumbs up confirms": [(KPPS, TALLY, RECEIVED), (KPPS, "👍🏽", CONFIRMED)],
    "benar, terima kasih confirms": [
        (KPPS, TALLY, RECEIVED),
        (KPPS, "benar, terima kasih", CONFIRMED),
    ],
    "yes, that's right confirms": [
        (KPPS_EN, TALLY_EN, RECEIVED_EN),
        (KPPS_EN, "yes, that's right", CONFIRMED_EN),
    ],
    "ya benar with nothing pending": [
        (
            KPPS,
            "ya benar",
            "Tidak ada kiriman yang menunggu konfirmasi. Kirim STATUS untuk melihat data TPS.",
        )
    ],
    "a thanks after a tally is politeness": [(KPPS, TALLY + " terima kasih", RECEIVED)],
    "thanks after a tally in English": [(KPPS_EN, TALLY_EN + ", thanks!", RECEIVED_EN)],
    "makasih after a correction": [
        (KPPS, TALLY, RECEIVED),
        (
            KPPS,
            "02=96 SAH=256 makasih",
            f"Koreksi PPWP TPS {TPS}: 01=120 02=96 03=40 SAH=256 TS=5. Kode {{c1}} (ganti {{c0}}). "
            "Balas YA jika benar.",
        ),
    ],
    "the same numbers again: no new code, YA confirms": [
        (KPPS, TALLY, RECEIVED),
        (
            KPPS,
            TALLY,
            f"PPWP TPS {TPS}: angka sama dengan kiriman kode {{c0}} yang menunggu YA. "
            "Balas YA jika benar.",
        ),
        (KPPS, "YA", CONFIRMED),
    ],
    "the same numbers again in English": [
        (KPPS_EN, TALLY_EN, RECEIVED_EN),
        (
            KPPS_EN,
            TALLY_EN,
            f"PPWP TPS {TPS_EN}: the same numbers as code {{c0}}, waiting for YA. "
            "Reply YA if correct.",
        ),
    ],
    # --- every reply says what to do next --------------------------------------------------
    "a TPS code glued to the first number": [
        (
            KPPS,
            "PPWP 741101200100101=120 02=95 03=40 SAH=255 TS=5",
            "Kode TPS 7411012001001 dan 01=120 tersambung. Beri spasi sesudah 13 digit kode TPS, "
            "lalu kirim ulang.",
        )
    ],
    "a TPS code glued to the first number, in English": [
        (
            KPPS_EN,
            f"PPWP {TPS_EN}01=1 02=2 03=3 SAH=6 TS=0",
            f"TPS code {TPS_EN} and 01=1 run together. Put a space after the 13-digit TPS code "
            "and resend.",
        )
    ],
    "an unknown TPS: the officer's own code": [
        (
            KPPS,
            "PPWP 3576011001999 01=1 02=1 03=1 SAH=3 TS=0",
            f"TPS 3576011001999 tidak dikenal. Kode TPS Anda: {TPS}. Periksa lalu kirim ulang.",
        )
    ],
    "another officer's TPS: the officer's own code": [
        (
            KPPS_EN,
            f"PPWP {TPS} 01=1 02=2 03=3 SAH=6 TS=0",
            f"You are not registered for TPS {TPS}. Your TPS code: {TPS_EN}. "
            "Resend with that code.",
        )
    ],
    "a village officer outside the village: the village's codes": [
        (
            PPS,
            "PPWP 3576011002001 01=1 02=2 03=3 SAH=6 TS=0",
            "Anda tidak terdaftar untuk TPS 3576011002001. Kode TPS Anda: 3576011001001 s.d. 004 "
            "(4 TPS). Kirim ulang dengan kode itu.",
        )
    ],
    "a TPS code of 12 digits: the officer's own code": [
        (
            KPPS,
            "PPWP 357601100100 01=120 02=95 03=40 SAH=255 TS=5",
            "Kode TPS '357601100100' salah: harus 13 digit (10 digit desa + 3 digit TPS). "
            f"Kode TPS Anda: {TPS}. Periksa lalu kirim ulang.",
        )
    ],
    "no TPS code: the officer's own code": [
        (
            KPPS_EN,
            "PPWP 01=1 02=2 03=3 SAH=6 TS=0",
            f"TPS code missing. Your TPS code: {TPS_EN}. Write the 13-digit TPS code after the "
            "contest code and resend.",
        )
    ],
    "an unknown contest: only the contests on this TPS's ballot": [
        (
            KPPS,
            f"PPWX {TPS} 01=120 02=95 03=40 SAH=255 TS=5",
            f"Kode pemilihan 'PPWX' tidak dikenal. Gunakan: {HERE}. Periksa lalu kirim ulang.",
        )
    ],
    "an unknown contest in Gunungkidul: BUP, and no GUB or WAL there": [
        (
            GUNUNGKIDUL,
            "PILPRES 3403012001001 01=120 02=95 03=40 SAH=255 TS=5",
            "Kode pemilihan 'PILPRES' tidak dikenal. Gunakan: PPWP DPR DPD DPRP DPRK BUP. "
            "Periksa lalu kirim ulang.",
        )
    ],
    "an unknown contest in English": [
        (
            KPPS_EN,
            f"PRES {TPS_EN} 01=1 02=2 03=3 SAH=6 TS=0",
            f"Contest code 'PRES' is unknown. Use: {HERE}. Check it and resend.",
        )
    ],
    "a contest not held here": [
        (
            KPPS,
            f"BUP {TPS} 01=1 02=1 03=1 SAH=3 TS=0",
            f"Pemilihan BUP tidak ada di TPS {TPS}. Yang ada: {HERE}. "
            "Kirim ulang dengan salah satunya.",
        )
    ],
    "a rule broken: check and resend": [
        (
            KPPS_EN,
            f"PPWP {TPS_EN} 01=1 02=2 03=3 SAH=7 TS=0",
            f"Rejected PPWP TPS {TPS_EN}: votes add up to 6, not SAH 7. Check and resend.",
        )
    ],
    "a key twice: resend": [
        (
            KPPS,
            f"PPWP {TPS} 01=120 01=95 03=40 SAH=255 TS=5",
            "01 ditulis lebih dari sekali. Tulis setiap kunci satu kali, lalu kirim ulang.",
        )
    ],
    "YA for a code that is not pending": [
        (
            KPPS_EN,
            "YA ACDEFG",
            "Code ACDEFG is not among your tallies waiting for confirmation. "
            "Send STATUS to see the codes, or YA alone.",
        )
    ],
    "YA for an incomplete tally: send the rest": [
        (
            KPPS,
            f"PPWP {TPS} 01=120 02=95 SAH=215 TS=5",
            f"Diterima sebagian PPWP TPS {TPS}: 01=120 02=95 SAH=215 TS=5. Kode {{c0}}. "
            f"Masih kurang: 03. Kirim sisanya: PPWP {TPS} ...",
        ),
        (
            KPPS,
            "YA",
            f"PPWP TPS {TPS} (kode {{c0}}) belum lengkap, belum bisa dikonfirmasi. "
            f"Masih kurang: 03. Kirim sisanya: PPWP {TPS} ...",
        ),
    ],
    "the confirmed numbers again: nothing more to send": [
        (KPPS_EN, TALLY_EN, RECEIVED_EN),
        (KPPS_EN, "YA", CONFIRMED_EN),
        (
            KPPS_EN,
            TALLY_EN,
            f"PPWP TPS {TPS_EN} is already confirmed with the same numbers (code {{c0}}). "
            "Nothing more to send.",
        ),
    ],
    "STATUS with a conflict says what to do": [
        (KPPS, TALLY, RECEIVED),
        (KPPS, "YA", CONFIRMED),
        (
            KPPS,
            f"PPWP {TPS} 01=121 02=95 03=40 SAH=256 TS=5",
            f"PPWP TPS {TPS} sudah terkonfirmasi (kode {{c0}}); data baru tidak dipakai. "
            "Untuk mengubah, kirim BANTUAN dan alasannya.",
        ),
        (
            KPPS,
            "STATUS",
            f"TPS {TPS}: PPWP KONFLIK ({{c0}} vs {{c1}}); belum: DPR DPD DPRP DPRK GUB WAL"
            ". Bila {c0} salah, kirim BANTUAN {c0} dan angka yang benar.",
        ),
    ],
    "STATUS with a conflict in English": [
        (KPPS_EN, TALLY_EN, RECEIVED_EN),
        (KPPS_EN, "YA", CONFIRMED_EN),
        (
            KPPS_EN,
            f"PPWP {TPS_EN} 01=2 02=2 03=3 SAH=7 TS=0",
            f"PPWP TPS {TPS_EN} is already confirmed (code {{c0}}); new numbers not used. "
            "To change it, send HELP with the reason.",
        ),
        (
            KPPS_EN,
            "STATUS",
            f"TPS {TPS_EN}: PPWP CONFLICT ({{c0}} vs {{c1}}); missing: DPR DPD DPRP DPRK GUB WAL"
            ". If {c0} is wrong, send HELP {c0} with the right numbers.",
        ),
    ],
    "a village officer's STATUS: the village by TPS number": [
        (PPS, f"PPWP {TPS} 01=1 02=2 03=3 SAH=6 TS=0", None),
        (PPS, "YA", None),
        (PPS, "PPWP 3576011001002 01=1 02=2 03=3 SAH=6 TS=0", None),
        (
            PPS,
            "STATUS",
            "Desa 3576011001 (4 TPS): lengkap -; masuk 001 002; belum 003 004. "
            "Rincian: CEK <kode TPS>, mis. CEK 3576011001001.",
        ),
    ],
    "CEK <village code> in English": [
        (
            KPPS_EN,
            "CEK 35.76.01.1001",
            "Village 3576011001 (4 TPS): complete -; reported -; nothing yet 001 002 003 004. "
            "Details: CEK <TPS code>, e.g. CEK 3576011001001.",
        )
    ],
    "CEK an unknown village": [
        (
            KPPS,
            "CEK 3576011099",
            "Desa 3576011099 tidak dikenal. Periksa 10 digit kode desa lalu kirim ulang.",
        )
    ],
}

_CODE = f"[{ALPHABET}]{{6}}"
_PLACEHOLDER = re.compile(r"\{(c\d+)\}")


def _pattern(expected: str, codes: dict[str, str]) -> str:
    """`expected` as a regex: known codes literally, new ones captured once, then repeated."""
    out: list[str] = []
    seen: set[str] = set()
    position = 0
    for match in _PLACEHOLDER.finditer(expected):
        out.append(re.escape(expected[position : match.start()]))
        name = match.group(1)
        if name in codes:
            out.append(re.escape(codes[name]))
        elif name in seen:
            out.append(f"(?P={name})")
        else:
            out.append(f"(?P<{name}>{_CODE})")
            seen.add(name)
        position = match.end()
    out.append(re.escape(expected[position:]))
    return "".join(out)


@pytest.mark.parametrize("steps", list(CASES.values()), ids=list(CASES))
def test_conversation(demo: str, steps: list[Step]) -> None:
    codes: dict[str, str] = {}
    for sender, message, expected in steps:
        reply = converse(sender, message).text
        if expected is None:  # a step that only sets the scene
            continue
        match = re.fullmatch(_pattern(expected, codes), reply)
        assert match, (message, reply)
        codes.update(match.groupdict())
    assert len(set(codes.values())) == len(codes)  # {c0} and {c1} are different tallies


def test_every_reply_of_the_table_fits_one_sms(demo: str) -> None:
    from bots.sms import fits_one

    for steps in CASES.values():
        for sender, message, _ in steps:
            reply = converse(sender, message).text
            assert fits_one(reply), (message, reply)


def test_a_natural_confirmation_only_confirms_the_pending_tally(demo: str) -> None:
    """`sip` with nothing pending is chit-chat, not a command; 👍 among other emoji is no YA."""
    assert "Kode" not in converse(KPPS, "sip").text
    converse(KPPS, TALLY)
    assert converse(KPPS, "🗳️👍🏽🇮🇩").text != CONFIRMED
    with session_scope() as session:
        assert [s.status for s in session.scalars(select(Submission))] == ["pending"]


_telegram_ids = itertools.count(1)


def test_an_unregistered_telegram_user_sending_a_tally_is_told_it_was_not_recorded(
    demo: str,
) -> None:
    from bots.conversation import respond
    from relay.models import InboundMessage

    def telegram(text: str):
        with session_scope() as session:
            inbound = InboundMessage(
                channel="telegram",
                provider_id=f"tg-{next(_telegram_ids)}",
                sender="4242",
                text=text,
                payload="{}",
            )
            session.add(inbound)
            session.flush()
            [reply] = respond(session, inbound, None)
            return reply

    reply = telegram(TALLY)
    assert reply.text == (
        "Data ini TIDAK dicatat: akun Telegram ini belum terdaftar. Tekan tombol di bawah untuk "
        "mengirim nomor HP Anda, lalu kirim ulang datanya."
    )
    assert reply.request_contact == "📱 Kirim nomor HP saya"
    assert telegram(f"PPWP {TPS} 01=1x").text.startswith("Data ini TIDAK dicatat")
    assert telegram("halo").text.startswith("Selamat datang di TPS Relay.")  # no tally: welcome
    with session_scope() as session:
        assert session.scalars(select(Submission)).all() == []
