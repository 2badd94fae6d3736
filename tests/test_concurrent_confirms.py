"""Two officers of one TPS (its KPPS and the village's PPS) sending different tallies at the
same moment and then answering `YA` at the same moment: whatever the interleaving, one tally
waits for `YA` (the TPS row is locked before its tallies are read), and one tally is the
confirmed one and the totals count the TPS once (`uq_submissions_confirmed`, and
`bots.tallies._confirm` turning the loser into a conflict). Two pending tallies, which a race
left before the TPS was locked (and a database written then may still hold), are made here
directly for the confirmations' race. A turn that loses a race may fail, as a worker's job
does; RQ runs it again, which `again` stands for here."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select, update

from relay import results
from relay.db import session_scope
from relay.models import Submission
from tests.support import converse
from tests.test_concurrent_changes import TPS, assert_totals_equal_the_tally, in_parallel

KPPS = "081234567801"  # TPS 3576011001001
PPS = "081234567809"  # every TPS of its village


def test_two_officers_confirming_different_tallies_at_once_count_the_tps_once(demo: str) -> None:
    for round_ in range(8):
        kpps = f"PPWP {TPS} 01={100 + round_} 02=95 03=40 SAH={235 + round_} TS=5"
        pps = f"PPWP {TPS} 01={150 + round_} 02=95 03=40 SAH={285 + round_} TS=0"
        in_parallel([again(KPPS, kpps), again(PPS, pps)])
        with session_scope() as session:
            pending = session.scalars(
                select(Submission.id).where(Submission.status == "pending")
            ).all()
            assert len(pending) == 1, f"round {round_}: {len(pending)} tallies wait for YA"
            replaced = session.scalar(  # back to pending: one tally of each officer waits
                select(func.max(Submission.id)).where(Submission.status == "superseded")
            )
            session.execute(
                update(Submission).where(Submission.id == replaced).values(status="pending")
            )

        in_parallel([again(KPPS, "YA"), again(PPS, "YA")])
        with session_scope() as session:
            confirmed = session.scalars(
                select(Submission).where(Submission.status == "confirmed")
            ).all()
            assert len(confirmed) == 1, [(s.receipt_code, s.sah) for s in confirmed]
        assert_totals_equal_the_tally(confirmed[0].id)
        with session_scope() as session:  # the next round starts from an empty TPS
            session.get_one(Submission, confirmed[0].id).status = "superseded"
            results.rebuild(session)


def again(sender: str, text: str) -> Callable[[], str]:
    """A task: the message through the conversation, once more if the first turn failed."""

    def task() -> str:
        try:
            return str(converse(sender, text))
        except Exception:  # a lost race: the job fails and RQ retries it
            return str(converse(sender, text))

    return task
