"""The election catalogue each process keeps in memory (relay.catalogue) is never served
stale: a reloaded election file, emptied tables loaded with another election, or a fixture
writing contests directly are each seen by the next transaction, because triggers change
the catalogue stamp in the writer's transaction (migration 0017)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import event

from relay import catalogue
from relay.db import get_engine, session_scope
from relay.loaders.election import load_election
from tests.chasil_support import set_contest
from tests.conftest import _empty_all_tables
from tests.support import ROOT, ThrowawayDatabase, converse

KPPS = "081234567801"  # kpps of TPS 3576011001001 in the demo roster
THREE = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
FOUR = "PPWP 3576011001001 01=100 02=95 03=40 04=20 SAH=255 TS=5"
TAKEN = "TPS 3576011001001: 01=100 02=95 03=40 04=20 SAH=255 TS=5. Kode"  # stored, pending


def four_pairs(tmp_path: Path) -> Path:
    """The demo election with a fourth PPWP pair (its companion files copied along)."""
    folder = tmp_path / "election"
    shutil.copytree(ROOT / "demo", folder)
    path = folder / "election.yaml"
    source = path.read_text(encoding="utf-8")
    third = (
        '      - {number: 3, name: "H. Ganjar Pranowo, S.H., M.I.P. - Prof. Dr. H. M. Mahfud MD"}\n'
    )
    path.write_text(
        source.replace(third, third + '      - {number: 4, name: "Pasangan Keempat"}\n', 1),
        encoding="utf-8",
    )
    return path


def test_a_reloaded_election_file_is_seen_by_the_next_turn(demo: str, tmp_path: Path) -> None:
    assert "Diterima" in converse(KPPS, THREE).text  # the catalogue is now kept
    refused = converse(KPPS, FOUR).text
    assert "Diterima" not in refused, refused  # no pair 04 yet
    report = load_election(four_pairs(tmp_path))
    assert not report.errors, report.errors
    reply = converse(KPPS, FOUR).text
    assert TAKEN in reply, reply


def test_emptied_tables_loaded_with_another_election_are_not_served_from_memory(
    demo: str, database_urls: ThrowawayDatabase, tmp_path: Path
) -> None:
    """What the tests do between two tests, and a forked work horse inherits: memory read
    under the old data, the database emptied and loaded again."""
    assert "Diterima" in converse(KPPS, THREE).text
    with session_scope() as session:
        before = catalogue.current(session)
    assert before.token is not None and before.contests["PPWP"].numbers == (1, 2, 3)
    _empty_all_tables(database_urls.owner_url)
    with session_scope() as session:
        emptied = catalogue.current(session)
    # no stamp (nothing kept), or the deletions' own: never the old catalogue
    assert emptied.token != before.token and emptied.codes == ()
    load_election(four_pairs(tmp_path))
    load_demo_rest(demo)
    reply = converse(KPPS, FOUR).text
    assert TAKEN in reply, reply


def load_demo_rest(url: str) -> None:
    """The demo's regions and roster (its election file already loaded, changed)."""
    from relay.loaders.regions import load_regions
    from relay.loaders.roster import import_roster

    for report in (
        load_regions(ROOT / "demo" / "regions.csv", url),
        import_roster(ROOT / "demo" / "roster.csv", url),
    ):
        assert not report.errors, report.errors


def test_the_catalogue_is_kept_while_nothing_changes_and_dropped_on_any_write(
    demo: str,
) -> None:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    with session_scope() as session:
        first = catalogue.current(session)
    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        with session_scope() as session:
            again = catalogue.current(session)
            ballot = again.ballot(session, "PPWP", "3576011001001")
        assert again is first and ballot is not None and ballot.numbers == (1, 2, 3)
        assert len(statements) == 1 and "catalogue_stamp" in statements[0]  # the stamp only
        # A writer that is no loader (a script, a fixture): the triggers catch it too.
        set_contest("PPWP", [1, 2, 3, 4])
        statements.clear()
        with session_scope() as session:
            changed = catalogue.current(session)
            ballot = changed.ballot(session, "PPWP", "3576011001001")
        assert changed is not first and ballot is not None and ballot.numbers == (1, 2, 3, 4)
        assert len(statements) > 1  # read again
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize("contest, tps", [("DPR", "3576011001001"), ("DPD", "3576011001001")])
def test_a_kept_ballot_equals_one_read_from_the_database(demo: str, contest: str, tps: str) -> None:
    """Dapil and area lists come out of memory exactly as relay.ballots reads them."""
    from relay.ballots import ballot_for
    from relay.models import Contest

    with session_scope() as session:
        kept = catalogue.current(session).ballot(session, contest, tps)
    with session_scope() as session:
        again = catalogue.current(session).ballot(session, contest, tps)
        fresh = ballot_for(session, session.get_one(Contest, contest), tps)
    assert kept is again and kept == fresh and fresh is not None
    assert (kept.names, kept.party_candidates, kept.candidate_names) == (
        fresh.names,
        fresh.party_candidates,
        fresh.candidate_names,
    )


def test_the_photo_template_follows_a_reloaded_election(demo: str, tmp_path: Path) -> None:
    """The form templates photos are read with are kept per process as the catalogue is
    (ocr.templates.template_for): a reloaded election file gives the next reading its new
    form, a fourth pair's box included."""
    from ocr.templates import template_for

    tps = "3576011001001"
    with session_scope() as session:
        before = template_for(session, "PPWP", tps)
        assert template_for(session, "PPWP", tps) is before  # kept
    assert before is not None and "04" not in {f.key for f in before.fields}
    report = load_election(four_pairs(tmp_path))
    assert not report.errors, report.errors
    with session_scope() as session:
        after = template_for(session, "PPWP", tps)
    assert after is not None and "04" in {f.key for f in after.fields}
    assert after.version != before.version
