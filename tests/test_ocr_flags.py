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
