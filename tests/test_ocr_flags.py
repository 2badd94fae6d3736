"""What the reader flags on a page: a section field with ink in its boxes is never taken for one
the officer left blank, however badly the classifier reads that ink."""

from __future__ import annotations

from ocr.classifier import BLANK_CLASS
from tests.ocr_support import CLEAN
from tests.test_ocr_decoding import _writing
from tests.test_ocr_tied import _read


def test_a_written_digit_the_classifier_calls_blank_is_given_and_flagged() -> None:
    # DIS written "XX4", bubbles skipped; the units box has ink, which the classifier reads as
    # "blank" at 0.54 (4 at 0.1): an X and a box with ink are something written, not DIS left
    # out, so the field is sent on, flagged for the officer.
    dis = _writing("XX4", 0.98)
    dis[2] = 0.36 / 10
    dis[2, BLANK_CLASS], dis[2, 4] = 0.54, 0.1
    got = _read({**CLEAN, "DIS": 4}, written={"DIS": dis})["DIS"]
    assert got.given and got.uncertain and "not_given" not in got.reasons, got


def test_a_field_with_no_ink_and_no_bubble_is_left_out_unflagged() -> None:
    blank = _writing("___", 0.999)
    got = _read(CLEAN, written={"PDIS": blank})["PDIS"]
    assert not got.given and not got.uncertain and got.reasons == ("not_given",)


def test_an_unchecked_field_whose_handwriting_doubts_its_bubble_is_flagged() -> None:
    # PDIS (no sum on the page holds it) bubbled 8; its handwriting reads 1 at 0.45 and gives
    # 8 only 0.15: neither confident nor ruling 8 out as a checked field needs, but nothing
    # else on the page would catch a slip there, so the field goes to the officer.
    pdis = _writing("XX1", 0.98)
    pdis[2] = 0.2 / 9
    pdis[2, 1], pdis[2, 2], pdis[2, 8] = 0.45, 0.2, 0.15
    got = _read({**CLEAN, "PDIS": 8}, written={"PDIS": pdis}, bubbles={"PDIS": "--8"})["PDIS"]
    assert got.value == 8 and got.uncertain and "disagree" in got.reasons, got

