"""Bubbles, fusion and the arithmetic decoder, on hand-made probabilities."""

from __future__ import annotations

import numpy as np

from ocr import arith, fusion
from ocr.classifier import BLANK_CLASS, X_CLASS


def _writing(symbols: str, confidence: float = 0.98) -> np.ndarray:
    """Per-position probabilities for e.g. "X95" (X, _ for blank)."""
    out = np.full((len(symbols), 12), (1 - confidence) / 11)
    for i, ch in enumerate(symbols):
        cls = X_CLASS if ch == "X" else BLANK_CLASS if ch == "_" else int(ch)
        out[i, cls] = confidence
    return out


def _fills(symbols: str) -> np.ndarray:
    """Bubble fills for e.g. "-95" ('-' = nothing marked)."""
    out = np.zeros((len(symbols), 10))
    for i, ch in enumerate(symbols):
        if ch != "-":
            out[i, int(ch)] = 0.95
    return out


def _field(written: str, bubbles: str, confidence: float = 0.98) -> np.ndarray:
    return fusion.fuse(_writing(written, confidence), fusion.bubble_probabilities(_fills(bubbles)))


def test_bubble_column_reads_one_mark_nothing_or_an_unclear_pair() -> None:
    p = fusion.bubble_probabilities(np.array([[0, 0, 0, 0.9, 0, 0, 0, 0, 0, 0.05],
                                              [0.0] * 10,
                                              [0, 0.9, 0, 0, 0, 0, 0, 0.9, 0, 0]]))
    assert p[0].argmax() == 4 and p[0, 4] > 0.99  # digit 3 (index 0 is "nothing")
    assert p[1].argmax() == 0 and p[1, 0] > 0.95  # a forgotten mark stays possible
    assert abs(p[2, 2] - p[2, 8]) < 1e-6 and p[2, 2] < 0.51


def test_agreeing_readings_are_near_certain_and_a_disagreement_is_not() -> None:
    agree = _field("X95", "-95")
    assert agree[1].argmax() == 9 and agree[1, 9] > 0.99
    slip = _field("X95", "-45")  # the deliberate mark weighs more than the handwriting
    assert slip[1].argmax() == 4 and 0.5 < slip[1, 4] < 0.99 and slip[1, 9] > 0.01


def test_number_probabilities_accept_x_blank_or_zero_in_leading_boxes() -> None:
    for written, bubbles in (("X95", "-95"), ("_95", "-95"), ("095", "095"), ("095", "-95")):
        lp = fusion.number_log_probs(_field(written, bubbles)[None])[0]
        assert lp.argmax() == 95, written
    empty = fusion.number_log_probs(_field("___", "---")[None])[0]
    assert empty.argmax() == 0
    assert empty.max() < fusion.number_log_probs(_field("XX0", "--0")[None])[0].max()


def _choices(p: np.ndarray) -> np.ndarray:
    return fusion.supported_log_probs(p, fusion.number_log_probs(p))


def _lps(*fields: tuple[str, str]) -> np.ndarray:
    return _choices(np.stack([_field(w, b) for w, b in fields]))


KINDS = ["candidate", "candidate", "candidate", "SAH", "TS", "BALLOTS", "VOTERS"]


def test_a_consistent_page_decodes_as_read_with_every_check_holding() -> None:
    lps = _lps(("120", "120"), ("X95", "-95"), ("X40", "-40"), ("255", "255"), ("XX5", "--5"),
               ("260", "260"), ("260", "260"))
    decoded = arith.decode(lps, KINDS, 287, complete_sum=True)
    assert decoded.values == [120, 95, 40, 255, 5, 260, 260] == decoded.raw
    assert [c.name for c in decoded.checks] == [
        "sum_equals_sah", "sah_plus_ts_equals_ballots", "ballots_equal_voters", "within_registered"
    ]
    assert all(c.ok and not c.corrected for c in decoded.checks)


def test_the_arithmetic_settles_a_writing_bubble_disagreement() -> None:
    # 02: written 95, bubbled 45; SAH 255 and the rest say 95.
    lps = _lps(("120", "120"), ("X95", "-45"), ("X40", "-40"), ("255", "255"), ("XX5", "--5"),
               ("260", "260"), ("260", "260"))
    decoded = arith.decode(lps, KINDS, 287, complete_sum=True)
    assert decoded.values[1] == 95


def test_an_uncertain_digit_is_chosen_by_the_sums_and_the_check_says_so() -> None:
    # 03: bubbles skipped, the handwriting unsure between 46 and 40; the sums say 40.
    lps = _lps(("120", "120"), ("X95", "-95"), ("X46", "---"), ("255", "255"), ("XX5", "--5"),
               ("260", "260"), ("260", "260"))
    lps[2] = _choices(_field("X46", "---", confidence=0.7)[None])[0]
    decoded = arith.decode(lps, KINDS, 287, complete_sum=True)
    assert decoded.raw[2] == 46 and decoded.values[2] == 40 and not decoded.gave_up
    assert decoded.checks[0].ok and decoded.checks[0].corrected


def test_a_confident_reading_is_never_changed_to_make_the_sums_hold() -> None:
    # 03 = 46 by both readings: that is what is on the paper, even though the sums say 40.
    lps = _lps(("120", "120"), ("X95", "-95"), ("X46", "-46"), ("255", "255"), ("XX5", "--5"),
               ("260", "260"), ("260", "260"))
    decoded = arith.decode(lps, KINDS, 287, complete_sum=True)
    assert decoded.gave_up and decoded.values == decoded.raw == [120, 95, 46, 255, 5, 260, 260]
    failing = [c for c in decoded.checks if not c.ok]
    assert [c.name for c in failing] == ["sum_equals_sah"]
    assert failing[0].detail == "120+95+46 = 261, SAH = 255"
    assert decoded.failing_fields() == {0, 1, 2, 3}  # the candidates and SAH, not TS or SS


def test_a_field_read_confidently_as_a_whole_is_pinned_even_with_a_weak_digit() -> None:
    # 03 = 46 at field probability ≥ 0.97, though its units digit gives 0 a few percent.
    p = np.full((3, 12), 0.0001)
    p[0, X_CLASS], p[1, 4], p[2, 6], p[2, 0] = 0.9989, 0.9989, 0.9779, 0.021
    choices = _choices(p[None])[0]
    assert np.exp(choices.max() - np.logaddexp.reduce(fusion.number_log_probs(p[None])[0])) > 0.97
    assert fusion.supported(choices).sum() == 1 and choices.argmax() == 46


def test_paper_arithmetic_that_is_wrong_is_answered_as_written() -> None:
    # The officer's own error: 120 + 95 + 40 = 255, but 299 written (and bubbled) as SAH.
    lps = _lps(("120", "120"), ("X95", "-95"), ("X40", "-40"), ("299", "299"), ("XX5", "--5"),
               ("260", "260"), ("260", "260"))
    decoded = arith.decode(lps, KINDS, 287, complete_sum=True)
    assert decoded.gave_up and decoded.values == decoded.raw
    assert decoded.values[3] == 299
    assert {c.name for c in decoded.checks if not c.ok} == {
        "sum_equals_sah", "sah_plus_ts_equals_ballots"
    }


def test_an_empty_bubble_column_is_no_evidence_and_the_writing_decides() -> None:
    # 285 written, no bubble marked: not "5 with two empty leading boxes".
    p = _field("285", "---", confidence=0.98)
    assert list(p.argmax(axis=1)) == [2, 8, 5]
    lp = fusion.number_log_probs(p[None])[0]
    assert lp.argmax() == 285
    confidence = np.exp(lp[285] - np.logaddexp.reduce(lp))
    both = fusion.number_log_probs(_field("285", "285")[None])[0]
    assert 0.5 < confidence < np.exp(both[285] - np.logaddexp.reduce(both))  # one reading
    choices = _choices(p[None])[0]
    assert not fusion.supported(choices)[5]  # "5" would override two confident digits
    assert fusion.supported(_choices(_field("285", "---", confidence=0.6)[None])[0])[5]


def test_the_decoder_gives_up_rather_than_rewrite_half_the_page() -> None:
    # Consistent as written, but 295 voters at a TPS with 287 registered: fitting under the
    # limit would change many confidently read digits.
    lps = _lps(("150", "150"), ("100", "100"), ("X40", "-40"), ("290", "290"), ("XX5", "--5"),
               ("295", "295"), ("295", "295"))
    decoded = arith.decode(lps, KINDS, 287, complete_sum=True)
    assert decoded.gave_up and decoded.values == decoded.raw
    assert [c.name for c in decoded.checks if not c.ok] == ["within_registered"]
    assert arith.decode(lps, KINDS, 300, complete_sum=True).checks[-1].ok


def test_a_page_without_every_ballot_field_checks_only_what_it_holds() -> None:
    lps = _lps(("255", "255"), ("XX5", "--5"), ("260", "260"), ("260", "260"))
    decoded = arith.decode(lps, ["SAH", "TS", "BALLOTS", "VOTERS"], None, complete_sum=False)
    assert decoded.values == [255, 5, 260, 260]
    names = [c.name for c in decoded.checks]
    assert names == ["sah_plus_ts_equals_ballots", "ballots_equal_voters"]


def test_an_empty_column_is_no_evidence_unless_a_later_column_of_the_number_is_marked() -> None:
    # Bubbles skipped altogether: the handwriting alone decides, an empty column is no blank.
    skipped = _field("285", "---", confidence=0.9)
    assert "".join(str(int(c)) for c in skipped.argmax(axis=-1)) == "285"
    assert np.allclose(skipped.argmax(axis=-1), _writing("285", 0.9).argmax(axis=-1))
    # The officer marked the units but left the leading columns empty: that speaks for "no
    # digit" there, so an X read short of sure still makes a sure number.
    marked = fusion.number_log_probs(_field("XX2", "--2", confidence=0.9)[None])[0]
    unmarked = fusion.number_log_probs(_field("XX2", "---", confidence=0.9)[None])[0]
    share = lambda lp: float(np.exp(lp[2] - np.logaddexp.reduce(lp)))  # noqa: E731
    assert share(marked) > fusion.SURE_FIELD > share(unmarked)
    assert fusion.leading_unmarked(fusion.bubble_probabilities(_fills("-45"))).tolist() == [
        True, False, False]
    assert not fusion.leading_unmarked(fusion.bubble_probabilities(_fills("---"))).any()


def _plain_add_one(best: np.ndarray, lp: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The max-plus step written out: argmax over the top K, a sum below the value is NEG."""
    values, scores = arith._top(lp, limit, arith.TOP_K)
    sums = np.arange(limit + 1)
    rest = sums[None, :] - values[:, None]
    cand = np.where(rest >= 0, best[np.maximum(rest, 0)] + scores[:, None], arith.NEG)
    pick = cand.argmax(axis=0)
    return cand[pick, sums], values[pick]


def test_the_max_plus_step_picks_exactly_what_the_plain_argmax_picks() -> None:
    """Same sums, same chosen values, ties to the first of the top K, unreachable sums NEG —
    also for a fixed member (NEG everywhere but its value) and tiny limits."""
    rng = np.random.default_rng(11)
    for trial in range(400):
        limit = int(rng.choice([999, 300, 41, 39, 5, 0]))
        lp = np.log(rng.dirichlet(np.ones(1000) * rng.choice([0.05, 1.0])) + 1e-300)
        if trial % 3 == 0:  # a fixed member
            lp[:] = arith.NEG
            lp[rng.integers(limit + 1)] = 0.0
        if trial % 4 == 0:  # ties
            lp = np.round(lp)
        best = np.full(limit + 1, arith.NEG)
        best[0] = 0.0
        for _ in range(int(rng.integers(0, 4))):
            best = _plain_add_one(best, np.log(rng.dirichlet(np.ones(1000))), limit)[0]
        want, got = _plain_add_one(best, lp, limit), arith._add_one(best, lp, limit)
        assert np.array_equal(want[0], got[0]) and np.array_equal(want[1], got[1])


def _unsure_ts(read: dict[int, float]) -> np.ndarray:
    """TS written with one digit, its bubbles forgotten: the handwriting's units `read`."""
    ts = _writing("XX0", 0.98)
    ts[2] = (1 - sum(read.values())) / 10
    for digit, p in read.items():
        ts[2, digit] = p
    return fusion.fuse(ts, fusion.bubble_probabilities(_fills("---")))


def test_a_misread_the_other_sums_put_right_is_corrected_when_a_candidate_was_miscopied() -> None:
    # The officer's error: 120 + 95 + 47 = 262, SAH 255 written. TS written 5, its bubbles
    # forgotten, read 6 (0.7) or 5 (0.15). One number miscopied explains the page: a candidate,
    # with SAH + TS = SS = PHP choosing TS 5 (SAH miscopied would need TS 260 - 262). The page
    # still gives up: the candidates' sum is named, the candidates and SAH as written.
    rows = [_field("120", "120"), _field("X95", "-95"), _field("X47", "-47"),
            _field("255", "255"), _unsure_ts({6: 0.7, 5: 0.15, 2: 0.1}),
            _field("260", "260"), _field("260", "260")]
    decoded = arith.decode(_choices(np.stack(rows)), KINDS, 287, complete_sum=True)
    assert decoded.raw == [120, 95, 47, 255, 6, 260, 260]
    assert decoded.gave_up and decoded.values == [120, 95, 47, 255, 5, 260, 260]
    assert [c.name for c in decoded.checks if not c.ok] == ["sum_equals_sah"]
    assert decoded.failing_fields() == {0, 1, 2, 3}
    plain = arith.decode(_choices(np.stack(rows)), KINDS, 287, True, one_miscopied=False)
    assert plain.gave_up and plain.values == plain.raw


def test_sah_miscopied_explains_the_page_as_read_and_an_unsure_ts_is_not_fitted_to_it() -> None:
    # 120 + 95 + 40 = 255 but SAH written 254; TS written 5 (bubbles forgotten, read 5 at 0.6,
    # 6 at 0.3). Fitting SAH + TS = SS would make TS 6; SAH miscopied explains the whole page
    # with every reading as read (120 + 95 + 40 + 5 = 260 = SS), so nothing is changed.
    rows = [_field("120", "120"), _field("X95", "-95"), _field("X40", "-40"),
            _field("254", "254"), _unsure_ts({5: 0.6, 6: 0.3}),
            _field("260", "260"), _field("260", "260")]
    decoded = arith.decode(_choices(np.stack(rows)), KINDS, 287, complete_sum=True)
    assert decoded.gave_up and decoded.values == decoded.raw == [120, 95, 40, 254, 5, 260, 260]
    assert {c.name for c in decoded.checks if not c.ok} == {
        "sum_equals_sah", "sah_plus_ts_equals_ballots"
    }


def test_two_explanations_of_a_wrong_paper_that_change_different_readings_change_nothing() -> None:
    # 120 + 95 + 40 = 255, SAH written 256, SS = PHP 262; TS's bubbles forgotten, read 8 (0.6),
    # 6 (0.22) or 7 (0.14). A candidate miscopied wants TS 6, SAH miscopied TS 7: nearly as
    # likely as each other, so neither is chosen: the page as read, for the officer.
    rows = [_field("120", "120"), _field("X95", "-95"), _field("X40", "-40"),
            _field("256", "256"), _unsure_ts({8: 0.6, 6: 0.22, 7: 0.14}),
            _field("262", "262"), _field("262", "262")]
    decoded = arith.decode(_choices(np.stack(rows)), KINDS, 287, complete_sum=True)
    assert decoded.gave_up and decoded.values == decoded.raw
    assert decoded.raw[4] == 8
