"""Shared helpers for the OCR tests: the demo templates without a database, golden photos."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from ocr.templates import FormTemplate, StaticLookup, build_template
from relay.config import ROOT

DATA = Path(__file__).resolve().parent / "data" / "ocr"
TPS = "3576011001001"
REGISTERED = 287
# What the golden photos show (tests/data/ocr/generate.py): the whole C.Hasil of PPWP, and on
# the upside-down one the votes only (the other sections left blank).
CLEAN = {
    "DPT": 287, "DPTB": 3, "DPK": 2, "JDPT": 292, "PDPT": 255, "PDPTB": 3, "PDPK": 2, "PHP": 260,
    "DIS": 4, "PDIS": 3, "SSD": 293, "SSR": 2, "SSTD": 31, "SS": 260,
    "01": 120, "02": 95, "03": 40, "SAH": 255, "TS": 5, "JSAHTS": 260,
}
SUMS_WRONG = {**CLEAN, "03": 47}  # the officer's error: 120 + 95 + 47 = 262, SAH 255 written
UPSIDE = {"01": 31, "02": 148, "03": 67, "SAH": 246, "TS": 9}
# The hurried officer of the skipped photo wrote the votes only, and marked no bubble.
SKIPPED = {k: CLEAN[k] for k in ("01", "02", "03", "SAH", "TS")}


def demo_templates() -> dict[str, FormTemplate]:
    """Each demo contest's template as printed for TPS (regional contests: its area's list)."""
    data = yaml.safe_load((ROOT / "demo" / "election.yaml").read_text(encoding="utf-8"))
    templates = {}
    for c in data["contests"]:
        if "areas" in c:
            area, listed = _demo_area_list(c["areas"])
            if area:
                templates[c["code"]] = build_template(
                    c["code"], c["name"], listed, party_contest=False, dapil=area
                )
            continue
        templates[c["code"]] = build_template(  # party contests: `parties` (`candidates`: file)
            c["code"],
            c["name"],
            [(int(x["number"]), x["name"]) for x in c.get("parties", c["candidates"])],
            party_contest="parties" in c,
        )
    return templates


def _demo_area_list(name: str) -> tuple[str | None, list[tuple[int, str]]]:
    """The area of a demo area file covering TPS, and its candidates."""
    lines = (ROOT / "demo" / name).read_text(encoding="utf-8").splitlines()
    rows = csv.DictReader(line for line in lines if not line.startswith("#"))
    mine = [r for r in rows if any(TPS.startswith(p) for p in r["regions"].split())]
    return (mine[0]["area"] if mine else None), [(int(r["number"]), r["name"]) for r in mine]


def demo_lookup() -> StaticLookup:
    return StaticLookup(list(demo_templates().values()), {TPS: REGISTERED})


def photo(name: str) -> bytes:
    return (DATA / name).read_bytes()


# A photo as a careful officer takes it (the golden photos' spec, tests/data/ocr/generate.py).
GENTLE = dict(tilt=0.06, rotation=8, blur=(0.0, 0.5), noise=(1.5, 3.0), light=(0.8, 1.0),
              shadow=0.0, jpeg=(70, 70), long_side=1024, fill=(0.9, 0.93))


def uci_glyphs():  # type: ignore[no-untyped-def]
    """Handwriting of writers the digit model never saw (scikit-learn's UCI digits)."""
    import numpy as np
    from sklearn.datasets import load_digits

    from ocr import synth

    digits = load_digits()
    pools = {d: digits.images[digits.target == d] for d in range(10)}

    def source(digit: int, height: int, rng: np.random.Generator) -> np.ndarray:
        pool = pools[digit]
        return synth.from_uci(pool[rng.integers(len(pool))], height, rng)

    return source


def photographed_pages(
    template: FormTemplate, tps, values: dict[str, int], seed: int  # type: ignore[no-untyped-def]
) -> dict[int, bytes]:
    """Every page of `template` filled in with `values` by hand and photographed: page → JPEG."""
    import numpy as np

    from ocr import synth

    rng = np.random.default_rng(seed)
    source = uci_glyphs()
    out = {}
    for page in range(1, template.pages + 1):
        on_page = {f.key: values[f.key] for f in template.fields_on(page) if f.key in values}
        plans = {k: synth.plan_number(v, rng, "X") for k, v in on_page.items()}
        paper = synth.fill_form(template, page, tps, on_page, plans, source, rng)
        out[page] = synth.photograph(paper, rng, synth.PhotoSpec(**GENTLE))  # type: ignore[arg-type]
    return out


def dpr_with_dapils(url: str, dapils: dict[str, list[str]], candidates: int) -> None:
    """Make the demo's DPR a party contest with `dapils` (code → region prefixes), each party
    listing `candidates` candidates in each dapil."""
    from relay.db import session_scope
    from relay.models import Contest, Dapil, PartyCandidate

    with session_scope(url) as session:
        contest = session.get_one(Contest, "DPR")
        contest.kind = "parties"
        for code, regions in dapils.items():
            session.add(Dapil(contest_code="DPR", code=code, name=f"Dapil {code}",
                              regions=regions))
            for party in contest.candidates:
                for k in range(1, candidates + 1):
                    session.add(PartyCandidate(
                        contest_code="DPR", dapil_code=code, party_number=party.ballot_number,
                        candidate_number=k, name=f"Calon {code} {party.ballot_number}.{k}",
                    ))
