"""A published tally is what the audit log last recorded (relay.published): `audit verify`
names every confirmed tally changed, swapped or withdrawn behind the application's back —
here as the app's own database role, with the totals rebuilt to match, so the chain is intact
and `results verify` finds no drift — and every approval the log does not show proposed by
another operator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bots import approvals, review
from relay import results
from relay.db import session_scope
from relay.models import Submission, TallyChange
from tests.support import converse

KPPS = "+6281234567801"  # TPS 3576011001001
PPS = "+6281234567809"  # every TPS of village 3576011001
OTHER_KPPS = "+6281234567802"  # TPS 3576011001002
FIRST = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
SECOND = "PPWP 3576011001001 01=121 02=95 03=40 SAH=256 TS=4"
ELSEWHERE = "PPWP 3576011001002 01=50 02=60 03=70 SAH=180 TS=2"


@pytest.fixture
def cli(demo: str):
    from webhooks import create_app

    return create_app().test_cli_runner()


def a_night_of_results() -> None:
    """Tallies confirmed by officers, one changed and one replaced with a second person's
    approval: every way a tally becomes or stays public."""
    converse(KPPS, FIRST)
    converse(KPPS, "YA")
    converse(PPS, SECOND)  # a conflict with the confirmed tally
    converse(OTHER_KPPS, ELSEWHERE)
    converse(OTHER_KPPS, "YA")
    with session_scope() as session:
        elsewhere = session.scalars(
            select(Submission).where(Submission.tps_code == "3576011001002")
        ).one()
        change = approvals.propose_change(
            session, "ani", elsewhere, {1: 50, 2: 60, 3: 69}, 179, 3, "foto C.Hasil"
        )
    with session_scope() as session:
        approvals.approve(session, "budi", "supervisor", change.id)
    with session_scope() as session:
        [item] = review.open_items(session)
        accept = approvals.propose_accept(session, "ani", item, "PPS membawa C.Hasil asli")
    with session_scope() as session:
        approvals.approve(session, "budi", "supervisor", accept.id)


def tally(session: Session, tps: str, status: str) -> Submission:
    return session.scalars(
        select(Submission).where(Submission.tps_code == tps, Submission.status == status)
    ).one()


def numbers_edited(session: Session) -> str:
    confirmed = tally(session, "3576011001002", "confirmed")
    confirmed.votes = {**confirmed.votes, "3": 79}
    confirmed.sah = 189
    return "differs from the record: votes 3 69 → 79, sah 179 → 189"


def sections_edited(session: Session) -> str:
    confirmed = tally(session, "3576011001002", "confirmed")
    confirmed.sections = {"DPT": 290}
    return "differs from the record: sections DPT None → 290"


def swapped(session: Session) -> str:
    """The tally the conflict replaced confirmed again in place of the accepted one."""
    accepted = tally(session, "3576011001001", "confirmed")
    replaced = session.scalars(
        select(Submission).where(Submission.reason == "replaced_by_operator")
    ).one()
    accepted.status = "superseded"
    session.flush()
    replaced.status = "confirmed"
    return f"{replaced.receipt_code} is confirmed, the record published tally #{accepted.id}"


def withdrawn(session: Session) -> str:
    confirmed = tally(session, "3576011001002", "confirmed")
    confirmed.status = "rejected"
    return f"the record published tally #{confirmed.id}, none is confirmed now"


@pytest.mark.parametrize("tamper", [numbers_edited, sections_edited, swapped, withdrawn])
def test_a_published_tally_changed_behind_the_records_back_is_named(
    cli, tamper: Callable[[Session], str]
) -> None:
    a_night_of_results()
    intact = cli.invoke(args=["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "published tallies: each as the log last recorded it" in intact.output
    with session_scope() as session:  # the app's own role may write submissions
        expected = tamper(session)
        results.rebuild(session)  # and make the totals agree
    assert cli.invoke(args=["results", "verify"]).exit_code == 0
    checked = cli.invoke(args=["audit", "verify"])
    assert checked.exit_code == 1, checked.output
    assert "audit log intact" in checked.output  # the chain itself was not touched
    [named] = [line for line in checked.output.splitlines() if "not on the record" in line]
    assert "PPWP TPS 35760110010" in named and expected in named, named


def test_a_confirmed_tally_the_record_never_published_is_named(cli) -> None:
    converse(KPPS, FIRST)  # pending: never confirmed by the officer
    with session_scope() as session:
        session.execute(update(Submission).values(status="confirmed"))
        results.rebuild(session)
    checked = cli.invoke(args=["audit", "verify"])
    assert checked.exit_code == 1, checked.output
    assert "PPWP TPS 3576011001001" in checked.output
    assert "the record never published a tally here" in checked.output


def test_training_tallies_are_never_held_to_the_record(cli) -> None:
    """The simulator's tallies are not published: not recorded so, not checked."""
    converse(KPPS, FIRST, channel="simulator")
    converse(KPPS, "YA", channel="simulator")
    with session_scope() as session:
        [training] = session.scalars(select(Submission)).all()
        assert (training.status, training.training) == ("confirmed", True)
        training.sah = 999
    assert cli.invoke(args=["audit", "verify"]).exit_code == 0


def test_an_approval_of_a_proposal_written_behind_the_records_back_is_named(cli) -> None:
    """A supervisor who can write `tally_changes` (the app's role can) files a proposal under
    a colleague's name and approves it: one person's change that would read as two."""
    a_night_of_results()  # real proposals and approvals: on the record
    with session_scope() as session:
        confirmed = tally(session, "3576011001002", "confirmed")
        forged = TallyChange(
            kind="change",
            submission_id=confirmed.id,
            before=approvals.values_of(confirmed),
            after=approvals.values({1: 40, 2: 70, 3: 69}, 179, 3),
            note="foto C.Hasil",
            status="pending",
            proposed_by="ani",
        )
        session.add(forged)
        session.flush()
        forged_id = forged.id
    with session_scope() as session:
        approvals.approve(session, "budi", "supervisor", forged_id)
    assert cli.invoke(args=["results", "verify"]).exit_code == 0
    checked = cli.invoke(args=["audit", "verify"])
    assert checked.exit_code == 1, checked.output
    assert "published tally not on the record" not in checked.output  # applied as approved
    [named] = [line for line in checked.output.splitlines() if "approval not on" in line]
    assert f"change #{forged_id} approved by operator:budi, never proposed" in named
