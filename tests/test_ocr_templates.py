"""Form templates: fields per contest, pages, versions, and the lookups the reader uses."""

from __future__ import annotations

import itertools

from ocr import layout
from ocr.templates import DbLookup, build_template, template_for
from relay.db import session_scope
from tests.ocr_support import REGISTERED, TPS, demo_templates

SECTIONS = ["DPT", "DPTB", "DPK", "JDPT", "PDPT", "PDPTB", "PDPK", "PHP", "DIS", "PDIS",
            "SSD", "SSR", "SSTD", "SS"]


def test_ppwp_is_the_whole_c_hasil_on_one_page_keyed_as_the_grammar() -> None:
    ppwp = demo_templates()["PPWP"]
    assert [f.key for f in ppwp.fields] == [*SECTIONS, "01", "02", "03", "SAH", "TS", "JSAHTS"]
    assert [f.ballot_number for f in ppwp.fields if f.ballot_number] == [1, 2, 3]
    assert ppwp.pages == 1 and {f.page for f in ppwp.fields} == {1}
    assert [f.slot for f in ppwp.fields] == list(range(20))
    assert ppwp.template_id == "CHASIL-PPWP"
    assert ppwp.candidate_keys == ("01", "02", "03")
    assert ppwp.get_field("SS").kind == "BALLOTS" and ppwp.get_field("PHP").kind == "VOTERS"


def dpr_dapil(parties: int = 18, per_party: int = 10):  # type: ignore[no-untyped-def]
    return build_template(
        "DPR", "DPR RI", [(n, f"Partai {n}") for n in range(1, parties + 1)],
        {n: [(k, f"Calon {n}.{k}") for k in range(1, per_party + 1)]
         for n in range(1, parties + 1)},
        dapil="JATIM-1",
    )


def test_a_dpr_form_with_candidates_runs_over_ten_pages_with_each_party_own_list_total() -> None:
    dpr = dpr_dapil()
    keys = [f.key for f in dpr.fields]
    assert keys[:14] == SECTIONS
    assert keys[14:27] == ["01", *[f"01.{k}" for k in range(1, 11)], "01.J", "02"]
    assert len(dpr.fields) == 14 + 18 * 12 + 3 and dpr.pages == 10
    assert dpr.candidate_keys == tuple(f"{n:02d}.J" for n in range(1, 19))
    assert dpr.party_blocks()[3] == ("03", tuple(f"03.{k}" for k in range(1, 11)), "03.J")
    assert [f.key for f in dpr.fields_on(dpr.pages)][-3:] == ["SAH", "TS", "JSAHTS"]
    spans = [p for p, (own, _c, total) in dpr.party_blocks().items()
             if dpr.get_field(own).page != dpr.get_field(total).page]  # type: ignore[arg-type]
    assert spans  # some party lists run over a page break
    assert dpr.get_field("01.3").candidate_number == 3 and dpr.dapil == "JATIM-1"
    assert dpr.version != dpr_dapil(per_party=9).version


def test_a_party_list_without_candidates_has_the_own_votes_only() -> None:
    dpr = demo_templates()["DPR"]
    quick = build_template("DPR", "DPR", [(1, "A"), (2, "B")], party_contest=True)
    assert [f.key for f in quick.fields][14:] == ["01", "02", "SAH", "TS", "JSAHTS"]
    assert quick.candidate_keys == ("01", "02") and quick.party_contest
    assert dpr.pages == 2 and dpr.fields[14 + 17].key == "24"


def test_the_totals_start_a_fresh_page_rather_than_split() -> None:
    big = build_template("DPRK", "DPRD", [(n, f"Partai {n}") for n in range(1, 9)])
    assert len(big.fields) == 14 + 8 + 3 and big.pages == 2
    assert {f.page for f in big.fields if f.kind in ("SAH", "TS", "JSAHTS")} == {2}
    assert [f.key for f in big.fields_on(2)] == ["SAH", "TS", "JSAHTS"]


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
        assert lookup.template("DPD") is None  # one list per province: a TPS's area
        assert lookup.template("DPD", TPS) == demo_templates()["DPD"]
        assert lookup.registered_voters(TPS) == REGISTERED
        assert lookup.registered_voters("3576011001999") is None
