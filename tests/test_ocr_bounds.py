"""A sum whose total a page holds with only some of its parts (a party's list cut by a page
break): the parts read cannot exceed the total, and when they do, the page says so: the rule is
named and its fields flagged, unless the fields already in doubt account for it."""

from __future__ import annotations

import numpy as np

from ocr import formrules, fusion, pagedecode, reader
from ocr.templates import FormTemplate, build_template
from tests.ocr_support import demo_templates
from tests.test_ocr_decoding import _fills, _writing


def _dpr() -> FormTemplate:
    """The demo DPR with a list of 8-10 candidates per party: nine pages, lists cut by page
    breaks (as bench/ocr.py prints it)."""
    dpr = demo_templates()["DPR"]
    parties = sorted({(f.ballot_number, f.label) for f in dpr.fields if f.ballot_number})
    lists = {n: [(k, f"Calon {n}.{k}") for k in range(1, 11 - (n % 3))] for n, _ in parties}
    return build_template("DPR", dpr.contest_name, parties, lists, dapil="BENCH-1")


def _cut_block(template: FormTemplate) -> tuple[int, tuple[str, ...], str]:
    """A page holding a party's candidates and total but not its own votes."""
    for own, cands, total in template.party_blocks().values():
        page = template.get_field(total).page  # type: ignore[arg-type]
        if template.get_field(own).page != page and all(
                template.get_field(k).page == page for k in cands):
            return page, cands, total  # type: ignore[return-value]
    raise AssertionError("no party list cut by a page break")


def _read(template: FormTemplate, page: int, values: dict[str, int],
          written: dict[str, np.ndarray], bubbles: dict[str, str]
          ) -> dict[str, reader.FieldReading]:
    """The page read from hand-made probabilities, flagged and settled as read_photo does:
    both readings of every digit agree at 0.98 unless `written` / `bubbles` say otherwise."""
    fields = template.fields_on(page)
    w_rows, b_rows = [], []
    for f in fields:
        text = f"{values[f.key]:>3}".replace(" ", "X")
        w_rows.append(written.get(f.key, _writing(text, 0.98)))
        b_rows.append(_fills(bubbles.get(f.key, text.replace("X", "-"))))
    writing = np.stack(w_rows)
    marked = fusion.bubble_probabilities(np.stack(b_rows))
    fused = fusion.fuse(writing, marked)
    lps = fusion.number_log_probs(fused)
    choices = fusion.supported_log_probs(fused, lps)
    decoded = pagedecode.decode(choices, fields, template, 300)
    readings = reader._flag(fields, decoded, lps, writing, marked, fused)
    readings = reader._settle(readings, decoded, choices, lps)
    readings = reader._over_total(readings, template, choices)
    return {r.key: r for r in readings}


def _page() -> tuple[FormTemplate, int, dict[str, int], tuple[str, ...], str]:
    template = _dpr()
    page, cands, total = _cut_block(template)
    values = {f.key: 0 for f in template.fields_on(page)}
    values.update({cands[2]: 5, cands[7]: 2, cands[8]: 2, total: 9})  # own votes 0, elsewhere
    return template, page, values, cands, total


def test_a_total_read_below_the_parts_on_its_page_is_flagged_and_the_rule_named() -> None:
    # bench, bubble ≠ digit, seed 9: the party's total written 9, its units bubble slipped to
    # 2; the handwriting's 9 misread as 2 at 0.54 (9 at 0.06). Both readings "agree": 2 at
    # 0.99, and no sum on the page held the total, so 2 went out unflagged. Its candidates on
    # the page add up to 9.
    template, page, values, cands, total = _page()
    nine = _writing("XX9", 0.98)
    nine[2] = [0.123, 0.027, 0.539, 0.221, 0.0, 0.002, 0.0, 0.026, 0.0, 0.061, 0.0, 0.001]
    got = _read(template, page, values, {total: nine}, {total: "--2"})
    assert got[total].value == 2 and got[total].confidence > reader.CONFIDENT
    assert got[total].uncertain and "inconsistent" in got[total].reasons, got[total]
    assert all(got[k].uncertain for k in cands)  # which member is wrong, no sum on the page says
    read = {k: r.value for k, r in got.items() if r.given}
    failing = [(c.name, c.detail) for c in formrules.checks(read, template, 300) if not c.ok]
    party = template.get_field(total).ballot_number
    assert failing == [(f"party_{party:02d}_total_at_least",
                        f"{'+'.join(str(read[k]) for k in cands)} = 9 <= {total} = 2")]


def test_parts_that_fit_their_total_flag_nothing() -> None:
    template, page, values, _, _ = _page()
    got = _read(template, page, values, {}, {})
    assert not any(r.uncertain for r in got.values())
    read = {k: r.value for k, r in got.items() if r.given}
    assert all(c.ok for c in formrules.checks(read, template, 300))


def test_a_part_already_in_doubt_that_accounts_for_the_excess_leaves_the_rest_unflagged() -> None:
    # A candidate's 0 written "XX0" with its bubbles forgotten, the units read 6 at 0.5 (0 at
    # 0.3): flagged for its own doubt, and 0, a reading it is supported in, makes the parts fit
    # the total again: the officer looks at that field; the others stay as read.
    template, page, values, cands, total = _page()
    unsure = _writing("XX0", 0.98)
    unsure[2] = 0.2 / 10
    unsure[2, 6], unsure[2, 0] = 0.5, 0.3
    got = _read(template, page, values, {cands[0]: unsure}, {cands[0]: "---"})
    assert got[cands[0]].value == 6 and got[cands[0]].uncertain
    assert not got[total].uncertain and "inconsistent" not in got[total].reasons
    assert not any(got[k].uncertain for k in cands[1:])


def test_the_bound_is_checked_only_where_some_parts_are_missing() -> None:
    template = _dpr()
    party, (own, cands, total) = next(iter(template.party_blocks().items()))
    assert total is not None
    values = {own: 3, **{k: 1 for k in cands}, total: 2}
    names = {c.name for c in formrules.checks(values, template, None)}
    assert f"party_{party:02d}_total" in names and f"party_{party:02d}_total_at_least" not in names
    del values[own]
    bound = [c for c in formrules.checks(values, template, None)
             if c.name == f"party_{party:02d}_total_at_least"]
    assert [c.ok for c in bound] == [len(cands) <= 2]
