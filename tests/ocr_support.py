"""Shared helpers for the OCR tests: the demo templates without a database, golden photos."""

from __future__ import annotations

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
UPSIDE = {"01": 31, "02": 148, "03": 67, "SAH": 246, "TS": 9}

def demo_templates() -> dict[str, FormTemplate]:
    data = yaml.safe_load((ROOT / "demo" / "election.yaml").read_text(encoding="utf-8"))
    return {
        c["code"]: build_template(
            c["code"],
            c["name"],
            [(int(x["number"]), x["name"]) for x in c["candidates"]],
            party_contest=c.get("kind") == "parties",
        )
        for c in data["contests"]
    }


def demo_lookup() -> StaticLookup:
    return StaticLookup(list(demo_templates().values()), {TPS: REGISTERED})


def photo(name: str) -> bytes:
    return (DATA / name).read_bytes()
