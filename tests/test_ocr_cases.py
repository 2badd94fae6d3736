"""Golden photos, one per case the reader must get right: a consistent page, bubbles skipped,
the officer's own arithmetic wrong on the paper, and a bubble that disagrees with its digit.
Each asserts the values and the flags: a field is either right or flagged, never silently wrong.
"""

from __future__ import annotations

import pytest

from ocr.reader import CONFIDENT, ReadResult, read_photo
from tests.ocr_support import CLEAN, SKIPPED, SUMS_WRONG, demo_lookup, photo

GOLDEN = {
    "ppwp_clean.jpg": CLEAN,
    "ppwp_skipped.jpg": SKIPPED,
    "ppwp_sums_wrong.jpg": SUMS_WRONG,
    "ppwp_slip.jpg": CLEAN,
    "ppwp_slip_unchecked.jpg": CLEAN,
}


def _read(name: str) -> ReadResult:
    result = read_photo(photo(name), demo_lookup())
    assert result.ok, result.error
    return result


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_every_field_is_right_or_flagged(name: str) -> None:
    result = _read(name)
    for f in result.fields:
        if not f.given:  # a section the officer left blank: nothing read, nothing sent on
            assert f.key not in GOLDEN[name], (name, f)
            continue
        assert f.value == GOLDEN[name][f.key] or f.uncertain, (name, f)
        assert f.value == f.read or f.read_confidence < CONFIDENT, (name, f)  # never overridden
    assert result.needs_confirmation == (
        any(f.uncertain for f in result.fields) or any(not c.ok for c in result.checks)
    )


def test_a_consistent_page_reads_every_value_and_flags_only_disagreements() -> None:
    result = _read("ppwp_clean.jpg")
    assert result.values() == CLEAN
    assert all(c.ok and not c.corrected for c in result.checks)
    flagged = [f.key for f in result.fields if f.uncertain]
    for f in result.fields:
        assert "corrected" not in f.reasons and "inconsistent" not in f.reasons
        # Two readings that agree are settled; a field is flagged only where the handwriting
        # confidently says another digit than the bubbles (a slip, or a misread: the officer
        # looks), or where its reading is short of sure and no sum of confident readings holds
        # it: no sum on the page (DIS, PDIS), or another of its sum's fields is flagged too.
        differs = f.written.replace("X", "-").replace("_", "-") != f.bubbles
        lone = flagged == [f.key]
        unsettleable = "low_confidence" in f.reasons and ("unchecked" in f.reasons or not lone)
        assert not f.uncertain or (differs and "disagree" in f.reasons) or unsettleable, f


def test_bubbles_skipped_are_read_from_the_handwriting_not_as_blanks() -> None:
    result = _read("ppwp_skipped.jpg")
    assert result.values() == SKIPPED  # 120 is not read as 0, 255 not as 5
    assert all(f.bubbles == "---" for f in result.fields)
    assert all(c.ok for c in result.checks)
    for f in result.fields:
        if not f.given:
            continue
        assert "disagree" not in f.reasons and "empty" not in f.reasons, f
        assert f.confidence < 0.97, f  # one reading, not two: never as sure as both agreeing
        assert f.uncertain or "settled" in f.reasons or f.confidence >= 0.97, f


def test_paper_arithmetic_that_is_wrong_is_read_as_written_with_the_failing_sum_named() -> None:
    result = _read("ppwp_sums_wrong.jpg")
    assert result.values() == SUMS_WRONG  # nothing "corrected" to make the sums hold
    failing = [c for c in result.checks if not c.ok]
    assert [(c.name, c.detail) for c in failing] == [
        ("sum_equals_sah", "120+95+47 = 262, SAH = 255")
    ]
    assert not any(c.corrected for c in result.checks)
    failing_sum = {"01", "02", "03", "SAH"}
    for f in result.fields:
        assert f.value == f.read, f
        assert "corrected" not in f.reasons, f
        # The officer is pointed at the numbers of the failing sum, not at the others; no
        # doubt in the failing sum is cleared (a sum that holds elsewhere may settle its own).
        assert ("inconsistent" in f.reasons) == (f.key in failing_sum), f
        assert f.uncertain or f.key not in failing_sum, f
        assert "settled" not in f.reasons or f.key not in failing_sum, f
    assert result.needs_confirmation


def test_a_bubble_that_disagrees_with_its_digit_flags_the_field() -> None:
    result = _read("ppwp_slip.jpg")  # 02: 95 written, 45 bubbled
    assert result.values() == CLEAN  # the sums side with the writing
    slipped = next(f for f in result.fields if f.key == "02")
    assert slipped.written == "X95" and slipped.bubbles == "-45"
    assert slipped.uncertain and "disagree" in slipped.reasons and "settled" not in slipped.reasons
    assert result.needs_confirmation


def test_a_disagreement_no_sum_can_check_is_flagged_and_shown_to_the_officer() -> None:
    result = _read("ppwp_slip_unchecked.jpg")  # DIS: 4 written, 7 bubbled; no sum holds DIS
    dis = next(f for f in result.fields if f.key == "DIS")
    assert dis.written == "XX4" and dis.bubbles == "--7"
    assert dis.uncertain and {"disagree", "unchecked"} <= set(dis.reasons)
    assert "settled" not in dis.reasons
    assert result.needs_confirmation
    # Everything else on the page is as written and meant.
    assert {k: v for k, v in result.values().items() if k != "DIS"} == {
        k: v for k, v in CLEAN.items() if k != "DIS"}
