"""Shared helpers for the OCR tests: the demo templates without a database, golden photos."""

from __future__ import annotations

from pathlib import Path

import yaml

from ocr.templates import FormTemplate, StaticLookup, build_template
from relay.config import ROOT

DATA = Path(__file__).resolve().parent / "data" / "ocr"
TPS = "3576011001001"
REGISTERED = 287
CLEAN = {"01": 120, "02": 95, "03": 40, "SAH": 255, "TS": 5, "BALLOTS": 260, "VOTERS": 260}
SUMS_WRONG = {**CLEAN, "03": 47}  # as written: 120 + 95 + 47 = 262, but SAH 255
UPSIDE = {"01": 31, "02": 148, "03": 67, "SAH": 246, "TS": 9, "BALLOTS": 255, "VOTERS": 255}


def demo_templates() -> dict[str, FormTemplate]:
    data = yaml.safe_load((ROOT / "demo" / "election.yaml").read_text(encoding="utf-8"))
    return {
        c["code"]: build_template(
            c["code"], c["name"], [(int(x["number"]), x["name"]) for x in c["candidates"]]
        )
        for c in data["contests"]
    }


def demo_lookup() -> StaticLookup:
    return StaticLookup(list(demo_templates().values()), {TPS: REGISTERED})


def photo(name: str) -> bytes:
    return (DATA / name).read_bytes()
