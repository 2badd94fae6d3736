"""Two independent readings of every digit — handwriting and bubbles — fused into one.

Classes everywhere: 0–9, X (10), blank (11). The bubble column says "digit d" or "nothing".
"Nothing" is no evidence: officers skip the bubbles (a hurried midnight) as often as they leave
a leading box unmarked, so an empty column weighs every class alike and the handwriting alone
decides, with its own (barely floored) probability. A marked column and the writing are fused
as a product, each floored so that neither can overrule a confident other alone: when writing
and bubble disagree, the digit ends up uncertain and the form's arithmetic, or the officer,
decides. One exception: an empty column to the left of a marked one in the same number is the
officer marking this number and leaving a leading position unmarked, so there it speaks (mildly)
for "no digit here" (X, blank or 0) against the digits 1–9.

A number's probability over 0..999 then follows from its three positions: a leading position
may hold 0, X or blank; the units position must hold a digit (an empty units box reads as 0 only
with a heavy penalty, and is flagged). Values the evidence does not support — a symbol below
SUPPORT at some position, i.e. against a confident reading — get UNSUPPORTED_LP: the arithmetic
may choose among supported readings of uncertain digits, never override a confident one.
"""

from __future__ import annotations

import functools

import numpy as np

from ocr.classifier import BLANK_CLASS, X_CLASS

BUBBLE_THRESHOLD = 0.3  # fill at which a bubble is as likely marked as not
BUBBLE_SLOPE = 25.0
BUBBLE_FLOOR = 0.002  # chance the bubble column says nothing useful
FORGOTTEN = 0.03  # chance an empty bubble column is a digit the officer forgot to mark
# Chance the handwriting reading is wrong whatever it says, per class: digits are easily taken
# for one another, an X rarely, and a box with ink is almost never blank.
WRITING_FLOOR = np.array([0.1] * 10 + [0.01, 0.002])
SINGLE_FLOOR = 0.0005  # the same when the handwriting is the only reading (no bubble marked)
BLANK_BY_INK = 0.999  # P(blank) of a box with (almost) no ink
EMPTY_UNITS_PENALTY = 0.02
MAX_VALUE = 999
SUPPORT = 0.02  # a symbol this probable at a position is a reading the evidence supports
SURE_FIELD = 0.97  # a field's own best value this probable is a confident reading: pinned
UNSUPPORTED_LP = -1.0e4  # log-probability of a value the evidence does not support
EMPTY_LEAD_DIGIT = 0.1  # likelihood of a digit 1–9 under an empty column left of a marked one


def bubble_probabilities(fills: np.ndarray) -> np.ndarray:
    """Fills (…, 10) → P(nothing marked, 0, …, 9) (…, 11)."""
    z = BUBBLE_SLOPE * (fills - BUBBLE_THRESHOLD)
    logits = np.concatenate([np.zeros((*fills.shape[:-1], 1)), z], axis=-1)
    logits -= logits.max(axis=-1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=-1, keepdims=True)
    forgotten = FORGOTTEN * p[..., :1]
    p = np.concatenate([p[..., :1] - forgotten, p[..., 1:] + forgotten / 10], axis=-1)
    return (1 - BUBBLE_FLOOR) * p + BUBBLE_FLOOR / p.shape[-1]


def writing_probabilities(cnn: np.ndarray, blank: np.ndarray) -> np.ndarray:
    """Classifier output (…, 12), with boxes that carry no ink set to blank."""
    out = cnn.copy()
    if blank.any():
        out[blank] = (1 - BLANK_BY_INK) / (out.shape[-1] - 1)
        out[blank, BLANK_CLASS] = BLANK_BY_INK
    return out


def fuse(writing: np.ndarray, bubbles: np.ndarray) -> np.ndarray:
    """P(class) (…, 12) from handwriting (…, 12) and bubbles (…, 11).

    The bubble column's likelihood of each class: a marked digit d speaks for d; "nothing
    marked" speaks for every class alike (no evidence). The writing floor guards a marked
    bubble against being overruled by the writing; with nothing marked it shrinks to
    SINGLE_FLOOR, so one confident reading stays confident, and an unsure one unsure.
    """
    nothing = bubbles[..., :1]
    digits = bubbles[..., 1:]
    as_classes = np.concatenate(
        [digits, np.zeros((*digits.shape[:-1], 2))], axis=-1
    ) + nothing
    floor = SINGLE_FLOOR + (WRITING_FLOOR - SINGLE_FLOOR) * (1.0 - nothing)
    fused = (writing + floor) * (as_classes + BUBBLE_FLOOR)
    lead = leading_unmarked(bubbles)
    if lead.any():
        fused[lead, 1:10] *= EMPTY_LEAD_DIGIT
    return fused / fused.sum(axis=-1, keepdims=True)


def leading_unmarked(bubbles: np.ndarray) -> np.ndarray:
    """(…, positions) whether a column is empty while a column right of it is marked: the
    officer marked this number and left a leading position unmarked."""
    mark = marked(bubbles)
    later = np.flip(np.cumsum(np.flip(mark, axis=-1), axis=-1), axis=-1) - mark
    return ~mark & (later > 0)


def marked(bubbles: np.ndarray) -> np.ndarray:
    """Whether each bubble column carries a mark (…): a second reading of the digit exists."""
    return bubbles[..., 0] < 0.5


def symbol_argmax(p: np.ndarray) -> np.ndarray:
    """Per position the most likely symbol: 0–9, or 10 for "no digit" (X or blank)."""
    best = p.argmax(axis=-1)
    return np.where(best >= X_CLASS, 10, best)


@functools.lru_cache(maxsize=1)
def _value_index() -> np.ndarray:
    """(3, 1000) index into a position's 12 symbols [0..9, lead, empty-units-zero]."""
    values = np.arange(MAX_VALUE + 1)
    hundreds, tens, units = values // 100, (values // 10) % 10, values % 10
    lead = 10
    index = np.empty((3, len(values)), np.int64)
    index[0] = np.where(values >= 100, hundreds, lead)
    index[1] = np.where(values >= 10, tens, lead)
    index[2] = np.where(values == 0, 11, units)
    return index


def _symbols(p: np.ndarray) -> np.ndarray:
    """Per position the probability of its 12 symbols [0..9, lead, empty-units-zero]."""
    lead = p[..., 0] + p[..., X_CLASS] + p[..., BLANK_CLASS]
    zero = p[..., 0] + EMPTY_UNITS_PENALTY * (p[..., X_CLASS] + p[..., BLANK_CLASS])
    return np.concatenate([p[..., :10], lead[..., None], zero[..., None]], axis=-1)


def number_log_probs(p: np.ndarray) -> np.ndarray:
    """Per-position class probabilities (n, 3, 12) → log P(value) (n, 1000), unnormalised."""
    logs = np.log(np.maximum(_symbols(p), 1e-300))
    index = _value_index()
    return logs[:, 0, index[0]] + logs[:, 1, index[1]] + logs[:, 2, index[2]]


def log_totals(lps: np.ndarray) -> np.ndarray:
    """Per field (row) the log of its values' summed probability: what normalises `lps`
    (a sequential reduction over 1,000 values a field, ~0.4 ms a page: worked out once)."""
    return np.logaddexp.reduce(lps, axis=1)


def supported_log_probs(p: np.ndarray, lps: np.ndarray,
                        totals: np.ndarray | None = None) -> np.ndarray:
    """`lps` with the values the evidence does not support set to UNSUPPORTED_LP.

    Unsupported: some position's symbol is below SUPPORT, i.e. the evidence is confident of
    another; and every other value of a field whose best value has probability ≥ SURE_FIELD.
    Each field's best value always stands. This is what the arithmetic may choose from.
    `totals`: `log_totals(lps)`, when the caller has it.
    """
    if totals is None:
        totals = log_totals(lps)
    weak = _symbols(p) < SUPPORT
    index = _value_index()
    unsupported = weak[:, 0, index[0]] | weak[:, 1, index[1]] | weak[:, 2, index[2]]
    best = lps.argmax(axis=1)
    rows = np.arange(len(lps))
    sure = lps[rows, best] - totals >= np.log(SURE_FIELD)
    unsupported[sure] = True
    unsupported[rows, best] = False
    return np.where(unsupported, UNSUPPORTED_LP + lps / 1000, lps)


def supported(lps: np.ndarray) -> np.ndarray:
    """Which values of `supported_log_probs` the evidence supports (same shape, bool)."""
    return lps > UNSUPPORTED_LP / 2


def value_symbols(value: int) -> tuple[int, int, int]:
    """The symbols a clean writing of `value` has per position (10 = leading 'no digit')."""
    return (
        value // 100 if value >= 100 else 10,
        (value // 10) % 10 if value >= 10 else 10,
        value % 10,
    )
