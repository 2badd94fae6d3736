"""Changing a confirmed tally takes two people: one operator proposes, a different supervisor
or admin approves (then the tally and the totals change) or rejects; every step is audited
with the operator's name. Deactivated operators are out at once, and stay out."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from bots import approvals, review
from bots.review import ReviewError
from relay import operators
from relay.db import get_engine, session_scope
from relay.models import AuditEntry, OperatorSession, ReviewItem, Submission, TallyChange, Ticket
from tests.race_support import race_against
from tests.support import converse, drain
from tests.test_concurrent_decisions import stored, turn
from tests.test_console_review import (
    FIRST,
    KPPS,
    PPS,
    SECOND,
    item_id_in,
    national,
    sms,
    texts_to,
)
from tests.web_support import PASSWORD, login, make_operator, post_form

NEW_NUMBERS = {"v1": "100", "v2": "95", "v3": "40", "sah": "235", "ts": "5"}
CHANGED = ({1: 100, 2: 95, 3: 40}, 235, 5)


def operator_client(app, name: str, role: str = "operator"):
    """A browser of its own, logged in as a new operator `name` with `role`."""
    make_operator(name)
    if role != "operator":
        with session_scope() as session:
            operators.set_role(session, name, role)
    browser = app.test_client()
    assert login(browser, name).status_code == 302
    return browser


def confirmed_tally(client, redis_conn) -> Submission:
    sms(client, redis_conn, KPPS, FIRST, "YA")
    with session_scope() as session:
        return session.scalars(select(Submission).where(Submission.status == "confirmed")).one()


def changes() -> list[TallyChange]:
    with session_scope() as session:
        return list(session.scalars(select(TallyChange).order_by(TallyChange.id)))


def audit(*actions: str) -> list[AuditEntry]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.id)
            )
        )


def decide(browser, change_id: int, decision: str, note: str = "cek C.Hasil"):
    return post_form(
        browser, f"/console/approvals/{change_id}/{decision}", {"note": note}, "/console/approvals"
    )


def test_a_change_to_a_confirmed_tally_waits_for_a_second_person(client, redis_conn) -> None:
    submission = confirmed_tally(client, redis_conn)
    ani = operator_client(client.application, "ani")
    url = f"/console/submissions/{submission.id}"
    proposed = post_form(ani, f"{url}/change", {**NEW_NUMBERS, "note": "foto C.Hasil"}, url)
    assert proposed.headers["Location"] == "/console/approvals"
    drain(redis_conn)
    # Nothing public has changed, nobody was told anything yet.
    assert national().votes[1] == 120
    with session_scope() as session:
        assert session.get_one(Submission, submission.id).sah == 255
    assert "Help desk mengubah" not in " ".join(texts_to(KPPS))
    [change] = changes()
    assert (change.status, change.proposed_by, change.kind) == ("pending", "ani", "change")
    [entry] = audit("change_proposed")
    assert entry.actor == "operator:ani" and entry.entity_id == str(submission.id)
    assert entry.detail["before"]["sah"] == 255 and entry.detail["after"]["sah"] == 235
    page = ani.get("/console/approvals").get_data(as_text=True)
    assert "01=100 02=95 03=40 SAH=235 TS=5" in page and f'id="approve-{change.id}"' not in page

    # An operator without the role, and the proposer even as a supervisor, cannot approve.
    dewi = operator_client(client.application, "dewi")
    decide(dewi, change.id, "approve")
    with session_scope() as session:
        operators.set_role(session, "ani", "supervisor")
    decide(ani, change.id, "approve")
    assert changes()[0].status == "pending" and national().votes[1] == 120
    assert audit("tally_changed", "change_approved") == []

    budi = operator_client(client.application, "budi", "supervisor")
    assert f'id="approve-{change.id}"' in budi.get("/console/approvals").get_data(as_text=True)
    decide(budi, change.id, "approve", "sesuai foto")
    drain(redis_conn)
    area = national()
    assert (area.votes[1], area.sah) == (100, 235)
    with session_scope() as session:
        changed = session.get_one(Submission, submission.id)
    assert (changed.status, changed.sah, changed.reason) == (
        "confirmed",
        235,
        "changed_by_operator",
    )
    [applied] = audit("tally_changed")
    [approved] = audit("change_approved")
    assert applied.actor == "operator:budi" and "ani" in applied.detail["note"]
    assert approved.actor == "operator:budi"
    assert (approved.detail["proposed_by"], approved.detail["approved_by"]) == ("ani", "budi")
    assert approved.detail["before"]["votes"]["01"] == 120
    assert approved.detail["after"]["votes"]["01"] == 100
    assert changes()[0].status == "approved" and changes()[0].decided_by == "budi"
    assert texts_to(KPPS)[-1].startswith("Help desk mengubah PPWP TPS 3576011001001")
    # Decided once: a second approval changes nothing.
    decide(budi, change.id, "approve")
    assert len(audit("tally_changed")) == 1


def test_accepting_a_conflict_in_place_of_a_confirmed_tally_needs_approval(
    client, redis_conn
) -> None:
    sms(client, redis_conn, KPPS, FIRST, "YA")
    sms(client, redis_conn, PPS, SECOND)
    ani = operator_client(client.application, "ani")
    item_id = item_id_in(ani.get("/console/review").get_data(as_text=True))
    page = ani.get(f"/console/review/{item_id}").get_data(as_text=True)
    assert "berlaku setelah disetujui supervisor lain" in page
    response = post_form(
        ani, f"/console/review/{item_id}/accept", {"note": "PPS membawa C.Hasil asli"}
    )
    assert response.headers["Location"] == "/console/approvals"
    assert national().votes[1] == 120
    with session_scope() as session:
        assert session.get_one(ReviewItem, item_id).status == "open"
    # One proposal at a time for a tally.
    post_form(ani, f"/console/review/{item_id}/accept", {"note": "lagi"})
    [change] = changes()
    assert change.kind == "accept" and change.review_item_id == item_id

    citra = operator_client(client.application, "citra", "admin")
    decide(citra, change.id, "approve")
    drain(redis_conn)
    area = national()
    assert (area.tps_confirmed, area.votes[1], area.sah, area.ts) == (1, 121, 256, 4)
    [accepted] = audit("conflict_accepted")
    assert accepted.actor == "operator:citra"
    [approved] = audit("change_approved")
    assert approved.detail["proposed_by"] == "ani" and approved.detail["kind"] == "accept"
    with session_scope() as session:
        item = session.get_one(ReviewItem, item_id)
    assert (item.status, item.resolution, item.resolved_by) == (
        "resolved",
        "accepted",
        "operator:citra",
    )
    assert texts_to(PPS)[-1].startswith("Help desk memakai data Anda PPWP TPS")


def test_rejected_withdrawn_and_stale_proposals_change_nothing(client, redis_conn) -> None:
    submission = confirmed_tally(client, redis_conn)
    sms(client, redis_conn, PPS, SECOND)
    ani = operator_client(client.application, "ani")
    budi = operator_client(client.application, "budi", "supervisor")
    url = f"/console/submissions/{submission.id}"

    post_form(ani, f"{url}/change", {**NEW_NUMBERS, "note": "salah ketik"}, url)
    decide(budi, changes()[0].id, "reject", "C.Hasil berkata lain")
    post_form(ani, f"{url}/change", {**NEW_NUMBERS, "note": "salah ketik (2)"}, url)
    decide(ani, changes()[1].id, "reject", "saya salah")
    assert [c.status for c in changes()] == ["rejected", "withdrawn"]
    assert [e.actor for e in audit("change_rejected", "change_withdrawn")] == [
        "operator:budi",
        "operator:ani",
    ]

    # Two proposals on one TPS: once one is applied, the other would overwrite what the
    # approver never saw, so it is refused as stale.
    post_form(ani, f"{url}/change", {**NEW_NUMBERS, "note": "versi ani"}, url)
    item_id = item_id_in(ani.get("/console/review").get_data(as_text=True))
    post_form(budi, f"/console/review/{item_id}/accept", {"note": "versi PPS"})
    by_ani, by_budi = changes()[2:]
    citra = operator_client(client.application, "citra", "admin")
    decide(citra, by_budi.id, "approve")
    stale = decide(citra, by_ani.id, "approve")
    assert stale.status_code == 302
    refusal = citra.get("/console/approvals").get_data(as_text=True)
    assert "changed since this was proposed" in refusal
    assert "changed since this was proposed" in refusal
    assert [c.status for c in changes()[2:]] == ["pending", "approved"]
    area = national()
    assert (area.tps_confirmed, area.votes[1], area.sah) == (1, 121, 256)
    assert len(audit("tally_changed")) == 0


def test_a_pending_tally_is_still_corrected_by_one_operator(client, redis_conn) -> None:
    sms(client, redis_conn, KPPS, FIRST)  # not confirmed: not public yet
    with session_scope() as session:
        submission = session.scalars(select(Submission)).one()
    ani = operator_client(client.application, "ani")
    url = f"/console/submissions/{submission.id}"
    post_form(ani, f"{url}/change", {**NEW_NUMBERS, "note": "foto C.Hasil"}, url)
    assert changes() == []
    with session_scope() as session:
        assert session.get_one(Submission, submission.id).sah == 235
    assert [e.actor for e in audit("tally_changed")] == ["operator:ani"]


def test_every_console_action_names_the_operator_in_the_audit(client, redis_conn) -> None:
    submission = confirmed_tally(client, redis_conn)
    sms(client, redis_conn, KPPS, "BANTUAN kotak suara rusak", "0")
    sms(client, redis_conn, PPS, SECOND)
    ani = operator_client(client.application, "ani")
    budi = operator_client(client.application, "budi", "supervisor")
    with session_scope() as session:
        first_audit = max(session.scalars(select(AuditEntry.id)))
        ticket_id = session.scalars(select(Ticket.id)).first()
    ticket = f"/console/tickets/{ticket_id}"
    post_form(ani, f"{ticket}/reply", {"body": "kami cek"}, ticket)
    post_form(ani, f"{ticket}/status", {"status": "closed"}, ticket)
    item_id = item_id_in(ani.get("/console/review").get_data(as_text=True))
    post_form(ani, f"/console/review/{item_id}/dismiss", {"note": "angka lama benar"})
    url = f"/console/submissions/{submission.id}"
    post_form(ani, f"{url}/change", {**NEW_NUMBERS, "note": "foto"}, url)
    decide(budi, changes()[0].id, "approve")
    drain(redis_conn)
    with session_scope() as session:
        console_entries = session.scalars(
            select(AuditEntry).where(AuditEntry.id > first_audit, AuditEntry.action != "login")
        ).all()
    actions = {(e.action, e.actor) for e in console_entries}
    assert {
        ("ticket_replied", "operator:ani"),
        ("ticket_closed", "operator:ani"),
        ("review_dismissed", "operator:ani"),
        ("change_proposed", "operator:ani"),
        ("tally_changed", "operator:budi"),
        ("change_approved", "operator:budi"),
    } <= actions
    assert all(e.actor.startswith("operator:") for e in console_entries), actions


def test_a_deactivated_operator_is_out_at_once_and_a_reset_does_not_revive_them(
    client, app_cli
) -> None:
    ani = operator_client(client.application, "ani")
    assert ani.get("/console/").status_code == 200
    result = app_cli.invoke(args=["operators", "deactivate", "ani"])
    assert result.exit_code == 0, result.output
    # The open session ends now, not at its expiry.
    assert ani.get("/console/").status_code == 302
    with session_scope() as session:
        assert session.scalars(select(OperatorSession)).all() == []
    assert login(client.application.test_client(), "ani", PASSWORD).status_code == 401
    reset = app_cli.invoke(args=["operators", "reset", "ani"])
    assert reset.exit_code == 1 and "deactivated" in reset.output
    assert login(client.application.test_client(), "ani", PASSWORD).status_code == 401
    assert "ani\tdeactivated\toperator" in app_cli.invoke(args=["operators", "list"]).output
    assert [e.actor for e in audit("operator_deactivated")] == ["cli"]
    # Only a deliberate `activate` brings the account back.
    assert app_cli.invoke(args=["operators", "activate", "ani"]).exit_code == 0
    assert login(client.application.test_client(), "ani", PASSWORD).status_code == 302


def test_roles_are_given_on_the_command_line_and_listed_for_admins(client, app_cli) -> None:
    added = app_cli.invoke(args=["operators", "add", "budi", "--role", "supervisor"])
    assert added.exit_code == 0, added.output
    assert app_cli.invoke(args=["operators", "add", "x", "--role", "boss"]).exit_code != 0
    assert app_cli.invoke(args=["operators", "role", "budi", "admin"]).exit_code == 0
    assert app_cli.invoke(args=["operators", "role", "nobody", "admin"]).exit_code == 1
    assert "budi\tactive\tadmin" in app_cli.invoke(args=["operators", "list"]).output
    [entry] = audit("operator_role_set")
    assert entry.detail == {"name": "budi", "before": "supervisor", "after": "admin"}

    ani = operator_client(client.application, "ani")
    assert ani.get("/console/operators").status_code == 403
    citra = operator_client(client.application, "citra", "admin")
    page = citra.get("/console/operators").get_data(as_text=True)
    assert "budi" in page and "admin" in page and "ani" in page


def test_two_supervisors_approving_at_once_apply_the_change_once(client, redis_conn) -> None:
    submission = confirmed_tally(client, redis_conn)
    ani = operator_client(client.application, "ani")
    url = f"/console/submissions/{submission.id}"
    post_form(ani, f"{url}/change", {**NEW_NUMBERS, "note": "foto C.Hasil"}, url)
    [change] = changes()
    second: list[object] = []

    def citra_approves() -> None:
        try:
            with session_scope() as session:
                second.append(approvals.approve(session, "citra", "supervisor", change.id))
        except ReviewError as error:
            second.append(error)

    with session_scope() as session:
        approvals.approve(session, "budi", "supervisor", change.id)  # not committed yet
        racer = threading.Thread(target=citra_approves)
        race_against(session, racer)  # citra now waits for budi's locks
    racer.join()
    [refused] = second
    # PostgreSQL: citra read it pending, and her claim finds it decided; SQLite: she waited to
    # read until budi's commit.
    assert isinstance(refused, ReviewError)
    postgres = get_engine().dialect.name == "postgresql"
    assert ("already decided" if postgres else "no pending change") in str(refused)
    assert [e.actor for e in audit("change_approved")] == ["operator:budi"]
    assert len(audit("tally_changed")) == 1
    area = national()
    assert (area.tps_confirmed, area.votes[1], area.sah) == (1, 100, 235)


def test_a_change_typed_while_the_officer_confirms_is_only_proposed(client, redis_conn) -> None:
    """The operator's form read the tally pending; the officer's `YA` confirms it before the
    change is saved (held uncommitted until the change waits for it). The change is decided
    on the tally as it is then: a proposal for a second person, never one operator's change
    to a published tally."""
    sms(client, redis_conn, KPPS, FIRST)
    with session_scope() as session:
        submission = session.scalars(select(Submission)).one()
    ani = operator_client(client.application, "ani")
    url = f"/console/submissions/{submission.id}"
    saved: list[str] = []

    def ani_saves() -> None:
        response = post_form(ani, f"{url}/change", {**NEW_NUMBERS, "note": "foto C.Hasil"}, url)
        saved.append(response.headers["Location"])

    ya = stored(KPPS, "YA")
    with session_scope() as session:
        turn(session, ya)  # the officer's YA, not committed yet
        racer = threading.Thread(target=ani_saves)
        race_against(session, racer)
    racer.join()
    assert saved == ["/console/approvals"]
    [change] = changes()
    assert (change.status, change.proposed_by, change.after["sah"]) == ("pending", "ani", 235)
    with session_scope() as session:
        kept = session.get_one(Submission, submission.id)
    assert (kept.status, kept.sah, kept.reason) == ("confirmed", 255, None)
    assert audit("tally_changed") == []
    area = national()
    assert (area.tps_confirmed, area.votes[1], area.sah) == (1, 120, 255)


def test_applying_a_change_to_a_confirmed_tally_without_approval_is_refused(
    client, redis_conn
) -> None:
    """bots.review.change_tally and accept refuse a confirmed tally unless a second person
    approved: whatever calls them, whatever it read before."""
    submission = confirmed_tally(client, redis_conn)
    sms(client, redis_conn, PPS, SECOND)
    with session_scope() as session:
        [item] = review.open_items(session)
        with pytest.raises(ReviewError, match="second person"):
            review.change_tally(
                session, "ani", session.get_one(Submission, submission.id), *CHANGED, "typo"
            )
        with pytest.raises(ReviewError, match="second person"):
            review.accept(session, "ani", item, "versi PPS")
    with session_scope() as session:
        statuses = [(s.status, s.sah) for s in session.scalars(select(Submission))]
    assert statuses == [("confirmed", 255), ("rejected", 256)]
    assert audit("tally_changed", "conflict_accepted") == []
    area = national()
    assert (area.tps_confirmed, area.votes[1], area.sah) == (1, 120, 255)


def test_a_ya_sent_before_an_operators_correction_does_not_confirm_it(demo: str) -> None:
    """An operator corrects a pending tally (alone: it is not public yet) after the officer
    sent `YA` for the numbers they saw, before that `YA` is processed: it confirms nothing,
    the officer is shown the new numbers, and only a `YA` sent after confirms them."""
    converse(KPPS, FIRST)
    ya_for_the_old_numbers = stored(KPPS, "YA")
    with session_scope() as session:
        pending = session.scalars(select(Submission)).one()
        change, _ = approvals.change_or_propose(session, "ani", pending, *CHANGED, "foto C.Hasil")
        assert change is None  # corrected at once
    with session_scope() as session:
        answer = turn(session, ya_for_the_old_numbers)
    receipt = pending.receipt_code
    assert answer.startswith(f"Help desk mengubah PPWP TPS 3576011001001 (kode {receipt})")
    assert "01=100 02=95 03=40 SAH=235 TS=5" in answer
    with session_scope() as session:
        assert session.get_one(Submission, pending.id).status == "pending"
    assert audit("tally_confirmed") == []
    assert national().tps_confirmed == 0

    assert converse(KPPS, f"YA {pending.receipt_code}").text.startswith("Terkonfirmasi")
    with session_scope() as session:
        confirmed = session.get_one(Submission, pending.id)
    assert (confirmed.status, confirmed.sah) == ("confirmed", 235)
    assert (national().tps_confirmed, national().sah) == (1, 235)


def test_a_ya_sent_before_the_photo_was_read_does_not_confirm_the_reading(demo: str) -> None:
    """The officer sends a photo and `YA` at once; the `YA` waits (e.g. the rate limit) and
    the reader's numbers are stored before it is processed. It was sent before anyone could
    see them: it confirms nothing, the officer is shown the reading and asked again."""
    from bots.grammar import parse
    from bots.identity import find_officer
    from bots.tallies import PhotoReading, submit_reading
    from relay.models import InboundMessage

    ya_before_the_reading = stored(KPPS, "YA")
    photo = stored(KPPS, "")
    with session_scope() as session:  # the photo job stores the reading
        inbound = session.get_one(InboundMessage, photo)
        officer = find_officer(session, inbound.channel, inbound.sender)
        reading = parse(FIRST, ["PPWP"])
        submit_reading(session, officer, inbound, reading, PhotoReading(frozenset({"02"})))
    with session_scope() as session:
        answer = turn(session, ya_before_the_reading)
        read = session.scalars(select(Submission)).one()
    assert answer.startswith("Foto PPWP TPS 3576011001001 terbaca setelah YA Anda dikirim")
    assert "01=120 02=95 03=40 SAH=255 TS=5" in answer and read.source == "photo"
    assert read.status == "pending" and audit("tally_confirmed") == []
    assert converse(KPPS, "YA").text.startswith("Terkonfirmasi")
    assert national().tps_confirmed == 1
