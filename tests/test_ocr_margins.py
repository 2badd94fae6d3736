"""ocr.arith.Margins: every field's margin from forward and backward tables equals the margin
found by decoding the group again with the field's value forbidden (the slow, obvious way)."""

from __future__ import annotations

import numpy as np
import pytest

from ocr import arith
from ocr.fusion import UNSUPPORTED_LP


def slow_margin(lps: np.ndarray, kinds: list[str], registered: int | None, complete: bool,
                decoded: arith.Decoded, field: int) -> float:
    without = lps.copy()
    without[field, decoded.values[field]] = arith.NEG
    other = arith.decode(without, kinds, registered, complete)
    if other.gave_up or not all(c.ok for c in other.checks):
        return np.inf
    return decoded.score - other.score


def page(rng: np.random.Generator, kinds: list[str], truth: list[int]) -> np.ndarray:
    """Log-probabilities peaked at the truth with a few plausible misreadings per field."""
    lps = np.full((len(kinds), 1000), -60.0)
    for i, value in enumerate(truth):
        lps[i, value] = -rng.uniform(0, 1.5)
        for other in rng.integers(0, 400, 4):
            lps[i, other] = -rng.uniform(0.2, 6.0)
    return lps


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize(("kinds", "registered"), [
    (["candidate"] * 3 + ["SAH", "TS", "BALLOTS", "VOTERS"], 300),
    (["candidate"] * 6 + ["SAH", "TS"], 400),
    (["candidate"] * 4 + ["SAH"], None),
    (["candidate"] * 2 + ["SAH", "BALLOTS"], 250),
])
def test_margins_match_decoding_again(seed: int, kinds: list[str], registered: int | None,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arith, "MIN_CHAIN", 1)  # the tables even for short chains
    rng = np.random.default_rng(seed)
    n = kinds.count("candidate")
    parts = [int(v) for v in rng.integers(0, 40, n)]
    sah, ts = sum(parts), int(rng.integers(0, 9))
    by_kind = {"SAH": sah, "TS": ts, "BALLOTS": sah + ts, "VOTERS": sah + ts}
    truth = parts + [by_kind[k] for k in kinds[n:]]
    lps = page(rng, kinds, truth)
    decoded = arith.decode(lps, kinds, registered, True)
    margins = arith.Margins(lps, kinds, registered, True, decoded)
    for field in range(len(kinds)):
        fast = margins.of(field)
        slow = slow_margin(lps, kinds, registered, True, decoded, field)
        assert fast == pytest.approx(slow, abs=1e-9), (field, fast, slow)


def test_a_candidate_with_no_other_possible_value_has_an_infinite_margin(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arith, "MIN_CHAIN", 1)
    kinds = ["candidate"] * 3 + ["SAH", "TS", "BALLOTS"]
    lps = page(np.random.default_rng(1), kinds, [10, 20, 30, 60, 2, 62])
    lps[1] = UNSUPPORTED_LP  # the evidence supports 20 only for the second candidate
    lps[1, 20] = 0.0
    decoded = arith.decode(lps, kinds, 300, True)
    assert decoded.values[:4] == [10, 20, 30, 60]
    margins = arith.Margins(lps, kinds, 300, True, decoded)
    assert margins.of(1) == slow_margin(lps, kinds, 300, True, decoded, 1) == np.inf
