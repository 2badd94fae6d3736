"""A multi-page C.Hasil: a DPR form of 18 parties with their dapil's candidate lists, filled in
by hand, photographed page by page, every page read, and the pages assembled into one tally
whose sums across pages are checked; a missing page is named, not guessed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ocr import synth
from ocr.assemble import PageReading, assemble, page_ranges
from ocr.reader import read_photo
from ocr.render import TpsInfo
from ocr.templates import FormTemplate, StaticLookup, build_template
from tests.ocr_support import photographed_pages

TPS = TpsInfo("3576011001001", "TPS 001", 287)
SEED = 5


def dpr_form() -> FormTemplate:
    """18 parties, 8 to 10 candidates each in this dapil."""
    parties = [(n, f"Partai {n}") for n in range(1, 19)]
    lists = {n: [(k, f"Calon {n}.{k}") for k in range(1, 11 - (n % 3))] for n in range(1, 19)}
    return build_template("DPR", "DPR RI", parties, lists, dapil="JATIM-5")


@pytest.fixture(scope="module")
def dpr():  # type: ignore[no-untyped-def]
    template = dpr_form()
    values = synth.whole_form_values(template, TPS.registered_voters, np.random.default_rng(SEED))
    lookup = StaticLookup([template], {TPS.code: TPS.registered_voters})
    photos = photographed_pages(template, TPS, values, SEED)
    results = {page: read_photo(jpeg, lookup) for page, jpeg in photos.items()}
    return template, values, results


def test_the_dpr_form_takes_nine_pages_with_party_lists_running_over_page_breaks() -> None:
    template = dpr_form()
    assert len(template.fields) == 14 + sum(2 + 10 - n % 3 for n in range(1, 19)) + 3
    assert template.pages == 9
    assert _spanning(template)


def test_every_page_is_read_with_its_identity_and_page_number(dpr) -> None:  # type: ignore[no-untyped-def]
    template, values, results = dpr
    for page, result in results.items():
        assert result.ok, (page, result.error)
        assert (result.contest, result.tps_code, result.page, result.pages) == (
            "DPR", TPS.code, page, 9)
        assert result.values() == {
            f.key: values[f.key] for f in template.fields_on(page)
        }, page
        # A page checks only what it holds: the sum of the party totals is not on any one page.
        assert "sum_equals_sah" not in {c.name for c in result.checks}
        assert all(c.ok for c in result.checks)


def test_the_pages_assemble_into_one_tally_checked_across_pages(dpr) -> None:  # type: ignore[no-untyped-def]
    template, values, results = dpr
    pages = {p: PageReading.from_result(r) for p, r in results.items()}
    form = assemble(template, pages, TPS.registered_voters)
    assert form.complete and form.values == values
    names = {c.name for c in form.checks}
    assert {"sum_equals_sah", "sah_plus_ts_equals_ballots", "ballots_equal_voters",
            "voters_by_list", "ballots_received", "within_available"} <= names
    assert {f"party_{p:02d}_total" for p in _spanning(template)} <= names
    assert all(c.ok for c in form.checks), form.failed
    # What the tally says, in the grammar's terms.
    assert form.votes == {n: values[f"{n:02d}"] for n in range(1, 19)}
    assert len(form.candidate_votes) == sum(10 - n % 3 for n in range(1, 19))
    assert form.candidate_votes[(4, 3)] == values["04.3"]
    assert form.sections == {k: values[k] for k in (
        "DPT", "DPTB", "DPK", "PDPT", "PDPTB", "PDPK", "PHP", "DIS", "PDIS",
        "SSD", "SSR", "SSTD", "SS")}
    totals = {n: form.votes[n] + sum(v for (p, _k), v in form.candidate_votes.items() if p == n)
              for n in range(1, 19)}
    assert sum(totals.values()) == form.sah == values["SAH"]
    assert form.ts == values["TS"]


def test_a_party_total_wrong_across_a_page_break_fails_by_name(dpr) -> None:  # type: ignore[no-untyped-def]
    template, _values, results = dpr
    pages = {p: PageReading.from_result(r) for p, r in results.items()}
    party = _spanning(template)[0]
    first_candidate = template.party_blocks()[party][1][0]
    page = template.get_field(first_candidate).page
    changed = {**pages[page].values, first_candidate: pages[page].values[first_candidate] + 7}
    pages[page] = dataclasses.replace(pages[page], values=changed)
    form = assemble(template, pages, TPS.registered_voters)
    failed = {c.name: c.detail for c in form.failed}
    assert set(failed) == {f"party_{party:02d}_total"}
    assert f"{party:02d}.J = " in failed[f"party_{party:02d}_total"]


def test_a_missing_page_is_named_and_the_sums_wait_for_it(dpr) -> None:  # type: ignore[no-untyped-def]
    template, _values, results = dpr
    pages = {p: PageReading.from_result(r) for p, r in results.items() if p not in (3, 4, 7)}
    form = assemble(template, pages, TPS.registered_voters)
    assert not form.complete and form.missing == (3, 4, 7)
    assert page_ranges(form.missing) == "3-4, 7"
    assert "sum_equals_sah" not in {c.name for c in form.checks}
    assert all(c.ok for c in form.checks)


def test_a_page_read_again_replaces_the_earlier_reading(dpr) -> None:  # type: ignore[no-untyped-def]
    template, values, results = dpr
    pages = {p: PageReading.from_result(r) for p, r in results.items()}
    wrong = dataclasses.replace(pages[2], values={k: 0 for k in pages[2].values})
    assert assemble(template, {**pages, 2: wrong}, 287).values != values
    assert assemble(template, {**pages, 2: pages[2]}, 287).values == values


def test_a_page_reading_survives_its_json_form(dpr) -> None:  # type: ignore[no-untyped-def]
    _template, _values, results = dpr
    reading = PageReading.from_result(results[1])
    assert PageReading.from_json(reading.to_json()) == reading
    assert PageReading.from_json(reading.to_json()).doubts == reading.doubts


def _spanning(template: FormTemplate) -> list[int]:
    """Parties whose list runs over a page break."""
    return [
        party for party, (own, _c, total) in template.party_blocks().items()
        if total and template.get_field(own).page != template.get_field(total).page
    ]
