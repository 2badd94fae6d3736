"""The C.Hasil's own rules over the values read from its pages, whichever of them are present.

The same rules as the SMS grammar's (bots.tally_rules, CHASIL.md), phrased for the reader: each
rule is evaluated when every value it needs was read, so one page checks what it can and the
assembled form (ocr.assemble) checks the rules that span pages.

    checks(values, template, registered)  → [arith.Check, …]

A sum whose total is read with only some of its parts (a party's list cut by a page break, the
party totals of a page that holds SAH but not every party) still bounds the total: the parts
read cannot exceed it, since no count is negative (`partial_sums`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from ocr.arith import Check
from ocr.templates import FormTemplate

Values = Mapping[str, int]


def reserve_ballots(dpt: int) -> int:
    from relay.ballots import reserve_ballots as reserve

    return reserve(dpt)


def _rules(template: FormTemplate, registered: int | None):  # type: ignore[no-untyped-def]
    """(name, keys needed, holds(v), detail(v)) for every rule of this form."""
    counting = template.candidate_keys
    out: list[tuple[str, tuple[str, ...], Callable[[Values], bool], Callable[[Values], str]]] = []

    def rule(name: str, keys: tuple[str, ...], holds, detail) -> None:  # type: ignore[no-untyped-def]
        out.append((name, keys, holds, detail))

    rule("sum_equals_sah", (*counting, "SAH"),
         lambda v: sum(v[k] for k in counting) == v["SAH"],
         lambda v: f"{'+'.join(str(v[k]) for k in counting)} = {sum(v[k] for k in counting)}, "
         f"SAH = {v['SAH']}")
    for party, (own, cands, total) in template.party_blocks().items():
        if total is None:
            continue
        parts = (own, *cands)
        rule(f"party_{party:02d}_total", (*parts, total),
             lambda v, parts=parts, total=total: sum(v[k] for k in parts) == v[total],
             lambda v, parts=parts, total=total: f"{'+'.join(str(v[k]) for k in parts)} = "
             f"{sum(v[k] for k in parts)}, {total} = {v[total]}")
    rule("sah_plus_ts_equals_ballots", ("SAH", "TS", "SS"),
         lambda v: v["SAH"] + v["TS"] == v["SS"],
         lambda v: f"SAH {v['SAH']} + TS {v['TS']} = {v['SAH'] + v['TS']}, SS = {v['SS']}")
    rule("ballots_equal_voters", ("SS", "PHP"),
         lambda v: v["SS"] == v["PHP"], lambda v: f"SS = {v['SS']}, PHP = {v['PHP']}")
    rule("sah_plus_ts_total", ("SAH", "TS", "JSAHTS"),
         lambda v: v["SAH"] + v["TS"] == v["JSAHTS"],
         lambda v: f"SAH {v['SAH']} + TS {v['TS']} = {v['SAH'] + v['TS']}, "
         f"JML = {v['JSAHTS']}")
    rule("registered_total", ("DPT", "DPTB", "DPK", "JDPT"),
         lambda v: v["DPT"] + v["DPTB"] + v["DPK"] == v["JDPT"],
         lambda v: f"DPT {v['DPT']} + DPTb {v['DPTB']} + DPK {v['DPK']} = "
         f"{v['DPT'] + v['DPTB'] + v['DPK']}, JML = {v['JDPT']}")
    rule("voters_by_list", ("PDPT", "PDPTB", "PDPK", "PHP"),
         lambda v: v["PDPT"] + v["PDPTB"] + v["PDPK"] == v["PHP"],
         lambda v: f"PDPT {v['PDPT']} + PDPTb {v['PDPTB']} + PDPK {v['PDPK']} = "
         f"{v['PDPT'] + v['PDPTB'] + v['PDPK']}, PHP = {v['PHP']}")
    for used, listed in (("PDPT", "DPT"), ("PDPTB", "DPTB"), ("PDPK", "DPK"), ("PDIS", "DIS")):
        rule(f"{used.lower()}_within_{listed.lower()}", (used, listed),
             lambda v, u=used, r=listed: v[u] <= v[r],
             lambda v, u=used, r=listed: f"{u} {v[u]} <= {r} {v[r]}")
    rule("ballots_received", ("SSD", "SSR", "SSTD", "SS"),
         lambda v: v["SSR"] + v["SSTD"] + v["SS"] == v["SSD"],
         lambda v: f"SSR {v['SSR']} + SSTD {v['SSTD']} + SS {v['SS']} = "
         f"{v['SSR'] + v['SSTD'] + v['SS']}, SSD = {v['SSD']}")

    def available(v: Values) -> tuple[int | None, str]:
        if "SSD" in v:
            return v["SSD"], "SSD"
        dpt = v.get("DPT", registered)
        return (None, "") if dpt is None else (reserve_ballots(dpt), "DPT + 2%")

    rule("within_available", ("SAH", "TS"),
         lambda v: available(v)[0] is None or v["SAH"] + v["TS"] <= available(v)[0],
         lambda v: f"SAH + TS {v['SAH'] + v['TS']} <= {available(v)[1]} {available(v)[0]}")
    return out


def partial_sums(template: FormTemplate, present: Collection[str]
                 ) -> list[tuple[str, tuple[str, ...], str]]:
    """(rule name, the parts present, total) for every sum of the form whose total is present
    with some but not all of its parts: a party's total (own votes and candidates) and SAH (the
    counted numbers). Then Σ parts present <= total is all that can be checked."""
    sums = [(f"party_{party:02d}_total", (own, *cands), total)
            for party, (own, cands, total) in template.party_blocks().items() if total]
    sums.append(("sum_equals_sah", template.candidate_keys, "SAH"))
    out = []
    for name, parts, total in sums:
        found = tuple(k for k in parts if k in present)
        if total in present and found and len(found) < len(parts):
            out.append((f"{name}_at_least", found, total))
    return out


def checks(
    values: Values, template: FormTemplate, registered: int | None, raw: Values | None = None
) -> list[Check]:
    """Every rule whose values are all present, on `values`; `corrected` when it failed on
    `raw` (the values as first read) and holds now. Then the bounds of the sums whose total is
    present with only some of its parts (`partial_sums`)."""
    out = []
    for name, keys, holds, detail in _rules(template, registered):
        if not all(k in values for k in keys):
            continue
        ok = bool(holds(values))
        before = raw is not None and all(k in raw for k in keys) and not holds(raw)
        out.append(Check(name, ok, detail(values), corrected=ok and before))
    for name, parts, total in partial_sums(template, values.keys()):
        def bound(v: Values, parts: tuple[str, ...] = parts, total: str = total) -> bool:
            return sum(v[k] for k in parts) <= v[total]

        ok = bound(values)
        before = raw is not None and all(k in raw for k in (*parts, total)) and not bound(raw)
        detail = (f"{'+'.join(str(values[k]) for k in parts)} = "
                  f"{sum(values[k] for k in parts)} <= {total} = {values[total]}")
        out.append(Check(name, ok, detail, corrected=ok and before))
    return out
