"""The conversation as an officer meets it: SMS text in → reply out, through the real
database and the demo roster (no queues: `respond` is the worker's decision step)."""

from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import select

from relay.db import session_scope
from relay.models import Submission
from tests.support import converse

KPPS = "+6281234567801"  # TPS 3576011001001, Indonesian
KPPS_EN = "+6281234567802"  # TPS 3576011001002, English
PPS = "+6281234567809"  # village 3576011001
STRANGER = "+6289999999999"
_ids = itertools.count(1)


def say(sender: str, text: str) -> str:
    return converse(sender, text).text


# (sender, text, expected reply as a regex (fullmatch), expected statuses of submissions)
TABLE = [
    (
        KPPS,
        "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5",
        r"Diterima PPWP TPS 3576011001001: 01=120 02=95 03=40 SAH=255 TS=5\. Kode \w{6}\. "
        r"Balas YA jika benar, atau kirim ulang\.",
        ["pending"],
    ),
    (
        KPPS,
        "ppwp 35.76.01.1001-001\n01:120\n02:95\n03:40\nsah:255\ntidak sah:5",
        r"Diterima PPWP TPS 3576011001001: .*",
        ["pending"],
    ),
    (
        KPPS,
        "PPWP 3576011001001 01=I20 02=95 03=4O SAH=255 TS=5",
        r"Diterima .* Dibaca: 01=I20->120 03=4O->40\.",
        ["pending"],
    ),
    (
        KPPS,
        "PPWP 3576011001001 01=120 02=95 03=40 SAH=250 TS=5",
        r"Ditolak PPWP TPS 3576011001001: jumlah suara 255 tidak sama dengan SAH 250\. "
        r"Periksa lalu kirim ulang\.",
        [],
    ),
    (
        KPPS,
        "PPWP 3576011001001 01=120 02=95 SAH=215 TS=5",
        r"Diterima sebagian PPWP TPS 3576011001001: 01=120 02=95 SAH=215 TS=5\. Kode \w{6}\. "
        r"Masih kurang: 03\. Kirim sisanya: PPWP 3576011001001 \.\.\.",
        ["pending"],
    ),
    (
        KPPS,
        "PPWP 3576011001001 01=120 02=95 03=40 04=1 SAH=256 TS=5",
        r"Ditolak PPWP TPS 3576011001001: nomor urut 04 tidak ada di PPWP \(hanya 01,02,03\)\. "
        r"Periksa lalu kirim ulang\.",
        [],
    ),
    (
        KPPS,
        "PPWP 3576011001001 01=120 02=95 03=40 TS=5",
        r"Diterima sebagian PPWP TPS 3576011001001: 01=120 02=95 03=40 TS=5\. Kode \w{6}\. "
        r"Masih kurang: SAH\. .*",
        ["pending"],
    ),
    (
        KPPS,
        "PPWP 3576011001001 01=120 02=95 03=40 SAH=255",
        r"Diterima sebagian PPWP TPS 3576011001001: .* Masih kurang: TS\. .*",
        ["pending"],
    ),
    (
        KPPS,
        "PPWP 3576011001001 01=300 02=200 03=100 SAH=600 TS=0",
        r"Ditolak PPWP TPS 3576011001001: SAH\+TS=600 melebihi surat suara tersedia 293 "
        r"\(DPT 287 \+ 2%\)\. Periksa lalu kirim ulang\.",
        [],
    ),
    (
        KPPS,
        "PPWP 3576011001001 02=95 SAH=250",
        r"Diterima sebagian PPWP TPS 3576011001001: 02=95 SAH=250\. Kode \w{6}\. "
        r"Masih kurang: 01 03 TS\. .*",
        ["pending"],
    ),
    (
        KPPS,
        "PPWP 3576011001001 01=12X 02=95 03=40 SAH=255 TS=5",
        r"Nilai 01 '12X' bukan angka\. Kirim ulang dengan angka saja\.",
        [],
    ),
    (
        KPPS,
        "PPWP 3576011001001 01=120 01=95 03=40 SAH=255 TS=5",
        r"01 ditulis lebih dari sekali\. Tulis setiap kunci satu kali, lalu kirim ulang\.",
        [],
    ),
    (
        KPPS,
        "PPWP 357601100100 01=120 02=95 03=40 SAH=255 TS=5",
        r"Kode TPS '357601100100' salah: harus 13 digit \(10 digit desa \+ 3 digit TPS\)\. "
        r"Kode TPS Anda: 3576011001001\. Periksa lalu kirim ulang\.",
        [],
    ),
    (
        KPPS,
        "PPWP 01=120 02=95 03=40 SAH=255 TS=5",
        r"Kode TPS tidak ada\. Kode TPS Anda: 3576011001001\. Tulis 13 digit kode TPS setelah "
        r"kode pemilihan, lalu kirim ulang\.",
        [],
    ),
    (
        KPPS,
        "PPWX 3576011001001 01=120 02=95 03=40 SAH=255 TS=5",
        r"Kode pemilihan 'PPWX' tidak dikenal\. Gunakan: .*PPWP.*",
        [],
    ),
    (
        KPPS,
        "PPWP 3576011001001 SAH=255 TS=5",
        r"Diterima sebagian PPWP TPS 3576011001001: SAH=255 TS=5\. .* Masih kurang: 01 02 03\. .*",
        ["pending"],
    ),
    (KPPS, "PPWP 3576011001001", r"Perolehan suara tidak ada\. Format: PPWP .*", []),
    (
        KPPS,
        "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5 terimakasih",
        r"Diterima PPWP TPS 3576011001001: 01=120 02=95 03=40 SAH=255 TS=5\. .*",
        ["pending"],
    ),
    (
        KPPS,
        "PPWP 3576011001001 01=1234567 02=95 03=40 SAH=255 TS=5",
        r"Nilai 01 '1234567' terlalu besar\. .*",
        [],
    ),
    (
        KPPS,
        "PPWP 3576011002001 01=120 02=95 03=40 SAH=255 TS=5",
        r"Anda tidak terdaftar untuk TPS 3576011002001\. Kode TPS Anda: 3576011001001\. "
        r"Kirim ulang dengan kode itu\.",
        [],
    ),
    (
        KPPS,
        "PPWP 3576011001999 01=1 02=1 03=1 SAH=3 TS=0",
        r"TPS 3576011001999 tidak dikenal\..*",
        [],
    ),
    (KPPS, "", r"Pesan kosong\. Format: .*", []),
    (KPPS, "halo pak", r"Halo! Kirim data: PPWP <kode TPS> .* atau BANTUAN <pertanyaan>\.", []),
    (
        KPPS,
        "listrik mati di TPS kami",
        r"Pesan diteruskan ke help desk \(tiket #\d+\)\. Kirim data: .*",
        [],
    ),
    (KPPS, "YA", r"Tidak ada kiriman yang menunggu konfirmasi\. .*", []),
    (KPPS, "BATAL", r"Tidak ada kiriman yang menunggu konfirmasi\. .*", []),
    (
        KPPS,
        "YA ABCDEF",
        r"Kode ABCDEF tidak ada di kiriman Anda yang menunggu konfirmasi\. "
        r"Kirim STATUS untuk melihat kode, atau YA saja\.",
        [],
    ),
    (KPPS, "ya tapi 02 salah", r"Untuk konfirmasi, kirim YA saja \(atau YA <kode>\)\. .*", []),
    (KPPS, "batal semuanya dong", r"Untuk membatalkan, kirim BATAL saja .*", []),
    (KPPS, "STATUS", r"TPS 3576011001001: belum: PPWP.*", []),
    (KPPS, "CEK 3576011001002", r"TPS 3576011001002: belum: PPWP.*", []),
    (
        KPPS,
        "CEK 3576011001",
        r"Desa 3576011001 \(4 TPS\): lengkap -; masuk -; belum 001 002 003 004\. "
        r"Rincian: CEK <kode TPS>, mis\. CEK 3576011001001\.",
        [],
    ),
    (KPPS, "CEK 357601100", r"Kode TPS '357601100' salah: .*", []),
    (KPPS, "BANTUAN", r"Format: PPWP <kode TPS> .*", []),
    (KPPS, "BANTUAN kertas suara kurang", r"Pertanyaan diterima \(tiket #\d+\)\. .*", []),
    (KPPS, "BAHASA EN", r"Language set to English\.", []),
    (KPPS, "BAHASA JAWA", r"Bahasa 'JAWA' tidak tersedia\. Kirim BAHASA ID atau BAHASA EN\.", []),
    (
        KPPS_EN,
        "PPWP 3576011001002 01=1 02=2 03=3 SAH=7 TS=0",
        r"Rejected PPWP TPS 3576011001002: votes add up to 6, not SAH 7\. Check and resend\.",
        [],
    ),
    (
        KPPS_EN,
        "PPWP 3576011001002 01=1 02=2 03=3 SAH=6 TS=0",
        r"Received PPWP TPS 3576011001002: 01=1 02=2 03=3 SAH=6 TS=0\. Code \w{6}\. "
        r"Reply YA if correct, or resend\.",
        ["pending"],
    ),
    (KPPS_EN, "hello", r"Hello! Send a tally: PPWP <TPS code> .* or HELP <question>\.", []),
    (KPPS_EN, "the lights went out", r"Message passed to the help desk \(ticket #\d+\)\. .*", []),
    (KPPS_EN, "STATUS", r"TPS 3576011001002: missing: PPWP.*", []),
    (KPPS_EN, "HELP how do I fix a mistake", r"Before YA: resend .* Reply 0 to reach .*", []),
    (KPPS_EN, "BAHASA ID", r"Bahasa diganti ke Bahasa Indonesia\.", []),
    (
        PPS,
        "PPWP 3576011001002 01=1 02=2 03=3 SAH=6 TS=0",
        r"Diterima PPWP TPS 3576011001002.*",
        ["pending"],
    ),
    (
        PPS,
        "STATUS",
        r"Desa 3576011001 \(4 TPS\): lengkap -; masuk -; belum 001 002 003 004\. "
        r"Rincian: CEK <kode TPS>, mis\. CEK 3576011001001\.",
        [],
    ),
    (
        STRANGER,
        "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5",
        r"Nomor ini tidak terdaftar sebagai petugas KPPS/PPS\. .*",
        [],
    ),
    (STRANGER, "YA", r"Nomor ini tidak terdaftar .*", []),
    (STRANGER, "BANTUAN saya petugas baru", r"Pertanyaan diterima \(tiket #\d+\)\. .*", []),
    (STRANGER, "BAHASA EN", r"Language set to English\.", []),
]


@pytest.mark.parametrize(
    ("sender", "text", "expected", "statuses"),
    TABLE,
    ids=[f"{i:02d}-{row[1][:30]}" for i, row in enumerate(TABLE)],
)
def test_reply_table(demo: str, sender: str, text: str, expected: str, statuses: list[str]) -> None:
    reply = say(sender, text)
    assert re.fullmatch(expected, reply, flags=re.DOTALL), reply
    with session_scope() as session:
        assert [s.status for s in session.scalars(select(Submission))] == statuses


def test_replies_fit_one_sms(demo: str) -> None:
    for sender, text, _, _ in TABLE:
        if sender in (KPPS, KPPS_EN):
            assert len(say(sender, text)) <= 160, text


def test_confirm_by_receipt_among_several_pending(demo: str) -> None:
    first = say(PPS, "PPWP 3576011001001 01=1 02=2 03=3 SAH=6 TS=0")
    second = say(PPS, "PPWP 3576011001002 01=1 02=2 03=3 SAH=6 TS=0")
    first_code = re.search(r"Kode (\w{6})", first)[1]  # type: ignore[index]
    second_code = re.search(r"Kode (\w{6})", second)[1]  # type: ignore[index]
    reply = say(PPS, f"ok {first_code}")
    assert reply == (
        f"Terkonfirmasi PPWP TPS 3576011001001: 01=1 02=2 03=3 SAH=6 TS=0. Kode {first_code}. "
        "Terima kasih. "
        f"Masih menunggu YA: {second_code}."
    )
    assert say(PPS, "BATAL").startswith(f"Dibatalkan: PPWP TPS 3576011001002, kode {second_code}")
