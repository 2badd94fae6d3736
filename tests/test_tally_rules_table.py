"""The C.Hasil's own rules, row by row (bots.tally_rules), with the words the officer reads.

Each row is a tally as an officer types it, checked against a ballot of the kind the row's
contest code names, and what the reply says about it in Indonesian and English: the refusal
(every failed rule with its rows and numbers), what is still missing (a part of the form kept
pending), or "" when the tally is accepted (followed by a warning when there is one).
"""

from __future__ import annotations

import pytest

from bots import grammar
from bots.grammar import ParseError, parse
from bots.replies import missing_list, parse_error, rule_failures, warning_list
from bots.tally_rules import check_tally, incomplete, inconsistent, tally_warnings
from relay import ballots
from relay.ballots import Ballot

TPS = "3576011001001"
REGISTERED = 280  # the TPS's DPT when the tally gives none: ballots available 280 + 6 = 286
PARTIES = {1: (1, 2, 3), 2: (1, 2)}
BALLOTS = {
    # a candidate contest, nothing beyond the votes required (a quick count)
    "PPWP": Ballot("PPWP", "candidates", (1, 2, 3), {}),
    # a candidate contest whose election file requires the whole form
    "DPD": Ballot(
        "DPD", "candidates", (1, 2, 3), {}, required=frozenset({"voters", "ballots", "disabled"})
    ),
    # a party contest with its dapil's candidate lists, candidates optional
    "DPR": Ballot("DPR", "parties", (1, 2), {}, dapil="JATIM-8", party_candidates=PARTIES),
    # the same with every candidate required (KPU's recap)
    "DPRK": Ballot(
        "DPRK",
        "parties",
        (1, 2),
        {},
        dapil="MKT-1",
        party_candidates=PARTIES,
        required=frozenset({"candidates"}),
    ),
}
VOTES = "01=120 02=95 03=40 SAH=255 TS=5"
FULL = (
    "DPT=280 DPTB=3 DPK=2 PHP=260 PDPT=255 PDPTB=3 PDPK=2 SSD=286 SSR=1 SSTD=25 SS=260 "
    "DIS=4 PDIS=3 " + VOTES
)
PARTY = "01=10 01.1=30 01.2=12 01.3=0 02=5 02.1=40 02.2=3 SAH=100 TS=2"


def full(**changes: object) -> str:
    """The full valid form with some rows changed (None: left out)."""
    pairs = dict(pair.split("=") for pair in FULL.split())
    for key, value in changes.items():
        if value is None:
            pairs.pop(key)
        else:
            pairs[key] = str(value)
    return " ".join(f"{k}={v}" for k, v in pairs.items())


def verdict(contest: str, body: str, language: str) -> str:
    """What the reply says about the tally's numbers (receipt codes aside)."""
    command = parse(f"{contest} {TPS} {body}", BALLOTS)
    if isinstance(command, ParseError):
        return parse_error(command, language, contest)
    ballot = BALLOTS[contest]
    failures = check_tally(command, ballot, REGISTERED)
    wrong = inconsistent(failures)
    if wrong:
        return rule_failures(wrong, language, contest, TPS, list(ballot.numbers))
    missing = incomplete(failures)
    if missing:
        return "missing: " + missing_list(missing, language)
    return warning_list(tally_warnings(command, REGISTERED), language)


R_ID = f"Ditolak PPWP TPS {TPS}: "
R_EN = f"Rejected PPWP TPS {TPS}: "
D_ID = f"Ditolak DPD TPS {TPS}: "
D_EN = f"Rejected DPD TPS {TPS}: "
P_ID = f"Ditolak DPR TPS {TPS}: "
P_EN = f"Rejected DPR TPS {TPS}: "

# (row, contest, tally, Indonesian, English)
TABLE: list[tuple[str, str, str, str, str]] = [
    # --- III. votes: SAH = the sum of the candidates' votes ----------------------------------
    ("sum-ok", "PPWP", VOTES, "", ""),
    (
        "sum-wrong",
        "PPWP",
        "01=120 02=95 03=40 SAH=250 TS=5",
        R_ID + "jumlah suara 255 tidak sama dengan SAH 250.",
        R_EN + "votes add up to 255, not SAH 250.",
    ),
    ("all-zero", "PPWP", "01=0 02=0 03=0 SAH=0 TS=0", "", ""),
    (
        "unknown-number",
        "PPWP",
        "01=120 02=95 03=40 04=1 SAH=256 TS=5",
        R_ID + "nomor urut 04 tidak ada di PPWP (hanya 01,02,03).",
        R_EN + "ballot number 04 is not in PPWP (only 01,02,03).",
    ),
    ("missing-number", "PPWP", "01=120 02=95 SAH=215 TS=5", "missing: 03", "missing: 03"),
    ("missing-sah-ts", "PPWP", "01=120 02=95 03=40", "missing: SAH TS", "missing: SAH TS"),
    # --- SAH + TS <= ballots available: DPT + 2% reserve (DPTb/DPK vote on the reserve) -------
    ("over-dpt-within-reserve", "PPWP", "01=200 02=50 03=36 SAH=286 TS=0", "", ""),
    (
        "over-reserve",
        "PPWP",
        "01=200 02=50 03=37 SAH=287 TS=0",
        R_ID + "SAH+TS=287 melebihi surat suara tersedia 286 (DPT 280 + 2%).",
        R_EN + "SAH+TS=287 exceeds the 286 ballots available (DPT 280 + 2%).",
    ),
    (  # the form's DPT sets the ballots available; one other than the TPS's goes to review
        "dpt-sent-is-used",
        "PPWP",
        "DPT=300 01=200 02=50 03=56 SAH=306 TS=0",
        " Catatan: DPT=300 bukan DPT terdaftar TPS ini (280); akan diperiksa petugas.",
        " Note: DPT=300 is not this TPS's registered voters (280); an operator will check it.",
    ),
    ("dpt-as-registered", "PPWP", "DPT=280 01=200 02=50 03=35 SAH=285 TS=0", "", ""),
    (
        "dpt-sent-over-reserve",
        "PPWP",
        "DPT=200 " + VOTES,
        R_ID + "SAH+TS=260 melebihi surat suara tersedia 204 (DPT 200 + 2%).",
        R_EN + "SAH+TS=260 exceeds the 204 ballots available (DPT 200 + 2%).",
    ),
    (  # voters above DPT are fine when DPTB and DPK hold them (DPT 255: not the TPS's 280)
        "dptb-dpk-above-dpt",
        "PPWP",
        "DPT=255 DPTB=3 DPK=2 PHP=260 " + VOTES,
        " Catatan: DPT=255 bukan DPT terdaftar TPS ini (280); akan diperiksa petugas.",
        " Note: DPT=255 is not this TPS's registered voters (280); an operator will check it.",
    ),
    (
        "over-received",
        "PPWP",
        "SSD=250 " + VOTES,
        R_ID + "SAH+TS=260 melebihi surat suara diterima SSD=250.",
        R_EN + "SAH+TS=260 exceeds the ballots received SSD=250.",
    ),
    # --- I./II./III.: SAH + TS = SS = PHP -----------------------------------------------------
    ("full-form", "DPD", full(), "", ""),
    (
        "ss-differs",
        "DPD",
        full(SS=259, SSTD=26),
        D_ID + "SAH+TS=260, SS=259, PHP=260 harus sama.",
        D_EN + "SAH+TS=260, SS=259, PHP=260 must be equal.",
    ),
    (
        "php-differs",
        "DPD",
        full(PHP=261, PDPT=256),
        D_ID + "SAH+TS=260, SS=260, PHP=261 harus sama.",
        D_EN + "SAH+TS=260, SS=260, PHP=261 must be equal.",
    ),
    ("php-from-lists", "DPD", full(PHP=None), "", ""),
    (
        "php-from-lists-differs",
        "DPD",
        full(PHP=None, PDPT=254),
        D_ID + "SAH+TS=260, SS=260, PDPT+PDPTB+PDPK=259 harus sama.",
        D_EN + "SAH+TS=260, SS=260, PDPT+PDPTB+PDPK=259 must be equal.",
    ),
    ("ss-php-alone", "PPWP", "PHP=260 SS=260 " + VOTES, "", ""),
    (
        "ss-php-no-sah",
        "PPWP",
        "PHP=260 SS=261 01=120",
        R_ID + "SS=261, PHP=260 harus sama.",
        R_EN + "SS=261, PHP=260 must be equal.",
    ),
    # --- I. voters per list <= registered on that list; their sum = PHP -----------------------
    (
        "dpt-over-and-section-missing",
        "DPD",
        full(DPT=250, SSTD=None),
        D_ID + "PDPT=255 melebihi DPT=250.",
        D_EN + "PDPT=255 exceeds DPT=250.",
    ),
    (
        "pdpt-over-dpt-full",
        "DPD",
        full(DPT=254),
        D_ID + "PDPT=255 melebihi DPT=254.",
        D_EN + "PDPT=255 exceeds DPT=254.",
    ),
    (
        "pdpt-over-registered",
        "PPWP",
        "PDPT=281 " + VOTES,
        R_ID + "PDPT=281 melebihi DPT=280.",
        R_EN + "PDPT=281 exceeds DPT=280.",
    ),
    ("pdptb-equal", "DPD", full(DPTB=3), "", ""),
    (
        "pdptb-over",
        "DPD",
        full(DPTB=2),
        D_ID + "PDPTB=3 melebihi DPTB=2.",
        D_EN + "PDPTB=3 exceeds DPTB=2.",
    ),
    (
        "pdpk-over",
        "DPD",
        full(DPK=1),
        D_ID + "PDPK=2 melebihi DPK=1.",
        D_EN + "PDPK=2 exceeds DPK=1.",
    ),
    (
        "lists-sum",
        "DPD",
        full(PDPT=254),
        D_ID + "PDPT+PDPTB+PDPK=259 tidak sama dengan PHP=260.",
        D_EN + "PDPT+PDPTB+PDPK=259 is not PHP=260.",
    ),
    # --- disabled voters ----------------------------------------------------------------------
    ("pdis-equal", "DPD", full(PDIS=4), "", ""),
    (
        "pdis-over",
        "DPD",
        full(DIS=2),
        D_ID + "PDIS=3 melebihi DIS=2.",
        D_EN + "PDIS=3 exceeds DIS=2.",
    ),
    # --- II. ballots received = returned + unused + used; other than DPT + 2%: a warning ------
    (
        "ballots-sum",
        "DPD",
        full(SSTD=24),
        D_ID + "SSD=286 tidak sama dengan SSR+SSTD+SS=285.",
        D_EN + "SSD=286 is not SSR+SSTD+SS=285.",
    ),
    (
        "ssd-not-reserve",
        "DPD",
        full(SSD=290, SSTD=29),
        " Catatan: SSD=290 bukan DPT 280 + 2% = 286; akan diperiksa petugas.",
        " Note: SSD=290 is not DPT 280 + 2% = 286; an operator will check it.",
    ),
    # --- required sections: every row of the section (PHP or the three per-list counts) -------
    (
        "required-voters-missing",
        "DPD",
        full(DPTB=None, PHP=None, PDPK=None),
        "missing: DPTB PHP",
        "missing: DPTB PHP",
    ),
    (
        "required-all-missing",
        "DPD",
        VOTES,
        "missing: DPT DPTB DPK PHP SSD SSR SSTD SS DIS PDIS",
        "missing: DPT DPTB DPK PHP SSD SSR SSTD SS DIS PDIS",
    ),
    # --- DPR/DPRD: party total = own votes + its candidates'; SAH = the party totals ----------
    ("party-full", "DPR", PARTY, "", ""),
    (
        "party-sum-wrong",
        "DPR",
        PARTY.replace("SAH=100", "SAH=90"),
        P_ID + "jumlah suara 100 tidak sama dengan SAH 90.",
        P_EN + "votes add up to 100, not SAH 90.",
    ),
    ("party-quick-count", "DPR", "01=52 02=48 SAH=100 TS=2", "", ""),
    ("party-some-candidates", "DPR", "01=22 01.1=30 02=48 SAH=100 TS=2", "", ""),
    (
        "party-unknown-candidate",
        "DPR",
        "01=52 01.4=1 02=48 SAH=101 TS=2",
        P_ID + "calon 01.4 tidak ada di daftar dapil ini.",
        P_EN + "candidate 01.4 is not on this dapil's list.",
    ),
    (
        "party-unknown-party",
        "DPR",
        "01=52 02=48 03.1=1 SAH=101 TS=2",
        P_ID + "nomor urut 03 tidak ada di DPR (hanya 01,02).",
        P_EN + "ballot number 03 is not in DPR (only 01,02).",
    ),
    (
        "candidates-in-candidate-contest",
        "PPWP",
        "01=120 01.1=5 02=95 03=40 SAH=260 TS=5",
        R_ID + "PPWP tidak punya calon partai (01.1).",
        R_EN + "PPWP has no party candidates (01.1).",
    ),
    ("candidates-required-ok", "DPRK", PARTY, "", ""),
    (
        "candidates-required-missing",
        "DPRK",
        "01=10 01.1=30 01.2=12 01.3=0 02.1=40 SAH=100 TS=2",
        "missing: 02 02.2",
        "missing: 02 02.2",
    ),
    (
        "candidates-required-quick-count",
        "DPRK",
        "01=52 02=48 SAH=100 TS=2",
        "missing: 01.1 01.2 01.3 02.1 02.2",
        "missing: 01.1 01.2 01.3 02.1 02.2",
    ),
    # --- the grammar's precise errors on the form's keys --------------------------------------
    (
        "php-not-a-number",
        "PPWP",
        "PHP=12x " + VOTES,
        "Nilai PHP '12x' bukan angka. Kirim ulang dengan angka saja.",
        "Value of PHP '12x' is not a number. Resend with digits only.",
    ),
    (
        "candidate-key-no-number",
        "DPR",
        "01.=5",
        "Kunci '01.' salah. Calon partai ditulis NN.K=suara, mis. 01.3=25.",
        "Key '01.' is wrong. Party candidates are written NN.K=votes, e.g. 01.3=25.",
    ),
    (
        "candidate-key-three-parts",
        "DPR",
        "01.2.3=4",
        "Kunci '01.2.3' salah. Calon partai ditulis NN.K=suara, mis. 01.3=25.",
        "Key '01.2.3' is wrong. Party candidates are written NN.K=votes, e.g. 01.3=25.",
    ),
    (
        "section-twice",
        "PPWP",
        "DPT=280 dpt=281 " + VOTES,
        "DPT ditulis lebih dari sekali. Tulis setiap kunci satu kali, lalu kirim ulang.",
        "DPT appears more than once. Write each key once and resend.",
    ),
    (
        "candidate-twice",
        "DPR",
        "01.2=1 01.02=3",
        "01.2 ditulis lebih dari sekali. Tulis setiap kunci satu kali, lalu kirim ulang.",
        "01.2 appears more than once. Write each key once and resend.",
    ),
]


@pytest.mark.parametrize(
    ("contest", "body", "indonesian", "english"),
    [pytest.param(*row[1:], id=row[0]) for row in TABLE],
)
def test_the_forms_rules(contest: str, body: str, indonesian: str, english: str) -> None:
    assert verdict(contest, body, "id") == indonesian
    assert verdict(contest, body, "en") == english


def test_the_table_has_every_rule_passing_and_failing() -> None:
    assert len(TABLE) >= 40
    failing = " ".join(row[4] for row in TABLE)
    for words in (
        "add up to",
        "is not in",
        "exceeds the 286 ballots available",
        "exceeds the ballots received",
        "must be equal",
        "exceeds DPT",
        "exceeds DPTB",
        "exceeds DPK",
        "exceeds DIS",
        "is not PHP",
        "is not SSR+SSTD+SS",
        "Note: SSD",
        "not on this dapil's list",
        "has no party candidates",
        "missing: 03",
        "missing: DPTB",
        "missing: 02 02.2",
    ):
        assert words in failing, words
    assert sum(1 for row in TABLE if row[3] == "") >= 12  # accepted tallies


def test_every_failure_fits_one_sms() -> None:
    for _, _contest, body, indonesian, english in TABLE:
        assert len(indonesian) <= 160 and len(english) <= 160, body


def test_the_grammar_reads_every_row_the_ballot_knows() -> None:
    assert grammar.SECTION_KEYS == ballots.SECTION_KEYS
