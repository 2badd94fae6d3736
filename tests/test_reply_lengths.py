"""Every reply template, filled with realistic values, fits one SMS (160 GSM-7 characters, or
70 when a character outside GSM-7 forces UCS-2); receipts of PPWP, DPD and the pilkada fit
one SMS with the echo of I/O→1/0 readings; a longer receipt (DPR) goes as numbered
single-SMS parts on SMS channels only."""

from __future__ import annotations

import re
import string

import pytest

from bots import sms
from bots.messages import CATALOG, LANGUAGES, text
from bots.reply import Reply
from tests.support import converse

# Quick counts as officers send them (the demo's ballots: PPWP and BUP 3 pairs, DPD 4
# candidates, WAL 2 pairs) at a TPS of ~300 voters: SAH and TS add up to at most ~300.
VALUES = {
    "PPWP": "01=120 02=105 03=40 SAH=265 TS=12",
    "DPD": "01=120 02=65 03=40 04=60 SAH=285 TS=5",
    "BUP": "01=100 02=58 03=30 SAH=188 TS=14",
    "WAL": "01=160 02=118 SAH=278 TS=14",
}
READINGS = "01=I20->120 03=4O->40"  # two numbers typed with letters, echoed back

# One realistic value for every placeholder of the catalogue.
PARAMS: dict[str, object] = {
    "action": "konfirmasi",
    "available": 293,
    "changes": "01=121 SAH=256",
    "code": "3576011001001",
    "content_type": "application/pdf",
    "contest": "PPWP",
    "contest_hint": "PPWP",
    "contests": "PPWP DPR DPD DPRP DPRK GUB WAL",
    "count": 3,
    "counts": "SAH+TS=260, SS=262, PHP=262",
    "done": "001 002",
    "dpt": 287,
    "example": "3576011001001",
    "expected": 293,
    "item": 4821,
    "failures": "jumlah suara 257 tidak sama dengan SAH 256.",
    "first": "3576011001001",
    "key": "SAH",
    "keys": "01.3,02.1,02.4",
    "known": "PPWP DPR DPD DPRP DPRK GUB WAL",
    "last": "012",
    "limit": 10,
    "list": "DPT",
    "missing": "03 SAH TS",
    "name": "Sutrisno Hadiwijoyo",
    "numbers": "04",
    "old": "HJKMNP",
    "other": "QRTUVW",
    "own": "3576011001001",
    "own_hint": " Kode TPS Anda: 3576011001001.",
    "pair": "01=120",
    "phone": "+6281234567801",
    "php": 262,
    "readings": READINGS,
    "receipt": "ACDEFG",
    "receipts": "HJKMNP QRTUVW",
    "registered": 287,
    "reported": "003 004 005",
    "rows": "PDPT,PDPTB,PDPK",
    "sah": 256,
    "scope": "TPS 3576011001001",
    "seconds": 30,
    "size": 14,
    "ssd": 300,
    "text": "357601100100",
    "ticket": 1234,
    "token": "02 95",
    "total": 257,
    "tps": "3576011001001",
    "uncertain": " Tanda ? = kurang jelas, mohon periksa.",
    "used": 294,
    "valid": "01,02,03",
    "value": "12x",
    "values": VALUES["DPD"],
    "village": "3576011001",
    "word": "YA",
}

# Keys never sent as an SMS, with the reason.
NOT_SMS = {
    "registration_needed": "Telegram registration (the share-contact button)",
    "contact_not_own": "Telegram registration",
    "contact_unknown": "Telegram registration",
    "registered": "Telegram registration",
    "share_contact_button": "a Telegram button label",
    "unregistered_tally": "Telegram: an account not yet bound to the roster",
    "button_confirm": "a Telegram button label",
    "button_correct": "a Telegram button label",
    "outcome_prefix": "Telegram: shown on the message whose button was pressed",
    "edited_ignored": "Telegram: edited messages",
    "photo_read": "a photo's reading: Twilio MMS serves only US/Canadian numbers, so in "
    "Indonesia photos come (and are answered) on Telegram or WhatsApp",
}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_placeholder_has_a_realistic_value() -> None:
    used = {name for variants in CATALOG.values() for t in variants.values() for name in _fields(t)}
    assert used <= set(PARAMS), sorted(used - set(PARAMS))
    assert set(NOT_SMS) <= set(CATALOG)


@pytest.mark.parametrize("key", sorted(set(CATALOG) - set(NOT_SMS)))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_fits_one_sms(key: str, language: str) -> None:
    reply = text(key, language, **PARAMS)
    assert sms.fits_one(reply), (sms.length(reply), reply)


@pytest.mark.parametrize("contest", sorted(VALUES))
@pytest.mark.parametrize("language", LANGUAGES)
def test_receipts_fit_one_sms_with_the_readings_echoed(contest: str, language: str) -> None:
    params = PARAMS | {"contest": contest, "values": VALUES[contest]}
    readings = text("readings", language, readings=READINGS)
    for key in ("tally_received", "tally_replaced", "tally_completed", "same_as_pending"):
        reply = text(key, language, **params) + readings
        assert sms.fits_one(reply), (sms.length(reply), reply)
    confirmed = text("confirmed", language, **params) + text("still_pending", language, **params)
    assert sms.fits_one(confirmed), confirmed


@pytest.mark.parametrize(
    ("sender", "message"),
    [
        ("+6281234567801", "PPWP 3576011001001 01=I20 02=105 03=4O SAH=265 TS=12"),
        ("+6281234567801", "DPD 3576011001001 01=I20 02=65 03=4O 04=60 SAH=285 TS=5"),
        ("+6281234567801", "WAL 3576011001001 01=16O 02=1I8 SAH=278 TS=14"),
        ("+6281234567814", "BUP 3403012001001 01=I00 02=58 03=3O SAH=188 TS=14"),
    ],
)
def test_a_quick_count_with_letters_for_digits_is_one_sms(
    demo: str, sender: str, message: str
) -> None:
    reply = converse(sender, message).text
    assert reply.startswith("Diterima ") and "Dibaca: " in reply, reply
    assert sms.fits_one(reply), (len(reply), reply)
    assert sms.fits_one(converse(sender, "YA").text)


def _dpr_receipt() -> str:
    rows = " ".join(
        f"{p:02d}={p} " + " ".join(f"{p:02d}.{k}={10 + k}" for k in range(1, 9))
        for p in range(1, 19)
    )
    tail = "SAH=2000 TS=9. Kode ACDEFG. Balas YA jika benar."
    return f"Diterima DPR TPS 3576011001001: {rows} {tail}"


@pytest.mark.parametrize("channel", sorted(sms.SMS_CHANNELS))
def test_a_long_receipt_goes_as_numbered_single_sms_parts(channel: str) -> None:
    body = _dpr_receipt()
    reply = Reply(body, buttons=(("YA", "YA ACDEFG"),))
    parts = sms.parts_for(reply, channel)
    count = len(parts)
    assert count > 1 and all(sms.fits_one(part.text) for part in parts)
    marks = [f" ({i}/{count})" for i in range(1, count + 1)]
    assert all(p.text.endswith(m) for p, m in zip(parts, marks, strict=True))
    bare = [p.text.removesuffix(m) for p, m in zip(parts, marks, strict=True)]
    assert " ".join(bare) == body  # cut between words, nothing lost
    assert all(re.match(r"\d\d=\d+ \d\d\.1=11 ", b) for b in bare[1:-1])  # at a party's rows
    assert [p.buttons for p in parts] == [()] * (count - 1) + [reply.buttons]


@pytest.mark.parametrize("channel", ["telegram", "whatsapp", "simulator"])
def test_other_channels_send_a_receipt_whole_and_unnumbered(channel: str) -> None:
    reply = Reply(_dpr_receipt())
    assert sms.parts_for(reply, channel) == [reply]


def test_a_long_text_that_is_no_receipt_stays_one_concatenated_sms() -> None:
    reply = Reply("Kertas suara basah kena hujan. " * 8)
    assert sms.parts_for(reply, "twilio") == [reply]


def test_sms_lengths_gsm7_and_ucs2() -> None:
    assert sms.length("a" * 160) == 160 and sms.fits_one("a" * 160)
    assert not sms.fits_one("a" * 161) and sms.segments("a" * 161) == 2
    assert sms.length("[€]") == 6  # the extension table takes two septets each
    emoji = "Terima kasih 👍"
    assert not sms.is_gsm7(emoji) and sms.single_limit(emoji) == 70
    assert sms.length(emoji) == 15  # 👍 is two UTF-16 units
    assert sms.segments("é" * 160) == 1 and sms.segments("ğ" * 71) == 2
