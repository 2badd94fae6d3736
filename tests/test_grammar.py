"""Tests for the SMS grammar (bots.grammar) and the tally rules (bots.tally_rules)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots import grammar
from bots.grammar import (
    SECTION_KEYS,
    Cancel,
    Confirm,
    Help,
    Language,
    ParseError,
    Status,
    Tally,
    parse,
)
from bots.tally_rules import RULE_ORDER, RuleFailure, check_tally

CONTESTS = frozenset({"PPWP", "DPR", "DPD", "DPRP", "DPRK", "GUB", "BUP", "WAL"})
KNOWN = sorted(CONTESTS)
TPS = "3576011001001"
V123 = {1: 120, 2: 95, 3: 40}


def tally(
    votes: dict[int, int] | None = None,
    sah: int | None = 255,
    ts: int | None = 5,
    readings: tuple[str, ...] = (),
    contest: str = "PPWP",
    tps: str = TPS,
) -> Tally:
    """Build an expected Tally with the canonical example's values by default."""
    return Tally(contest, tps, dict(V123 if votes is None else votes), sah, ts, readings)


def err(code: str, **params: object) -> ParseError:
    return ParseError(code, dict(params))


CANON = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"

PARSE_CASES: list[tuple[str, str, object]] = [
    # ---- valid tallies
    ("canonical", CANON, tally()),
    ("lowercase", CANON.lower(), tally()),
    ("mixed-case", "Ppwp 3576011001001 01=120 02=95 03=40 Sah=255 Ts=5", tally()),
    ("extra-spaces", "  PPWP   3576011001001  01=120   02=95 03=40  SAH=255 TS=5  ", tally()),
    ("line-breaks", "PPWP\n3576011001001\n01=120\n02=95\n03=40\nSAH=255\nTS=5\n", tally()),
    ("crlf-tabs", "PPWP\t3576011001001\r\n01=120\r\n02=95\t03=40\r\nSAH=255\r\nTS=5", tally()),
    ("colon-sep", "PPWP 3576011001001 01:120 02:95 03:40 SAH:255 TS:5", tally()),
    ("hash-sep", "PPWP 3576011001001 01#120 02#95 03#40 SAH#255 TS#5", tally()),
    ("spaces-around-eq", "PPWP 3576011001001 01 = 120 02 = 95 03 = 40 SAH = 255 TS = 5", tally()),
    ("space-before-colon", "PPWP 3576011001001 01 :120 02 :95 03 :40 SAH :255 TS :5", tally()),
    ("space-after-colon", "PPWP 3576011001001 01: 120 02: 95 03: 40 SAH: 255 TS: 5", tally()),
    ("mixed-seps", "PPWP 3576011001001 01=120 02:95 03#40 SAH = 255 TS: 5", tally()),
    ("no-leading-zero", "PPWP 3576011001001 1=120 2=95 3=40 SAH=255 TS=5", tally()),
    ("three-digit-keys", "PPWP 3576011001001 001=120 002=95 003=40 SAH=255 TS=5", tally()),
    ("leading-zero-value", "PPWP 3576011001001 01=0120 02=095 03=040 SAH=0255 TS=05", tally()),
    ("tidaksah", "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TIDAKSAH=5", tally()),
    ("tdksah", "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 tdksah=5", tally()),
    ("tidak-sah-2-words", "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TIDAK SAH=5", tally()),
    ("tidak-sah-spaced", "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 Tidak  Sah : 5", tally()),
    ("t.sah", "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 T.SAH=5", tally()),
    ("ts-first", "PPWP 3576011001001 TS=5 SAH=255 03=40 02=95 01=120", tally()),
    ("dotted-tps", "PPWP 35.76.01.1001-001 01=120 02=95 03=40 SAH=255 TS=5", tally()),
    ("slashed-tps", "PPWP 3576/01/1001/001 01=120 02=95 03=40 SAH=255 TS=5", tally()),
    ("dashed-tps", "PPWP 35-76-01-1001-001 01=120 02=95 03=40 SAH=255 TS=5", tally()),
    ("tps-word", "PPWP TPS 3576011001001 01=120 02=95 03=40 SAH=255 TS=5", tally()),
    ("tps-prefix", "PPWP TPS:3576011001001 01=120 02=95 03=40 SAH=255 TS=5", tally()),
    ("glued-contest", "PPWP3576011001001 01=120 02=95 03=40 SAH=255 TS=5", tally()),
    ("commas", "PPWP 3576011001001, 01=120, 02=95, 03=40, SAH=255, TS=5", tally()),
    ("commas-no-space", "PPWP 3576011001001 01=120,02=95,03=40,SAH=255,TS=5", tally()),
    ("semicolons", "PPWP 3576011001001 01=120;02=95; 03=40 ;SAH=255;TS=5;", tally()),
    ("periods", "PPWP 3576011001001. 01=120. 02=95. 03=40. SAH=255. TS=5.", tally()),
    ("trailing-junk", "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5 !! 🙏", tally()),
    ("leading-junk", ">> 🙏 PPWP, 3576011001001 01=120 02=95 03=40 SAH=255 TS=5", tally()),
    ("dash-between", "PPWP 3576011001001 - 01=120 - 02=95 | 03=40 SAH=255 TS=5", tally()),
    ("nul-and-zwsp", "\x00PPWP\u200b 3576011001001 01=120\x0002=95 03=40 SAH=255 TS=5", tally()),
    (
        "other-contest",
        "dprk 3576011001001 01=7 02=8 SAH=15 TS=0",
        tally({1: 7, 2: 8}, 15, 0, contest="DPRK"),
    ),
    ("no-sah-no-ts", "PPWP 3576011001001 01=120 02=95 03=40", tally(sah=None, ts=None)),
    ("only-ts", "PPWP 3576011001001 01=120 02=95 03=40 TS=5", tally(sah=None)),
    (
        "zero-votes",
        "GUB 3576011001001 1=0 2=0 sah=0 ts=0",
        tally({1: 0, 2: 0}, 0, 0, contest="GUB"),
    ),
    ("max-value", "PPWP 3576011001001 01=99999", tally({1: 99999}, None, None)),
    ("many-zeros", "PPWP 3576011001001 01=00000099999", tally({1: 99999}, None, None)),
    ("ballot-zero-kept", "PPWP 3576011001001 00=1 01=2", tally({0: 1, 1: 2}, None, None)),
    (
        "letter-O",
        "PPWP 3576011001001 01=12O 02=95 03=40 SAH=255 TS=5",
        tally(readings=("01=12O->120",)),
    ),
    (
        "letter-o-lower",
        "PPWP 3576011001001 01=120 02=95 03=4o SAH=255 TS=5",
        tally(readings=("03=4o->40",)),
    ),
    (
        "letter-l-and-I",
        "PPWP 3576011001001 01=l20 02=95 03=40 SAH=255 TS=I ",
        tally(ts=1, readings=("01=l20->120", "TS=I->1")),
    ),
    (
        "design-example-1O0",
        "PPWP 3576011001001 01=120 02=1O0 03=40 SAH=260 TS=5",
        tally({1: 120, 2: 100, 3: 40}, 260, readings=("02=1O0->100",)),
    ),
    (
        "substitution-in-ts",
        "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=O",
        tally(ts=0, readings=("TS=O->0",)),
    ),
    (
        "substitution-I-in-sah",
        "PPWP 3576011001001 01=120 02=95 03=40 SAH=I55 TS=5",
        tally({1: 120, 2: 95, 3: 40}, 155, readings=("SAH=I55->155",)),
    ),
    (
        "substitution-in-tps",
        "PPWP 35760I1OO1OO1 01=120 02=95 03=40 SAH=255 TS=5",
        tally(readings=("TPS=35760I1OO1OO1->3576011001001",)),
    ),
    (
        "substitution-tps-and-value",
        "PPWP 357601100100l 01=12O 02=95 03=40 SAH=255 TS=5",
        tally(tps="3576011001001", readings=("TPS=357601100100l->3576011001001", "01=12O->120")),
    ),
    # ---- other commands
    ("ya", "YA", Confirm(None)),
    ("ok-lower", "ok", Confirm(None)),
    ("y", "y", Confirm(None)),
    ("ya-punct", "Ya.", Confirm(None)),
    ("ya-receipt", "YA R7K2Q", Confirm("R7K2Q")),
    ("ok-receipt-lower", "ok r7k2q", Confirm("R7K2Q")),
    ("ok-one-word-is-receipt", "OK siap", Confirm("SIAP")),
    ("ya-emoji", "ya 👍", Confirm(None)),
    ("ya-receipt-punct", "Ya, R7K2Q.", Confirm("R7K2Q")),
    ("batal", "BATAL", Cancel(None)),
    ("batal-receipt", "batal  R7K2Q\n", Cancel("R7K2Q")),
    ("status", "STATUS", Status(None)),
    ("status-lower-punct", "status?", Status(None)),
    ("status-code", "STATUS 35.76.01.1001-001", Status(TPS)),
    ("cek-code", "CEK 3576011001001", Status(TPS)),
    ("cek-dotted", "cek 35.76.01.1001-001", Status(TPS)),
    ("cek-tps-word", "Cek TPS 3576011001001", Status(TPS)),
    ("cek-village", "CEK 3576011001", Status(None, "3576011001")),
    ("cek-village-dotted", "cek 35.76.01.1001", Status(None, "3576011001")),
    ("status-village", "STATUS 3576011001", Status(None, "3576011001")),
    ("bantuan", "BANTUAN Kenapa  SMS saya\nditolak?", Help("Kenapa SMS saya ditolak?")),
    ("bantuan-empty", "bantuan", Help("")),
    ("help", "HELP How do I fix TPS 001?", Help("How do I fix TPS 001?")),
    ("help-lower", "help   Apa itu SAH", Help("Apa itu SAH")),
    ("bahasa-en", "BAHASA EN", Language("en")),
    ("bahasa-id", "bahasa id", Language("id")),
    ("bahasa-inggris", "Bahasa Inggris", Language("en")),
    ("bahasa-indonesia", "BAHASA INDONESIA", Language("id")),
    ("lang-en", "LANG EN", Language("en")),
    ("language-id", "language ID", Language("id")),
    # ---- mistakes
    ("empty", "", err("empty")),
    ("blank", "   \n\t ", err("empty")),
    ("only-controls", "\x00\x01\x02", err("empty")),
    ("unrecognized-greeting", "Selamat pagi pak", err("unrecognized", word="Selamat")),
    ("unrecognized-time", "Halo jam 10:30", err("unrecognized", word="Halo")),
    (
        "unrecognized-long",
        "Assalamualaikumwarahmatullahi",
        err("unrecognized", word="Assalamualaikumwarah"),
    ),
    ("unrecognized-emoji", "👍", err("unrecognized", word="👍")),
    ("unrecognized-ya-sentence", "Ya tapi 02 salah", err("unrecognized", word="Ya")),
    ("unrecognized-ok-chitchat", "OK terima kasih", err("unrecognized", word="OK")),
    ("unrecognized-batal-sentence", "batal kirim ulang", err("unrecognized", word="batal")),
    (
        "unknown-contest-code",
        "PRES 3576011001001 01=120 02=95",
        err("unknown_contest", contest="PRES", known=KNOWN),
    ),
    (
        "unknown-contest-pairs",
        "pilpres 01=120 02=95",
        err("unknown_contest", contest="PILPRES", known=KNOWN),
    ),
    ("unknown-contest-sah", "DPRD SAH=10", err("unknown_contest", contest="DPRD", known=KNOWN)),
    (
        "unknown-contest-no-contest",
        "3576011001001 01=120 02=95",
        err("unknown_contest", contest="3576011001001", known=KNOWN),
    ),
    ("missing-tps", "PPWP", err("missing_tps")),
    ("missing-tps-pairs", "PPWP 01=120 02=95 SAH=215", err("missing_tps")),
    ("missing-tps-spaced-pair", "PPWP 01 = 120", err("missing_tps")),
    ("missing-tps-cek", "CEK", err("missing_tps")),
    ("bad-tps-short", "PPWP 357601100100 01=120", err("bad_tps", text="357601100100")),
    ("bad-tps-long", "PPWP 35760110010011 01=120", err("bad_tps", text="35760110010011")),
    ("bad-tps-letters", "PPWP TPS001 01=120", err("bad_tps", text="TPS001")),
    (
        "bad-tps-truncated",
        "PPWP 1234567890123456789012 01=1",
        err("bad_tps", text="12345678901234567890"),
    ),
    ("bad-tps-cek", "CEK 12345", err("bad_tps", text="12345")),
    (
        "tps-glued-to-first-pair",
        "PPWP 741101200100101=120 02=95",
        err("tps_glued", tps="7411012001001", pair="01=120"),
    ),
    (
        "tps-glued-contest-too",
        "PPWP3576011001001001:5 SAH=5",
        err("tps_glued", tps="3576011001001", pair="001=5"),
    ),
    (
        "tps-glued-dotted",
        "PPWP 35.76.01.1001-0011=7",
        err("tps_glued", tps="3576011001001", pair="1=7"),
    ),
    # 17 digits before the separator: too many for a code and a key, not read as glued
    ("missing-tps-long-key", "PPWP 35760110010011234=7", err("missing_tps")),
    ("bad-tps-status", "STATUS 12-345", err("bad_tps", text="12-345")),
    ("bad-token-unknown-key", "PPWP 3576011001001 01=120 XYZ=3", err("bad_token", token="XYZ=3")),
    ("bad-token-no-sep", "PPWP 3576011001001 01=120 02 95", err("bad_token", token="02")),
    ("bad-token-positional", "PPWP 3576011001001 120 95 40", err("bad_token", token="120")),
    ("bad-token-dangling-sep", "PPWP 3576011001001 01=120 =95", err("bad_token", token="=95")),
    ("bad-token-letter-key", "PPWP 3576011001001 O1=120", err("bad_token", token="O1=120")),
    ("bad-token-big-key", "PPWP 3576011001001 1234=5", err("bad_token", token="1234=5")),
    ("bad-token-suara", "PPWP 3576011001001 01=120 SUARA SAH=215", err("bad_token", token="SUARA")),
    ("bad-token-spaced", "PPWP 3576011001001 ABC = 5", err("bad_token", token="ABC = 5")),
    ("bad-number-empty", "PPWP 3576011001001 01=120 02=", err("bad_number", key="02", value="")),
    (
        "bad-number-empty-comma",
        "PPWP 3576011001001 01=,02=5",
        err("bad_number", key="01", value=""),
    ),
    (
        "bad-number-empty-before-pair",
        "PPWP 3576011001001 01= 02=5",
        err("bad_number", key="01", value=""),
    ),
    ("bad-number-letter", "PPWP 3576011001001 01=12x", err("bad_number", key="01", value="12x")),
    (
        "bad-number-sah-glued",
        "PPWP 3576011001001 01=120 SAH=120TS=5",
        err("bad_number", key="SAH", value="120TS=5"),
    ),
    (
        "bad-number-ts",
        "PPWP 3576011001001 01=120 TIDAK SAH=lima",
        err("bad_number", key="TS", value="lima"),
    ),
    ("bad-number-minus", "PPWP 3576011001001 01=-5", err("bad_number", key="01", value="-5")),
    (
        "bad-number-thousands",
        "PPWP 3576011001001 01=1.200 02=3",
        err("bad_number", key="01", value="1.200"),
    ),
    (
        "bad-number-arabic-digits",
        "PPWP 3576011001001 01=١٢",
        err("bad_number", key="01", value="١٢"),
    ),
    (
        "bad-number-fullwidth",
        "PPWP 3576011001001 01=１２",
        err("bad_number", key="01", value="１２"),
    ),
    (
        "too-large",
        "PPWP 3576011001001 01=123456",
        err("number_too_large", key="01", value="123456"),
    ),
    (
        "too-large-sah",
        "PPWP 3576011001001 01=1 SAH=9999999",
        err("number_too_large", key="SAH", value="9999999"),
    ),
    (
        "too-large-truncated",
        "PPWP 3576011001001 01=" + "9" * 30,
        err("number_too_large", key="01", value="9" * 20),
    ),
    ("duplicate-ballot", "PPWP 3576011001001 01=120 1=5", err("duplicate_key", key="01")),
    ("duplicate-sah", "PPWP 3576011001001 01=1 SAH=1 sah=1", err("duplicate_key", key="SAH")),
    (
        "duplicate-ts-alias",
        "PPWP 3576011001001 01=1 TS=1 TIDAKSAH=1",
        err("duplicate_key", key="TS"),
    ),
    ("no-votes", "PPWP 3576011001001", err("no_votes")),
    # A part of a tally (the rest may follow in the next SMS): SAH and TS alone are a Tally.
    ("sah-ts-only", "PPWP 3576011001001 SAH=255 TS=5", Tally("PPWP", TPS, {}, 255, 5, ())),
    # ---- the whole C.Hasil: sections, party candidates (NN.K), precise errors
    (
        "whole-form",
        "DPR 3576011001001 DPT=280 dptb:3 Dpk#1 PHP=262 PDPT=258 PDPTB=3 PDPK=1 SSD=286 SSR=1 "
        "SSTD=23 SS=262 DIS=2 PDIS=2 01=10 01.1=30 01.02=12 002.3=0 SAH=52 TS=10",
        Tally(
            "DPR",
            TPS,
            {1: 10},
            52,
            10,
            (),
            {(1, 1): 30, (1, 2): 12, (2, 3): 0},
            {
                "DPT": 280,
                "DPTB": 3,
                "DPK": 1,
                "PHP": 262,
                "PDPT": 258,
                "PDPTB": 3,
                "PDPK": 1,
                "SSD": 286,
                "SSR": 1,
                "SSTD": 23,
                "SS": 262,
                "DIS": 2,
                "PDIS": 2,
            },
        ),
    ),
    (
        "section-dotted-lookalike",
        "PPWP 3576011001001 P.DPT=I2O 01=5",
        Tally("PPWP", TPS, {1: 5}, None, None, ("PDPT=I2O->120",), {}, {"PDPT": 120}),
    ),
    (
        "sections-only",
        "PPWP 3576011001001 DPT=280",
        Tally("PPWP", TPS, {}, None, None, (), {}, {"DPT": 280}),
    ),
    (
        "candidates-only",
        "DPR 3576011001001 01.1=3",
        Tally("DPR", TPS, {}, None, None, (), {(1, 1): 3}),
    ),
    ("php-not-a-number", "PPWP 3576011001001 PHP=12x", err("bad_number", key="PHP", value="12x")),
    ("candidate-no-number", "DPR 3576011001001 01.=5", err("bad_candidate", key="01.")),
    ("candidate-three-parts", "DPR 3576011001001 01.2.3=4", err("bad_candidate", key="01.2.3")),
    ("candidate-too-long", "DPR 3576011001001 01.1234=4", err("bad_candidate", key="01.1234")),
    ("candidate-twice", "DPR 3576011001001 01.2=1 1.02=3", err("duplicate_key", key="01.2")),
    ("section-twice", "PPWP 3576011001001 DPT=1 dpt=2", err("duplicate_key", key="DPT")),
    ("unknown-section", "PPWP 3576011001001 DPTX=1", err("bad_token", token="DPTX=1")),
    ("bad-language", "BAHASA JAWA", err("bad_language", value="JAWA")),
    ("bad-language-missing", "BAHASA", err("bad_language", value="")),
    ("bad-language-extra", "bahasa en id", err("bad_language", value="en id")),
    (
        "first-error-wins",
        "PPWP 3576011001001 01=12x XYZ=3 01=5",
        err("bad_number", key="01", value="12x"),
    ),
    ("first-error-wins-2", "PPWP 3576011001001 XYZ=3 01=12x", err("bad_token", token="XYZ=3")),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(text, expected, id=case_id) for case_id, text, expected in PARSE_CASES],
)
def test_parse_table(text: str, expected: object) -> None:
    assert parse(text, CONTESTS) == expected


def test_table_is_large_and_ids_unique() -> None:
    ids = [case_id for case_id, _, _ in PARSE_CASES]
    assert len(ids) >= 70
    assert len(ids) == len(set(ids))


def test_every_error_code_is_covered() -> None:
    codes = {e.code for _, _, e in PARSE_CASES if isinstance(e, ParseError)}
    assert codes == {
        "empty",
        "unrecognized",
        "unknown_contest",
        "missing_tps",
        "bad_tps",
        "bad_token",
        "bad_number",
        "number_too_large",
        "duplicate_key",
        "no_votes",
        "bad_language",
        "bad_candidate",
        "tps_glued",
    }


def test_contest_returned_as_given_in_codes() -> None:
    result = parse("ppwp 3576011001001 01=1", ["Ppwp"])
    assert isinstance(result, Tally)
    assert result.contest == "Ppwp"


def test_commands_are_hashable_and_frozen() -> None:
    result = parse(CANON, CONTESTS)
    assert hash(result) == hash(tally())
    with pytest.raises(AttributeError):
        result.sah = 1  # type: ignore[misc]


def test_huge_input_is_fast_and_safe() -> None:
    assert parse("PPWP " + "1" * 1_000_000, CONTESTS) == err("bad_tps", text="1" * 20)
    big = parse("BANTUAN " + "tolong " * 100_000, CONTESTS)
    assert isinstance(big, Help)
    assert parse("x" * 1_000_000, CONTESTS) == err("unrecognized", word="x" * 20)
    assert parse("=" * 1_000_000, CONTESTS) == err("unrecognized", word="=" * 20)
    pairs = " ".join(f"{n}=1" for n in range(1, 1000))
    result = parse(f"PPWP {TPS} {pairs} 1=1", CONTESTS)
    assert result == err("duplicate_key", key="01")


# --------------------------------------------------------------------------- check_tally

BALLOTS = [1, 2, 3]
REGISTERED = 280

RULE_CASES: list[tuple[str, Tally, list[RuleFailure]]] = [
    ("ok", tally(), []),
    ("ok-exactly-registered", tally({1: 100, 2: 100, 3: 75}, 275, 5), []),
    ("ok-all-zero", tally({1: 0, 2: 0, 3: 0}, 0, 0), []),
    (
        "unknown",
        tally({1: 120, 2: 95, 3: 40, 4: 1}, 256, 5),
        [RuleFailure("unknown_ballot", {"numbers": [4]})],
    ),
    (
        "unknown-several",
        tally({1: 120, 2: 95, 3: 40, 9: 1, 0: 1}, 257, 5),
        [RuleFailure("unknown_ballot", {"numbers": [0, 9]})],
    ),
    ("missing", tally({1: 120, 2: 95}, 215, 5), [RuleFailure("missing_ballot", {"numbers": [3]})]),
    (
        "missing-several",
        tally({2: 95}, 95, 5),
        [RuleFailure("missing_ballot", {"numbers": [1, 3]})],
    ),
    (
        "unknown-and-missing",
        tally({1: 120, 2: 95, 5: 40}, 1, 5),
        [
            RuleFailure("unknown_ballot", {"numbers": [5]}),
            RuleFailure("missing_ballot", {"numbers": [3]}),
        ],
    ),
    ("missing-sah", tally(sah=None), [RuleFailure("missing_sah", {})]),
    ("missing-ts", tally(ts=None), [RuleFailure("missing_ts", {})]),
    (
        "missing-both",
        tally(sah=None, ts=None),
        [RuleFailure("missing_sah", {}), RuleFailure("missing_ts", {})],
    ),
    ("sah-mismatch", tally(sah=250), [RuleFailure("sah_mismatch", {"total": 255, "sah": 250})]),
    (
        "sah-mismatch-no-ts",
        tally(sah=256, ts=None),
        [
            RuleFailure("missing_ts", {}),
            RuleFailure("sah_mismatch", {"total": 255, "sah": 256}),
        ],
    ),
    (
        "no-mismatch-when-missing",
        tally({1: 120, 2: 95}, 1, 5),
        [RuleFailure("missing_ballot", {"numbers": [3]})],
    ),
    # Voters of the DPTb/DPK vote on the 2% reserve: above the DPT, within DPT + 2% (286).
    ("within-reserve", tally({1: 200, 2: 50, 3: 20}, 270, 11), []),
    ("exactly-reserve", tally({1: 200, 2: 50, 3: 20}, 270, 16), []),
    (
        "over-ballots",
        tally({1: 200, 2: 50, 3: 20}, 270, 17),
        [
            RuleFailure(
                "over_ballots",
                {"used": 287, "sah": 270, "ts": 17, "available": 286, "source": "DPT", "dpt": 280},
            )
        ],
    ),
    (
        "mismatch-and-over",
        tally(sah=300, ts=0),
        [
            RuleFailure("sah_mismatch", {"total": 255, "sah": 300}),
            RuleFailure(
                "over_ballots",
                {"used": 300, "sah": 300, "ts": 0, "available": 286, "source": "DPT", "dpt": 280},
            ),
        ],
    ),
    (
        "missing-and-over",
        tally({1: 300}, 300, 1),
        [
            RuleFailure("missing_ballot", {"numbers": [2, 3]}),
            RuleFailure(
                "over_ballots",
                {"used": 301, "sah": 300, "ts": 1, "available": 286, "source": "DPT", "dpt": 280},
            ),
        ],
    ),
    ("no-over-without-ts", tally({1: 300, 2: 0, 3: 0}, 300, None), [RuleFailure("missing_ts", {})]),
    (
        "everything",
        tally({1: 5, 7: 1}, None, 999),
        [
            RuleFailure("unknown_ballot", {"numbers": [7]}),
            RuleFailure("missing_ballot", {"numbers": [2, 3]}),
            RuleFailure("missing_sah", {}),
        ],
    ),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [pytest.param(t, expected, id=case_id) for case_id, t, expected in RULE_CASES],
)
def test_check_tally_table(value: Tally, expected: list[RuleFailure]) -> None:
    assert check_tally(value, BALLOTS, REGISTERED) == expected


def test_parse_then_check_canonical() -> None:
    result = parse(CANON, CONTESTS)
    assert isinstance(result, Tally)
    assert check_tally(result, BALLOTS, REGISTERED) == []


# --------------------------------------------------------------------------- properties

FRAGMENTS = st.sampled_from(
    [
        *sorted(CONTESTS),
        "ppwp",
        "YA",
        "OK",
        "Y",
        "BATAL",
        "STATUS",
        "CEK",
        "BANTUAN",
        "HELP",
        "BAHASA",
        "LANG",
        "EN",
        "ID",
        "SAH",
        "TS",
        "TIDAK",
        "TIDAKSAH",
        "TDKSAH",
        "T.SAH",
        "TPS",
        TPS,
        "35.76.01.1001-001",
        "01",
        "1",
        "001",
        "120",
        "99999",
        "123456",
        "0",
        "=",
        ":",
        "#",
        " = ",
        ",",
        ";",
        ".",
        "-",
        "/",
        "O",
        "o",
        "I",
        "i",
        "l",
        "L",
        " ",
        "  ",
        "\n",
        "\t",
        "\x00",
        "\u200b",
        "🙏",
        "١",
        "１",
        "ß",
        "ſ",
    ]
)
GRAMMARISH = st.lists(FRAGMENTS | st.text(max_size=3), max_size=40).map("".join)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text() | st.text(st.characters(exclude_categories=())))
def test_parse_never_raises_on_any_text(text: str) -> None:
    result = grammar._parse(text, CONTESTS)  # the unguarded implementation
    assert isinstance(result, (Tally, Confirm, Cancel, Status, Help, Language, ParseError))
    assert parse(text, CONTESTS) == result


@settings(max_examples=1500)
@given(text=GRAMMARISH)
def test_parse_never_raises_on_grammarish_text(text: str) -> None:
    result = grammar._parse(text, CONTESTS)
    assert isinstance(result, (Tally, Confirm, Cancel, Status, Help, Language, ParseError))
    if isinstance(result, Tally):
        assert result.contest in CONTESTS
        assert len(result.tps_code) == 13 and result.tps_code.isascii()
        assert not result.is_empty()
        assert all(0 <= v <= 99999 for v in result.votes.values())
    if isinstance(result, ParseError):
        for value in result.params.values():
            if isinstance(value, str):
                assert len(value) <= 20


VOTES = st.dictionaries(st.integers(0, 999), st.integers(0, 99999), min_size=1, max_size=30)
OPTIONAL_COUNT = st.none() | st.integers(0, 99999)
TPS_CODES = st.text("0123456789", min_size=13, max_size=13)


def render(t: Tally) -> str:
    """Canonical SMS for a tally."""
    parts = [t.contest, t.tps_code, *(f"{n:02d}={v}" for n, v in t.votes.items())]
    if t.sah is not None:
        parts.append(f"SAH={t.sah}")
    if t.ts is not None:
        parts.append(f"TS={t.ts}")
    return " ".join(parts)


@given(
    contest=st.sampled_from(sorted(CONTESTS)),
    tps=TPS_CODES,
    votes=VOTES,
    sah=OPTIONAL_COUNT,
    ts=OPTIONAL_COUNT,
)
def test_round_trip_canonical(
    contest: str, tps: str, votes: dict[int, int], sah: int | None, ts: int | None
) -> None:
    original = Tally(contest, tps, votes, sah, ts, ())
    assert parse(render(original), CONTESTS) == original


CANDIDATE_VOTES = st.dictionaries(
    st.tuples(st.integers(0, 999), st.integers(0, 999)), st.integers(0, 99999), max_size=30
)
SECTIONS = st.dictionaries(st.sampled_from(SECTION_KEYS), st.integers(0, 99999))


@given(
    contest=st.sampled_from(sorted(CONTESTS)),
    tps=TPS_CODES,
    votes=st.dictionaries(st.integers(0, 999), st.integers(0, 99999), max_size=20),
    candidate_votes=CANDIDATE_VOTES,
    sections=SECTIONS,
    sah=OPTIONAL_COUNT,
    ts=OPTIONAL_COUNT,
    sep=st.sampled_from(["=", ":", "#", " = ", ": ", " #"]),
    gap=st.sampled_from([" ", "\n", ", ", ";", "  \r\n", " - "]),
    lower=st.booleans(),
    zeros=st.integers(0, 2),
    order=st.randoms(use_true_random=False),
)
def test_round_trip_whole_form(
    contest: str,
    tps: str,
    votes: dict[int, int],
    candidate_votes: dict[tuple[int, int], int],
    sections: dict[str, int],
    sah: int | None,
    ts: int | None,
    sep: str,
    gap: str,
    lower: bool,
    zeros: int,
    order: random.Random,
) -> None:
    """Every key of the C.Hasil, in any order, case and separator, reads back as sent."""
    original = Tally(contest, tps, votes, sah, ts, (), candidate_votes, sections)
    pad = "0" * zeros
    pairs = [f"{key}{sep}{value}" for key, value in sections.items()]
    pairs += [f"{pad}{n}{sep}{v}" for n, v in votes.items()]
    pairs += [f"{pad}{p}.{pad}{k}{sep}{v}" for (p, k), v in candidate_votes.items()]
    pairs += [
        f"{key}{sep}{value}" for key, value in (("SAH", sah), ("TS", ts)) if value is not None
    ]
    order.shuffle(pairs)
    text = f"{contest} {tps}{gap}" + gap.join(pairs)
    if lower:
        text = text.lower()
    expected = original if not original.is_empty() else ParseError("no_votes", {})
    assert parse(text, CONTESTS) == expected


@given(
    contest=st.sampled_from(sorted(CONTESTS)),
    tps=TPS_CODES,
    votes=VOTES,
    sah=OPTIONAL_COUNT,
    ts=OPTIONAL_COUNT,
    sep=st.sampled_from(["=", ":", "#", " = ", ": ", " #"]),
    gap=st.sampled_from([" ", "\n", ", ", ";", "  \r\n", " - "]),
    ts_word=st.sampled_from(["TS", "ts", "TIDAKSAH", "tdksah", "Tidak Sah", "T.SAH"]),
    lower=st.booleans(),
    zeros=st.integers(0, 3),
)
def test_round_trip_tolerant_variants(
    contest: str,
    tps: str,
    votes: dict[int, int],
    sah: int | None,
    ts: int | None,
    sep: str,
    gap: str,
    ts_word: str,
    lower: bool,
    zeros: int,
) -> None:
    pairs = [f"{'0' * zeros}{n}{sep}{v}" for n, v in votes.items()]
    if sah is not None:
        pairs.append(f"SAH{sep}{sah}")
    if ts is not None:
        pairs.append(f"{ts_word}{sep}{ts}")
    dotted = f"{tps[:2]}.{tps[2:4]}.{tps[4:6]}.{tps[6:10]}-{tps[10:]}"
    text = f"{contest} {dotted}{gap}" + gap.join(pairs)
    if lower:
        text = text.lower()
    assert parse(text, CONTESTS) == Tally(contest, tps, votes, sah, ts, ())


@given(
    votes=st.dictionaries(st.integers(-5, 1000), st.integers(-10, 10**6), max_size=20),
    sah=st.none() | st.integers(-10, 10**6),
    ts=st.none() | st.integers(-10, 10**6),
    ballots=st.lists(st.integers(-5, 1000), max_size=20),
    registered=st.integers(-10, 10**6),
)
def test_check_tally_never_raises(
    votes: dict[int, int],
    sah: int | None,
    ts: int | None,
    ballots: list[int],
    registered: int,
) -> None:
    failures = check_tally(Tally("PPWP", TPS, votes, sah, ts, ()), ballots, registered)
    order = list(RULE_ORDER)
    codes = [f.code for f in failures]
    assert codes == sorted(codes, key=order.index)
    assert len(codes) == len(set(codes))
    if "unknown_ballot" in codes or "missing_ballot" in codes:
        assert "sah_mismatch" not in codes
    if not codes:
        assert set(votes) == set(ballots)
        assert sah == sum(votes.values())
