"""Fields the sums tie as read: a page whose bubbles were skipped is settled where its own
numbers add up on the raw readings and every other consistent reading is far less probable;
never where the paper's own arithmetic fails, the paper disagrees with itself, or the
handwriting is too unsure for the sums to rule out a compensating misread."""

from __future__ import annotations

import numpy as np

from ocr import fusion, pagedecode, reader
from tests.ocr_support import CLEAN, demo_templates
from tests.test_ocr_decoding import _fills, _writing

# The digit model's probabilities on unseen writers top out near 0.93: never SURE_FIELD alone.
CEILING = 0.93
VOTES = ("01", "02", "03", "SAH", "TS", "SS", "PHP")


def _read(values: dict[str, int],
          written: dict[str, tuple[str, float] | np.ndarray] | None = None,
          bubbles: dict[str, str] | None = None) -> dict[str, reader.FieldReading]:
    """The PPWP page 1 read from hand-made probabilities, flagged and settled as read_photo
    does; no bubble marked unless `bubbles` says so; `written` key → (symbols, confidence)."""
    return _read_page("PPWP", 1, values, written, bubbles)


def _read_page(contest: str, page: int, values: dict[str, int],
               written: dict[str, tuple[str, float] | np.ndarray] | None = None,
               bubbles: dict[str, str] | None = None) -> dict[str, reader.FieldReading]:
    template = demo_templates()[contest]
    fields = template.fields_on(page)
    written, bubbles = written or {}, bubbles or {}
    w_rows, b_rows = [], []
    for f in fields:
        text = f"{values[f.key]:>3}".replace(" ", "X")
        given = written.get(f.key, (text, CEILING))
        w_rows.append(given if isinstance(given, np.ndarray) else _writing(*given))
        b_rows.append(_fills(bubbles.get(f.key, "---")))
    writing = np.stack(w_rows)
    marked = fusion.bubble_probabilities(np.stack(b_rows))
    fused = fusion.fuse(writing, marked)
    lps = fusion.number_log_probs(fused)
    choices = fusion.supported_log_probs(fused, lps)
    decoded = pagedecode.decode(choices, fields, template, 293)
    readings = reader._flag(fields, decoded, lps, writing, marked, fused)
    assert all(r.uncertain for r in readings if r.given)  # the handwriting alone: all unsure
    readings = reader._settle(readings, decoded, choices, lps)
    return {r.key: r for r in readings}


def test_a_skipped_page_whose_sums_hold_as_read_is_settled() -> None:
    got = _read(CLEAN)
    assert {k: r.value for k, r in got.items()} == CLEAN
    settled = {k for k, r in got.items() if not r.uncertain}
    assert all("tied" in got[k].reasons for k in settled)
    # The votes (01 + 02 + 03 = SAH, SAH + TS = SS = PHP) and the registered voters' sum tie
    # every field they hold; DIS and PDIS no sum on the page checks: they stay with the officer.
    assert {*VOTES, "DPT", "DPTB", "DPK", "JDPT"} <= settled
    assert {"DIS", "PDIS"}.isdisjoint(settled)


def test_nothing_is_settled_by_sums_the_paper_itself_breaks() -> None:
    # The officer's own error, bubbles skipped: 120 + 95 + 40 = 255, SAH written 299.
    got = _read({**CLEAN, "SAH": 299})
    assert got["SAH"].value == 299
    for key in (*VOTES, "PDPT", "PDPTB", "PDPK", "SSR", "SSTD", "SSD", "JSAHTS"):
        assert got[key].uncertain and "tied" not in got[key].reasons, got[key]
    # The registered voters' own sum still holds as read: those fields are tied.
    assert all(not got[k].uncertain for k in ("DPT", "DPTB", "DPK", "JDPT"))


def test_unsure_handwriting_is_not_settled_even_where_the_sums_hold() -> None:
    # 02 written 95 at 0.55 per digit: consistent as read, but a misread of 02 and SAH that
    # compensates is not far less probable; and 02's own reading is below TIED_FLOOR.
    got = _read(CLEAN, written={"02": ("X95", 0.55), "SAH": ("255", 0.6)})
    assert got["02"].value == 95 and got["02"].uncertain
    assert got["SAH"].value == 255 and got["SAH"].uncertain
    assert "tied" not in got["02"].reasons and "tied" not in got["SAH"].reasons


def test_a_bubble_that_weakly_disagrees_with_its_digit_is_not_settled_by_the_sums() -> None:
    # SS's tens written 5 or 6 (0.55 / 0.4) and bubbled 6: the fused 260 fits the sums, but
    # the paper may say two things and the officer must look (only the tens column marked).
    ss_writing = _writing("260", CEILING)
    ss_writing[1] = 0.05 / 10
    ss_writing[1, 5], ss_writing[1, 6] = 0.55, 0.4
    got = _read(CLEAN, written={"SS": ss_writing}, bubbles={"SS": "-6-"})
    ss = got["SS"]
    assert ss.value == 260 and ss.read == 260
    assert "disagree" not in ss.reasons  # too weak for the disagreement rule alone
    assert ss.uncertain and "tied" not in ss.reasons


def test_a_chained_sum_that_holds_as_read_ties_its_members_when_the_votes_were_corrected() -> None:
    # 03 written 46 or 40 (unsure): the votes' sums choose 40, so that group was corrected;
    # PDPT + PDPTB + PDPK = PHP, SSR + SSTD + SS = SSD and SAH + TS = their printed sum still
    # hold on their own raw readings.
    got = _read(CLEAN, written={"03": ("X46", 0.6)})
    assert got["03"].value == 40 and "corrected" in got["03"].reasons and got["03"].uncertain
    for key in ("01", "02"):  # only the candidates' sum holds them, traded against 03 cheaply
        assert got[key].uncertain, got[key]
    for key in ("PDPT", "PDPTB", "PDPK", "PHP", "SSR", "SSTD", "SS", "SSD", "SAH", "TS",
                "JSAHTS"):
        assert not got[key].uncertain and {"tied", "held"} & set(got[key].reasons), got[key]


def test_a_corrected_group_holds_the_fields_no_other_consistent_reading_moves() -> None:
    # 03's units written 6 or 0 (0.5 / 0.45), its tens a clear 4: the sums choose 40. Any other
    # value of 01 or 02 needs another misread of a clear digit of theirs and one of 03 as well
    # (≥ 6.9 nats): the candidates' sum holds them as read, though it corrected 03.
    written = _writing("X46", CEILING)
    written[2] = 0.05 / 10
    written[2, 6], written[2, 0] = 0.5, 0.45
    got = _read(CLEAN, written={"03": written})
    assert got["03"].value == 40 and got["03"].uncertain and "corrected" in got["03"].reasons
    for key in ("01", "02"):
        assert got[key].value == CLEAN[key] and not got[key].uncertain, got[key]
        assert "held" in got[key].reasons


def test_two_fields_misread_alike_are_not_tied_by_their_equality_when_chained_sums_fail() -> None:
    # DPR's first page, bubbles skipped: SS and PHP both written 182, both tens read 1. SS = PHP
    # holds between the two misreads; PDPT + PDPTB + PDPK = PHP and SSR + SSTD + SS = SSD, which
    # hold on the paper, fail on them: the page speaks against 112, nothing ties it.
    paper = {"DPT": 222, "DPTB": 1, "DPK": 3, "JDPT": 226, "PDPT": 179, "PDPTB": 0, "PDPK": 3,
             "PHP": 182, "DIS": 5, "PDIS": 3, "SSD": 227, "SSR": 2, "SSTD": 43, "SS": 182}
    paper.update({f.key: 1 for f in demo_templates()["DPR"].fields_on(1) if f.key not in paper})
    got = _read_page("DPR", 1, paper, written={"SS": ("112", CEILING), "PHP": ("112", CEILING)})
    assert got["SS"].value == got["PHP"].value == 112
    assert got["SS"].uncertain and "tied" not in got["SS"].reasons, got["SS"]
    assert got["PHP"].uncertain and "tied" not in got["PHP"].reasons, got["PHP"]
    # The registered voters' own sum holds as read: those fields are still tied.
    assert all(not got[k].uncertain for k in ("DPT", "DPTB", "DPK", "JDPT"))


def test_a_sum_whose_other_members_stay_unsure_ties_none_of_them() -> None:
    # DPR's second page, bubbles skipped; its party list runs on, so only SAH + TS = JSAHTS
    # holds SAH. SAH written 203, its units read 5 (3 at 0.08); TS written 8 and read 6 at 0.992:
    # 205 + 6 = 211, two misreads that cancel. Every other reading with another TS needs TS's
    # sure digit misread and SAH's too (≥ 6.9 nats), but SAH and JSAHTS are unsure themselves:
    # the sum that would settle TS alone vouches for nothing, and TS goes to the officer.
    paper = {f.key: 1 for f in demo_templates()["DPR"].fields_on(2)}
    paper.update({"11": 120, "12": 40, "13": 43, "SAH": 203, "TS": 8, "JSAHTS": 211})
    sah = _writing("205", CEILING)
    sah[2] = 0.02 / 10
    sah[2, 5], sah[2, 3] = 0.85, 0.08
    ts = _writing("XX6", CEILING)
    ts[2] = 0.004 / 10
    ts[2, 6], ts[2, 8] = 0.992, 0.004
    got = _read_page("DPR", 2, paper,
                     written={"SAH": sah, "TS": ts, "JSAHTS": ("211", 0.8)})
    assert (got["SAH"].value, got["TS"].value, got["JSAHTS"].value) == (205, 6, 211)
    assert got["SAH"].uncertain and got["JSAHTS"].uncertain
    assert got["TS"].uncertain and "tied" not in got["TS"].reasons, got["TS"]


def test_a_marked_bubble_lets_a_sum_tie_a_member_its_other_unsure_members_hold() -> None:
    # The same sum read right (205 + 6 = 211), SAH and JSAHTS unsure. With SAH's tens bubble
    # marked (and agreeing), a cancelling pair of misreads needs a bubble wrong as well: the
    # sum ties TS. With every bubble skipped it does not.
    paper = {f.key: 1 for f in demo_templates()["DPR"].fields_on(2)}
    paper.update({"11": 120, "12": 40, "13": 43, "SAH": 205, "TS": 6, "JSAHTS": 211})
    sah = _writing("205", CEILING)
    sah[2] = 0.02 / 10
    sah[2, 5], sah[2, 3] = 0.85, 0.08
    written = {"SAH": sah, "TS": ("XX6", 0.992), "JSAHTS": ("211", 0.8)}
    marked = _read_page("DPR", 2, paper, written=written, bubbles={"SAH": "-0-"})
    assert marked["SAH"].uncertain and marked["JSAHTS"].uncertain
    assert not marked["TS"].uncertain and "tied" in marked["TS"].reasons, marked["TS"]
    skipped = _read_page("DPR", 2, paper, written=written)
    assert skipped["TS"].uncertain and "tied" not in skipped["TS"].reasons, skipped["TS"]
