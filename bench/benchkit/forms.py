"""Filled tally forms for the benchmarks: the demo election's templates, handwriting from
writers the digit classifier never saw (scikit-learn's UCI digits), plausible numbers for a
TPS, and a simulated phone photo of the page. Used by bench/ocr.py (accuracy) and
bench/e2e.py (photos through the whole system)."""

from __future__ import annotations

import numpy as np

from ocr import synth
from ocr.render import TpsInfo
from ocr.templates import FormTemplate
from tests.ocr_support import demo_templates

__all__ = [
    "demo_templates", "make_values", "paper_error", "photo_of_filled_form", "uci_source"
]


def uci_source(seed: int) -> synth.GlyphSource:
    from sklearn.datasets import load_digits

    digits = load_digits()
    pools = {d: digits.images[digits.target == d] for d in range(10)}

    def source(digit: int, height: int, rng: np.random.Generator) -> np.ndarray:
        pool = pools[digit]
        return synth.from_uci(pool[rng.integers(len(pool))], height, rng)

    return source


def make_values(
    template: FormTemplate, registered: int, rng: np.random.Generator
) -> dict[str, int]:
    """A consistent tally: votes add up to SAH, SAH + TS voters, within the registered."""
    voters = int(registered * rng.uniform(0.55, 0.97))
    invalid = int(min(voters, rng.integers(0, 15)))
    valid = voters - invalid
    keys = template.candidate_keys
    shares = rng.dirichlet(np.full(len(keys), 0.8))
    votes = np.floor(shares * valid).astype(int)
    votes[int(rng.integers(len(keys)))] += valid - int(votes.sum())
    values = {k: int(v) for k, v in zip(keys, votes, strict=True)}
    values.update(SAH=valid, TS=invalid, BALLOTS=voters, VOTERS=voters)
    return values


def paper_error(
    template: FormTemplate, values: dict[str, int], rng: np.random.Generator
) -> dict[str, int]:
    """The officer's own arithmetic error: `values` with one candidate's number (or, one time in
    four, SAH) miscopied, so the candidates no longer add up to SAH. What is on the paper."""
    written = dict(values)
    keys = list(template.candidate_keys)
    key = "SAH" if rng.random() < 0.25 else str(rng.choice(keys))
    while written[key] == values[key]:
        text = list(f"{values[key]:d}")
        if rng.random() < 0.5 and len(text) >= 2:  # one digit miscopied
            i = int(rng.integers(len(text)))
            text[i] = str((int(text[i]) + int(rng.integers(1, 10))) % 10)
            new = int("".join(text))
        else:  # a small slip in adding up
            new = values[key] + int(rng.choice([-1, 1])) * int(rng.integers(1, 21))
        written[key] = min(999, max(0, new))
    return written


def photo_of_filled_form(
    template: FormTemplate,
    tps: TpsInfo,
    rng: np.random.Generator,
    source: synth.GlyphSource,
) -> tuple[bytes, dict[str, int]]:
    """(JPEG of a phone photo of the page filled in by hand, the numbers written on it)."""
    values = make_values(template, tps.registered_voters or 300, rng)
    plans = {k: synth.plan_number(v, rng) for k, v in values.items()}
    paper = synth.fill_form(template, 1, tps, values, plans, source, rng)
    return synth.photograph(paper, rng, synth.PhotoSpec()), values
