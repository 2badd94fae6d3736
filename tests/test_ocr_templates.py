"""Form templates: fields per contest, pages, versions, and the lookups the reader uses."""

from __future__ import annotations

import itertools

from ocr import layout
from ocr.templates import DbLookup, build_template, template_for
from relay.db import session_scope
from tests.ocr_support import REGISTERED, TPS, demo_templates


def test_ppwp_has_a_field_per_ballot_number_then_the_totals_on_one_page() -> None:
    ppwp = demo_templates()["PPWP"]
    assert [f.key for f in ppwp.fields] == ["01", "02", "03", "SAH", "TS", "BALLOTS", "VOTERS"]
    assert [f.ballot_number for f in ppwp.fields[:3]] == [1, 2, 3]
    assert ppwp.pages == 1 and {f.page for f in ppwp.fields} == {1}
    assert [f.slot for f in ppwp.fields] == list(range(7))
    assert ppwp.template_id == "CHASIL-PPWP"
    assert ppwp.candidate_keys == ("01", "02", "03")


def test_dpr_with_eighteen_parties_fits_one_page_keeping_ballot_numbers() -> None:
    dpr = demo_templates()["DPR"]
    assert dpr.pages == 1
    assert dpr.fields[17].key == "24" and dpr.fields[17].ballot_number == 24
    assert len(dpr.fields) == 22 <= layout.FIELDS_PER_PAGE


def test_a_long_ballot_spills_onto_a_second_page_with_all_totals_together() -> None:
    big = build_template("DPRK", "DPRD", [(n, f"Partai {n}") for n in range(1, 24)])
    assert big.pages == 2
    totals = [f for f in big.fields if f.kind != "candidate"]
    assert {f.page for f in totals} == {2}
    assert [f.kind for f in big.fields_on(1)] == ["candidate"] * 23


def test_version_changes_with_the_candidate_list_and_not_with_names() -> None:
    base = build_template("PPWP", "Presiden", [(1, "A"), (2, "B")])
    assert build_template("PPWP", "Presiden", [(2, "Bee"), (1, "Ay")]).version == base.version
    assert build_template("PPWP", "Presiden", [(1, "A"), (2, "B"), (3, "C")]).version != (
        base.version
    )


def test_digit_geometry_keeps_boxes_apart_and_bubbles_under_their_box() -> None:
    for slot in range(layout.FIELDS_PER_PAGE):
        digits = layout.digit_geometry(slot)
        for left, right in itertools.pairwise(digits):
            assert right.box[0] - (left.box[0] + left.box[2]) >= 1.0  # ≥ 1 mm between boxes
        for d in digits:
            x, y, w, h = d.box
            assert all(x < cx < x + w and cy > y + h for cx, cy in d.bubbles)
        x, y, w, h = layout.block_rect(slot)
        assert y + h < layout.PAGE_H_MM - layout.MARKER_MARGIN_MM - layout.MARKER_MM


def test_template_for_and_db_lookup_read_the_election_from_the_database(demo: str) -> None:
    with session_scope(demo) as session:
        assert template_for(session, "ppwp") == demo_templates()["PPWP"]
        assert template_for(session, "NOPE") is None
        lookup = DbLookup(session)
        assert lookup.template("DPD") == demo_templates()["DPD"]
        assert lookup.registered_voters(TPS) == REGISTERED
        assert lookup.registered_voters("3576011001999") is None
