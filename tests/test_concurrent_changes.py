"""Operators changing one confirmed tally at the same moment never make the totals drift:
the change locks the tally row before it reads the old numbers, and `results verify`
compares every stored total with the sum of its confirmed tallies."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select, update

from bots import approvals, review
from relay import operators, results
from relay.db import session_scope
from relay.models import AuditEntry, Contest, ResultVote, Submission, TallyChange
from tests.live import Gunicorn, process_env
from tests.support import converse
from tests.web_support import PASSWORD

KPPS = "081234567801"  # TPS 3576011001001, 287 registered voters
TPS = "3576011001001"


def confirmed_tally() -> int:
    converse(KPPS, f"PPWP {TPS} 01=120 02=95 03=40 SAH=255 TS=5")
    converse(KPPS, "YA")
    with session_scope() as session:
        return session.scalars(select(Submission.id).where(Submission.status == "confirmed")).one()


def numbers(a: int) -> tuple[dict[int, int], int, int]:
    """A tally that passes the form's checks, different for every `a`."""
    return {1: a, 2: 95, 3: 40}, a + 135, 5


def in_parallel(tasks: list[Callable[[], object]]) -> list[object]:
    """Run `tasks` in threads released together by a barrier (the moment of the race)."""
    barrier = threading.Barrier(len(tasks))

    def run(task: Callable[[], object]) -> object:
        barrier.wait()
        return task()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(run, tasks))


def assert_totals_equal_the_tally(submission_id: int) -> None:
    with session_scope() as session:
        assert [str(d) for d in results.verify(session)] == []
        tally = session.get_one(Submission, submission_id)
        contest = session.get_one(Contest, "PPWP")
        for code in ["", *results.regions_of(TPS)]:
            area = results.area(session, contest, code, code)
            assert (area.tps_confirmed, area.sah, area.ts) == (1, tally.sah, tally.ts), code
            assert area.votes == tally.votes_by_ballot(), code


def test_concurrent_change_tally_calls_never_make_the_totals_drift(demo: str) -> None:
    """bots.review.change_tally from many threads, each with its own session and connection,
    exactly as the console calls it: load the tally, then change it."""
    submission_id = confirmed_tally()
    threads, rounds = 8, 8

    def change(a: int) -> Callable[[], bool]:
        def task() -> bool:
            with session_scope() as session:
                tally = session.get_one(Submission, submission_id)
                review.change_tally(
                    session, f"op{a % 2}", tally, *numbers(a), "C.Hasil foto", approved=True
                )
            return True

        return task

    for round_ in range(rounds):
        in_parallel([change(1 + t + threads * round_) for t in range(threads)])
    assert_totals_equal_the_tally(submission_id)
    with session_scope() as session:
        changes = session.scalar(select(func.count()).where(AuditEntry.action == "tally_changed"))
    assert changes == threads * rounds


def test_operators_and_supervisors_changing_one_tally_through_the_console_at_once(
    client, tmp_path: Path
) -> None:
    """Two operators (two browser sessions each) propose changes to one confirmed tally at
    the same moment, then two supervisors (two sessions each) approve the proposal at the
    same moment, fifteen times, against the running web process (gunicorn, four workers)."""
    submission_id = confirmed_tally()
    url = f"/console/submissions/{submission_id}"
    proposers, approvers = [], []
    for name, role, group in (
        ("ani", "operator", proposers),
        ("budi", "operator", proposers),
        ("sari", "supervisor", approvers),
        ("tono", "supervisor", approvers),
    ):
        with session_scope() as session:
            operator, _ = operators.add(session, name, role=role)
            operators.set_password(session, operator, PASSWORD)
        group.extend((name, requests.Session()) for _ in range(2))
    env = process_env(WEB_ACCESS_LOG="", WEB_CONCURRENCY="4")
    with open(tmp_path / "web.log", "wb") as log, Gunicorn(env, log=log) as web:
        tokens = {
            id(http): _login(web.url, http, name, url) for name, http in proposers + approvers
        }

        def propose(http: requests.Session, a: int) -> Callable[[], int]:
            votes, sah, ts = numbers(a)
            form = {f"v{n}": str(v) for n, v in votes.items()}
            form |= {"sah": str(sah), "ts": str(ts), "note": "foto C.Hasil"}
            form["csrf_token"] = tokens[id(http)]
            return lambda: http.post(
                web.url + url + "/change", data=form, allow_redirects=False, timeout=30
            ).status_code

        def approve(http: requests.Session, change_id: int) -> Callable[[], int]:
            form = {"csrf_token": tokens[id(http)], "note": "sesuai foto"}
            return lambda: http.post(
                f"{web.url}/console/approvals/{change_id}/approve",
                data=form,
                allow_redirects=False,
                timeout=30,
            ).status_code

        for round_ in range(15):
            codes = in_parallel(
                [propose(http, 1 + i + 4 * round_) for i, (_, http) in enumerate(proposers)]
            )
            assert codes == [302] * len(proposers)
            with session_scope() as session:  # one proposal per tally waits at a time
                [change_id] = session.scalars(
                    select(TallyChange.id).where(TallyChange.status == "pending")
                ).all()
            codes = in_parallel([approve(http, change_id) for _, http in approvers])
            assert codes == [302] * len(approvers)
    assert_totals_equal_the_tally(submission_id)
    with session_scope() as session:
        approved = session.scalar(select(func.count()).where(TallyChange.status == "approved"))
        changes = session.scalar(select(func.count()).where(AuditEntry.action == "tally_changed"))
    assert approved == changes == 15


def _login(base: str, http: requests.Session, name: str, page: str) -> str:
    form = http.get(base + "/console/login", timeout=10).text
    response = http.post(
        base + "/console/login",
        data={"name": name, "password": PASSWORD, "csrf_token": _csrf(form)},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    return _csrf(http.get(base + page, timeout=10).text)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token"
    return match.group(1)


def test_results_verify_reports_drift_and_rebuild_repairs_it(app_cli, demo: str) -> None:
    submission_id = confirmed_tally()
    assert app_cli.invoke(args=["results", "verify"]).exit_code == 0
    with session_scope() as session:  # a total edited behind the application's back
        session.execute(
            update(ResultVote)
            .where(ResultVote.region_code == "3576", ResultVote.ballot_number == 1)
            .values(votes=ResultVote.votes + 30)
        )
    checked = app_cli.invoke(args=["results", "verify"])
    assert checked.exit_code == 1
    assert "PPWP 3576 votes 01: expected 120, stored 150" in checked.output
    rebuilt = app_cli.invoke(args=["results", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert app_cli.invoke(args=["results", "verify"]).exit_code == 0
    assert_totals_equal_the_tally(submission_id)


@pytest.mark.parametrize("edit", ["tally", "timeline"])
def test_verify_names_every_kind_of_drift(demo: str, edit: str) -> None:
    from relay.models import ResultTimeline

    confirmed_tally()
    with session_scope() as session:
        if edit == "tally":  # the tally changed without its totals (e.g. a direct SQL edit)
            session.execute(update(Submission).values(sah=256, ts=4))
        else:
            session.execute(update(ResultTimeline).values(confirmed=ResultTimeline.confirmed + 1))
    with session_scope() as session:
        found = [str(d) for d in results.verify(session)]
    if edit == "tally":
        assert "PPWP 35 sah: expected 256, stored 255" in found
        assert "PPWP 3576011001 ts: expected 4, stored 5" in found
        assert len(found) == 8  # sah and ts in each of the four regions
    else:
        # the country's point and each of the four regions' (province … village)
        assert len(found) == 5 and found[0].startswith("PPWP - timeline "), found
        assert all(f.endswith("expected 1, stored 2") for f in found)
        assert any(f.startswith("PPWP 3576011001 timeline ") for f in found)


def test_concurrent_accepts_of_one_conflict_count_it_once(demo: str) -> None:
    """Operators accepting the same conflicting tally at once: one wins, the others are told
    it is no longer open, and the totals take the difference once."""
    confirmed_tally()
    senders = ["081234567809", KPPS]  # the village's PPS officer and the TPS's KPPS, in turn
    for round_ in range(4):
        votes, sah, ts = numbers(10 + round_)
        values = " ".join(f"{n:02d}={v}" for n, v in votes.items())
        converse(senders[round_ % 2], f"PPWP {TPS} {values} SAH={sah} TS={ts}")
        with session_scope() as session:
            [item] = [i for i in review.open_items(session) if i.kind == "conflict"]
            item_id = item.id

        outcomes = in_parallel([accepting(item_id, f"op{i}") for i in range(6)])
        assert sorted(outcomes) == ["accepted"] + ["refused"] * 5
        with session_scope() as session:
            current = session.scalars(
                select(Submission).where(Submission.status == "confirmed")
            ).one()
        assert (current.sah, current.ts) == (sah, ts)
        assert_totals_equal_the_tally(current.id)


def accepting(item_id: int, operator: str) -> Callable[[], str]:
    """A task: `operator` accepts review item `item_id` in a session of their own."""

    def task() -> str:
        try:
            with session_scope() as session:
                item = session.get_one(review.ReviewItem, item_id)
                review.accept(session, operator, item, "C.Hasil asli", approved=True)
            return "accepted"
        except review.ReviewError:
            return "refused"

    return task


def test_an_officer_confirming_while_an_operator_changes_the_pending_tally(demo: str) -> None:
    """`YA` and an operator's change of the same pending tally at the same moment, through
    the console's decision: the totals count the numbers the tally has in the end, whichever
    commits first. After the `YA` the change is only proposed, the officer's numbers stay;
    a `YA` sent before the change confirms nothing (it was for the old numbers); only one
    sent after the change confirms the new ones."""
    for round_ in range(10):
        votes, sah, ts = numbers(20 + round_)
        values = " ".join(f"{n:02d}={v}" for n, v in votes.items())
        converse(KPPS, f"PPWP {TPS} {values} SAH={sah} TS={ts}")
        with session_scope() as session:
            pending_id = session.scalars(
                select(Submission.id).where(Submission.status == "pending")
            ).one()

        def operator_change(pending_id: int = pending_id, a: int = 60 + round_) -> bool:
            with session_scope() as session:
                tally = session.get_one(Submission, pending_id)
                change, _ = approvals.change_or_propose(
                    session, "ani", tally, *numbers(a), "foto C.Hasil"
                )
                return change is not None

        _, proposed = in_parallel([lambda: converse(KPPS, "YA"), operator_change])
        with session_scope() as session:
            tally = session.get_one(Submission, pending_id)
        if proposed:
            assert (tally.status, tally.sah, tally.ts) == ("confirmed", sah, ts)
        elif tally.status == "pending":  # the YA was sent before the change
            assert (tally.sah, tally.ts) == numbers(60 + round_)[1:]
            with session_scope() as session:
                assert results.verify(session) == []
            converse(KPPS, "YA")
        with session_scope() as session:
            confirmed = session.get_one(Submission, pending_id)
        assert confirmed.status == "confirmed"
        assert_totals_equal_the_tally(confirmed.id)
        with session_scope() as session:  # the next round starts from an empty TPS
            confirmed = session.get_one(Submission, pending_id)
            confirmed.status = "superseded"
            results.rebuild(session)
