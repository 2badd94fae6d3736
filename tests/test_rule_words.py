"""Every rule code a review item can store (the typed tally's rules and warnings, the photo
reader's checks of the real forms, their bounds) reads as words in Indonesian and English, on
the operator console and the public TPS page, never as the code's own name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import select

from bots import review
from ocr import formrules
from ocr.templates import FormTemplate, build_template
from relay.db import session_scope
from relay.models import Submission
from tests.ocr_support import demo_templates
from tests.support import converse
from tests.web_support import logged_in
from web.rule_words import rule_words

ROOT = Path(__file__).resolve().parent.parent
TPS = "3576011001001"  # Sutrisno's TPS in the demo roster
HELD = ["party_03_total", "sum_equals_sah_at_least"]


def _tally_codes() -> set[str]:
    """Every code bots/tally_rules.py can fail with: the string first argument of each
    RuleFailure(...) in its source, so a new rule without words fails here."""
    tree = ast.parse((ROOT / "bots" / "tally_rules.py").read_text(encoding="utf-8"))
    codes = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "RuleFailure"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }
    assert {"sah_mismatch", "over_ballots", "dpt_unexpected", "ssd_unexpected"} <= codes
    return codes


def _dpr() -> FormTemplate:
    """The demo DPR with three candidates per party: every party has its total (NN.J)."""
    dpr = demo_templates()["DPR"]
    parties = sorted({(f.ballot_number, f.label) for f in dpr.fields if f.ballot_number})
    lists = {n: [(k, f"Calon {n}.{k}") for k in range(1, 4)] for n, _ in parties}
    return build_template("DPR", dpr.contest_name, parties, lists, dapil="TEST-1")


def _form_check_names() -> set[str]:
    """Every check ocr.formrules names for the PPWP and a DPR form: all rules with every field
    read, and the bounds of the sums read with a part missing."""
    names: set[str] = set()
    for template in (demo_templates()["PPWP"], _dpr()):
        keys = [f.key for f in template.fields]
        names |= {c.name for c in formrules.checks(dict.fromkeys(keys, 1), template, 300)}
        firsts = {template.candidate_keys[0]} | {
            own for own, _, total in template.party_blocks().values() if total
        }
        present = [k for k in keys if k not in firsts]
        names |= {name for name, _, _ in formrules.partial_sums(template, present)}
    assert {"party_03_total", "party_03_total_at_least", "sum_equals_sah_at_least",
            "within_available", "registered_total"} <= names
    return names


# Stored beside those: by jobs.photo (its own two) and, on a page, by ocr.reader.
OTHER_CODES = {"rules_of_the_form", "differs_from_typed", "qr_read", "printed_tps_matches_qr"}


@pytest.mark.parametrize("code", sorted(_tally_codes() | _form_check_names() | OTHER_CODES))
def test_every_stored_rule_has_words_in_both_languages(code: str) -> None:
    indonesian, english = rule_words(code, "id"), rule_words(code, "en")
    fallback = code.replace("_", " ")
    assert indonesian != fallback and english != fallback, code
    assert indonesian != english, code  # each language its own words
    assert "{" not in indonesian + english, code  # every pattern filled


def test_a_party_total_and_its_bound_name_the_party() -> None:
    assert rule_words("party_03_total", "id") == (
        "jumlah suara partai 03 (suara partai + calon) tidak sama dengan totalnya")
    assert rule_words("party_03_total", "en").startswith("party 03's votes")
    bound = rule_words("party_12_total_at_least", "id")
    assert "partai 12" in bound and "melebihi totalnya" in bound
    assert rule_words("party_12_total_at_least", "en") == (
        "the parts of party 12's votes read (not all of them) already exceed its total")


def test_a_code_not_known_yet_still_reads_as_words() -> None:
    assert rule_words("some_future_rule", "id") == "some future rule"
    assert rule_words("party_xx_total", "en") == "party xx total"


def _held_tally() -> int:
    """A typed PPWP tally of TPS, pending, with a failed_checks item on the rules `HELD`."""
    converse("081234567801", f"PPWP {TPS} 01=120 02=95 03=35 SAH=250 TS=5")
    with session_scope() as session:
        stored = session.scalars(select(Submission).where(Submission.tps_code == TPS)).one()
        item = review.open_item(session, "failed_checks", submission_id=stored.id,
                                detail={"rules": HELD})
        return item.id


def test_the_console_says_the_rules_of_a_review_item_in_words(client) -> None:
    item_id = _held_tally()
    ani = logged_in(client)
    page = ani.get(f"/console/review/{item_id}").get_data(as_text=True)
    assert ("Aturan formulir tidak terpenuhi: jumlah suara partai 03 (suara partai + calon) "
            "tidak sama dengan totalnya.") in page
    assert "suara yang terbaca (belum semua) sudah melebihi SAH" in page
    assert "party 03 total" not in page and "sum equals sah" not in page
    ani.set_cookie("lang", "en")
    english = ani.get(f"/console/review/{item_id}").get_data(as_text=True)
    assert ("A rule of the form fails: party 03&#39;s votes (party + candidates) do not add up to "
            "its total.") in english
    assert "the votes read (not all of them) already exceed SAH" in english


def test_the_public_tps_page_says_the_rules_in_words_beside_the_code(client) -> None:
    _held_tally()
    page = client.get(f"/tps/{TPS}").get_data(as_text=True)
    assert ("jumlah suara partai 03 (suara partai + calon) tidak sama dengan totalnya "
            "(<code>party_03_total</code>)") in page
    assert "suara yang terbaca (belum semua) sudah melebihi SAH" in page
    assert "<code>sum_equals_sah_at_least</code>" in page
    assert ">party 03 total (" not in page and "at least (" not in page
    english = client.get(f"/tps/{TPS}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "party 03&#39;s votes (party + candidates) do not add up to its total" in english
    assert "the votes read (not all of them) already exceed SAH" in english
