"""The SMS examples `make run` prints (scripts/run.sh) must hold on the demo election: every
ballot number and candidate exists on that TPS's ballot, and the numbers pass the C.Hasil's
rules (CHASIL design: SAH + TS = SS = PHP, per-list voters ≤ registered and summing to PHP,
SSD = SSR + SSTD + SS, SAH = the sum of the (party) totals, SAH + TS ≤ the ballots available).
"""

from __future__ import annotations

import re

from relay.ballots import ballot_for, reserve_ballots
from relay.config import ROOT
from relay.db import session_scope
from relay.loaders.election import load_election
from relay.loaders.regions import load_regions
from relay.models import Contest, Tps

EXAMPLE = re.compile(r'simulate sms --from (\d+) "([A-Z]+) (\d{13}) ([^"]+)"')


def examples() -> list[tuple[str, str, dict[str, int]]]:
    found = EXAMPLE.findall((ROOT / "scripts" / "run.sh").read_text(encoding="utf-8"))
    out = []
    for _phone, contest, tps, body in found:
        values = {}
        for pair in body.split():
            key, value = pair.split("=")
            assert key not in values, f"{key} twice in {body}"
            values[key] = int(value)
        out.append((contest, tps, values))
    return out


def test_make_run_examples_pass_the_forms_rules_on_the_demo(db: str) -> None:
    load_regions(ROOT / "demo" / "regions.csv", db)
    load_election(ROOT / "demo" / "election.yaml", db)
    found = examples()
    assert {c for c, _, _ in found} == {"PPWP", "DPR"}
    assert any("SSD" in v and "PDPK" in v and "DIS" in v for _, _, v in found)  # a full form
    assert any(any("." in k for k in v) for c, _, v in found if c == "DPR")  # candidates
    with session_scope(db) as session:
        for code, tps_code, v in found:
            ballot = ballot_for(session, session.get_one(Contest, code), tps_code)
            assert ballot is not None
            totals = {n: 0 for n in ballot.numbers}
            for key, value in v.items():
                if key.isdigit():
                    totals[int(key)] += value
                elif "." in key:
                    party, k = (int(x) for x in key.split("."))
                    assert k in ballot.party_candidates[party], key
                    totals[party] += value
            assert set(totals) == set(ballot.numbers)
            assert v["SAH"] == sum(totals.values())
            used = v["SAH"] + v["TS"]
            for key in ("SS", "PHP"):
                assert v.get(key, used) == used, key
            for listed, registered in (("PDPT", "DPT"), ("PDPTB", "DPTB"), ("PDPK", "DPK")):
                assert v.get(listed, 0) <= v.get(registered, v.get(listed, 0))
            if "PDPT" in v:
                assert v["PDPT"] + v["PDPTB"] + v["PDPK"] == v["PHP"]
            if "SSD" in v:
                assert v["SSD"] == v["SSR"] + v["SSTD"] + v["SS"]
            assert v.get("PDIS", 0) <= v.get("DIS", 0)
            dpt = v.get("DPT") or session.get_one(Tps, tps_code).registered_voters
            assert used <= v.get("SSD", reserve_ballots(dpt))
