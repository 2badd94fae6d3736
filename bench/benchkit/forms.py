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
    "UCI_DRAWINGS", "bench_templates", "demo_templates", "make_values", "paper_error",
    "photo_of_filled_form", "uci_source",
]


def bench_templates() -> dict[str, FormTemplate]:
    """The demo's forms, DPR as the whole C.Hasil of one dapil: 18 parties with 8-10
    candidates each, nine pages (party lists running over page breaks)."""
    from ocr.templates import build_template

    templates = demo_templates()
    dpr = templates["DPR"]
    parties = sorted({(f.ballot_number, f.label) for f in dpr.fields if f.ballot_number})
    templates["DPR"] = build_template(
        "DPR", dpr.contest_name, parties,
        {n: [(k, f"Calon {n}.{k}") for k in range(1, 11 - (n % 3))] for n, _ in parties},
        dapil="BENCH-1",
    )
    return templates


UCI_DRAWINGS = ("stroked", "grey")


def uci_source(seed: int, drawing: str = "stroked") -> synth.GlyphSource:
    """The UCI writers' digits, drawn "stroked" (synth.from_uci: thresholded and re-stroked
    as pen ink, which opens many loops; the figures of every earlier stop) or "grey"
    (synth.from_uci_grey: the 8×8 counts smoothly upscaled as ink strength, loops kept).
    "grey" takes the same three draws from `rng` that from_uci takes (threshold, pen width,
    ink strength; its thresholded shape is never empty), so with one seed both drawings fill
    the same pages with the same numbers under the same photos: only the handwriting differs."""
    from sklearn.datasets import load_digits

    if drawing not in UCI_DRAWINGS:
        raise ValueError(f"drawing must be one of {UCI_DRAWINGS}, not {drawing!r}")
    digits = load_digits()
    pools = {d: digits.images[digits.target == d] for d in range(10)}

    def source(digit: int, height: int, rng: np.random.Generator) -> np.ndarray:
        pool = pools[digit]
        image = pool[rng.integers(len(pool))]
        if drawing == "stroked":
            return synth.from_uci(image, height, rng)
        rng.uniform(size=3)  # what from_uci would have drawn: keeps the page stream in step
        return synth.from_uci_grey(image, height, rng)

    return source


def make_values(
    template: FormTemplate, registered: int, rng: np.random.Generator
) -> dict[str, int]:
    """A consistent whole C.Hasil: every rule of the form holds (ocr.synth.whole_form_values)."""
    return synth.whole_form_values(template, registered, rng)


def paper_error(
    template: FormTemplate, values: dict[str, int], rng: np.random.Generator
) -> dict[str, int]:
    """The officer's own arithmetic error: `values` with one counted number on SAH's page (or,
    one time in four, SAH) miscopied, so they no longer add up to SAH. What is on the paper."""
    written = dict(values)
    sah_page = next(f.page for f in template.fields if f.key == "SAH")
    counting = set(template.candidate_keys)
    keys = [f.key for f in template.fields_on(sah_page) if f.key in counting]
    key = "SAH" if not keys or rng.random() < 0.25 else str(rng.choice(keys))
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
    """(JPEG of a phone photo of page 1 filled in by hand, the numbers written on it)."""
    values = make_values(template, tps.registered_voters or 300, rng)
    values = {f.key: values[f.key] for f in template.fields_on(1) if f.key in values}
    plans = {k: synth.plan_number(v, rng) for k, v in values.items()}
    paper = synth.fill_form(template, 1, tps, values, plans, source, rng)
    return synth.photograph(paper, rng, synth.PhotoSpec()), values
