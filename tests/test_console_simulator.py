"""The /simulator page: sends only through the simulator channel, shows the thread as JSON
and HTML, finds officers, and takes photos (through relay.simulator.send_photo).

The simulator is a training channel: its tallies are confirmed in their own world, never
counted in the public results, never in the way of the officer's real tally, marked as
training in every reply about them, and audited under the operator who sent them. A
deployment can switch it off (SIMULATOR_ENABLED=0)."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from bots import review
from jobs.queues import enqueue_outbound
from relay import results, simulator
from relay.db import session_scope
from relay.models import (
    AuditEntry,
    InboundMessage,
    Officer,
    OutboundMessage,
    ReviewItem,
    Submission,
    Ticket,
)
from tests.support import drain, post_gateway
from tests.web_support import csrf_from, logged_in

PHONE = "+6281234567801"  # Sutrisno, KPPS of TPS 3576011001001
TPS = "3576011001001"
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
REAL = "PPWP 3576011001001 01=100 02=90 03=50 SAH=240 TS=4"
MARK = "[LATIHAN, tidak dihitung] "
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_a_tally_sent_from_the_page_is_answered_on_the_simulator_channel_only(
    client, redis_conn, twilio, gateway
) -> None:
    logged_in(client)
    page = client.get(f"/simulator/?phone={PHONE}")
    assert page.status_code == 200 and "Sutrisno" in page.get_data(as_text=True)
    token = csrf_from(page.data)
    sent = client.post("/simulator/send", data={"phone": PHONE, "text": TALLY, "csrf_token": token})
    assert sent.status_code == 302  # without JavaScript: back to the page
    drain(redis_conn)
    as_json = client.post(
        "/simulator/send",
        data={"phone": PHONE, "text": "YA"},
        headers={"Accept": "application/json", "X-CSRF-Token": token},
    )
    assert as_json.get_json() == {"ok": True, "error": None}
    drain(redis_conn)
    thread = client.get(f"/simulator/thread.json?phone={PHONE}").get_json()["messages"]
    assert [m["direction"] for m in thread] == ["in", "out", "in", "out"]
    assert thread[1]["text"].startswith(MARK + "Diterima PPWP TPS 3576011001001")
    assert thread[3]["text"].startswith(MARK + "Terkonfirmasi PPWP TPS 3576011001001")
    with session_scope() as session:
        channels = set(session.scalars(select(OutboundMessage.channel)))
    assert channels == {"simulator"}
    assert twilio.sent_messages() == [] and gateway.sent_messages() == []


def test_empty_and_bad_input_is_refused(client) -> None:
    logged_in(client)
    token = csrf_from(client.get("/simulator/").data)
    headers = {"Accept": "application/json", "X-CSRF-Token": token}
    empty = client.post("/simulator/send", data={"phone": PHONE, "text": "  "}, headers=headers)
    assert empty.status_code == 400 and empty.get_json()["error"] == "Pesan kosong."
    bad_phone = client.post("/simulator/send", data={"phone": "abc", "text": "YA"}, headers=headers)
    assert bad_phone.status_code == 400
    not_image = client.post(
        "/simulator/photo",
        data={"phone": PHONE, "photo": (__import__("io").BytesIO(b"hello"), "a.txt", "text/plain")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert not_image.get_json()["error"] == "Hanya JPEG, PNG atau WebP."


def test_a_photo_goes_to_relay_simulator_send_photo(client, redis_conn) -> None:
    import io

    logged_in(client)
    token = csrf_from(client.get("/simulator/").data)
    response = client.post(
        "/simulator/photo",
        data={"phone": PHONE, "photo": (io.BytesIO(PNG), "c-hasil.png", "image/png")},
        headers={"Accept": "application/json", "X-CSRF-Token": token},
        content_type="multipart/form-data",
    )
    if not hasattr(simulator, "send_photo"):
        assert response.status_code == 400
        assert response.get_json()["error"].startswith("Pengiriman foto lewat simulator belum")
        return
    assert response.get_json()["ok"] is True
    with session_scope() as session:
        inbound = session.scalars(select(InboundMessage)).one()
    assert inbound.channel == "simulator" and inbound.media


def test_officers_are_found_by_name_phone_or_tps(client) -> None:
    logged_in(client)
    by_name = client.get("/simulator/?q=dewi").get_data(as_text=True)
    assert "Dewi Lestari" in by_name and "Sutrisno" not in by_name
    by_phone = client.get("/simulator/?q=081234567803").get_data(as_text=True)
    assert "Bambang Hariyanto" in by_phone and "Dewi Lestari" not in by_phone
    by_tps = client.get("/simulator/?q=3277").get_data(as_text=True)
    assert "Asep Saepudin" in by_tps and "Sutrisno" not in by_tps


def simulate(client, text: str) -> None:
    """What the page's form does: POST /simulator/send as the logged-in operator."""
    token = csrf_from(client.get(f"/simulator/?phone={PHONE}").data)
    sent = client.post(
        "/simulator/send",
        data={"phone": PHONE, "text": text},
        headers={"Accept": "application/json", "X-CSRF-Token": token},
    )
    assert sent.get_json() == {"ok": True, "error": None}


_gateway_ids = iter(range(1, 10**6))


def real_sms(client, text: str) -> None:
    """The officer's own SMS, through the gateway (a real channel)."""
    assert post_gateway(client, f"real-{next(_gateway_ids)}", PHONE, text).status_code == 200


def published(client) -> dict:
    """What the public sees of TPS 3576011001001's PPWP count, everywhere it is shown."""
    national = client.get("/api/v1/results/PPWP").get_json()["region"]
    tps = client.get(f"/api/v1/tps/{TPS}").get_json()
    [ppwp] = [c for c in tps["contests"] if c["contest"] == "PPWP"]
    rows = list(csv.DictReader(io.StringIO(client.get("/export/PPWP.csv").get_data(True))))
    timeline = client.get("/api/v1/timeline/PPWP").get_json()["confirmed_per_hour"]
    return {
        "national": (national["tps_confirmed"], national["sah"], national["votes"]["01"]),
        "tps": (ppwp["status"], (ppwp["tally"] or {}).get("sah")),
        "tps_history": len(ppwp["history"]),
        "csv_national": (rows[0]["tps_confirmed"], rows[0]["sah"]),
        "timeline": sum(p["confirmed"] for p in timeline),
    }


NOTHING = {
    "national": (0, 0, 0),
    "tps": ("missing", None),
    "tps_history": 0,
    "csv_national": ("0", "0"),
    "timeline": 0,
}


def test_a_simulated_tally_is_training_it_never_reaches_the_results(
    client, redis_conn, twilio, gateway
) -> None:
    logged_in(client)
    simulate(client, TALLY)
    drain(redis_conn)
    simulate(client, "YA")
    drain(redis_conn)
    with session_scope() as session:
        tally = session.scalars(select(Submission)).one()
        officer = session.scalars(select(Officer).where(Officer.phone == PHONE)).one()
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "submission").order_by(AuditEntry.id)
        ).all()
        inbound = session.scalars(select(InboundMessage)).all()
    assert published(client) == NOTHING
    assert (tally.status, tally.training) == ("confirmed", True)
    console = client.get(f"/console/submissions/{tally.id}").get_data(as_text=True)
    assert "latihan (simulator, tidak dihitung)" in console  # operators see it too
    assert TALLY.split()[2] not in client.get(f"/tps/{TPS}").get_data(as_text=True)
    # Every simulated message records its operator; the audit names the operator, acting
    # as the officer, in training.
    assert {json.loads(m.payload)["operator"] for m in inbound} == {"ani"}
    assert [(e.action, e.actor) for e in entries] == [
        ("tally_received", "operator:ani"),
        ("tally_confirmed", "operator:ani"),
    ]
    assert all(e.detail["as"] == f"officer:{officer.id}" and e.detail["training"] for e in entries)
    # The repair and the check see no training tally either.
    assert app_cli_run(client, "results", "rebuild").exit_code == 0
    assert app_cli_run(client, "results", "verify").exit_code == 0
    assert published(client) == NOTHING
    # An operator's change to a training tally stays in training.
    with session_scope() as session:
        notices = review.change_tally(
            session,
            "budi",
            session.get_one(Submission, tally.id),
            *CHANGED,
            "latihan",
            approved=True,
        )
    for outbound_id in notices:
        enqueue_outbound(outbound_id)
    drain(redis_conn)
    assert published(client) == NOTHING
    last = client.get(f"/simulator/thread.json?phone={PHONE}").get_json()["messages"][-1]
    assert last["text"].startswith(MARK + "Help desk mengubah PPWP TPS 3576011001001")
    assert twilio.sent_messages() == [] and gateway.sent_messages() == []


CHANGED = ({1: 121, 2: 95, 3: 40}, 256, 4)


def app_cli_run(client, *args: str):
    return client.application.test_cli_runner().invoke(args=list(args))


def test_a_training_tally_never_takes_or_blocks_the_real_one(
    client, redis_conn, twilio, gateway
) -> None:
    logged_in(client)
    real_sms(client, REAL)  # the officer's real tally, pending
    drain(redis_conn)
    simulate(client, TALLY)  # a trainer, in the officer's name: does not replace it
    drain(redis_conn)
    simulate(client, "YA")  # confirms the training tally only
    drain(redis_conn)
    assert published(client)["national"] == (0, 0, 0)
    assert published(client)["tps"] == ("received", None)  # the real one, still pending
    real_sms(client, "YA")  # confirms the real one: no conflict with the training tally
    drain(redis_conn)
    simulate(client, "PPWP 3576011001001 01=1 02=2 03=3 SAH=6 TS=0")
    drain(redis_conn)
    simulate(client, "YA")  # a second training tally after the real one: training only
    drain(redis_conn)
    with session_scope() as session:
        rows = session.scalars(select(Submission).order_by(Submission.id)).all()
        items = session.scalars(select(ReviewItem)).all()
    assert [(s.training, s.status, s.reason) for s in rows] == [
        (False, "confirmed", None),
        (True, "confirmed", None),
        (True, "rejected", "locked_conflict"),
    ]
    assert published(client) == {
        "national": (1, 240, 100),
        "tps": ("confirmed", 240),
        "tps_history": 1,
        "csv_national": ("1", "240"),
        "timeline": 1,
    }
    assert items == [] or all(i.submission_id == rows[2].id for i in items)
    # The officer's real channel heard only about the real tally.
    texts = [m["text"] for m in gateway.sent_messages()]
    assert [t.split(" PPWP")[0] for t in texts] == ["Diterima", "Terkonfirmasi"]
    assert MARK not in " ".join(texts)
    with session_scope() as session:
        assert [str(d) for d in results.verify(session)] == []


def test_switched_off_the_simulator_says_so_and_accepts_nothing(
    client, redis_conn, monkeypatch
) -> None:
    logged_in(client)
    token = csrf_from(client.get("/console/").data)
    monkeypatch.setenv("SIMULATOR_ENABLED", "0")
    page = client.get("/simulator/")
    assert page.status_code == 403
    assert "Simulator dimatikan di server ini" in page.get_data(as_text=True)
    headers = {"Accept": "application/json", "X-CSRF-Token": token}
    sent = client.post("/simulator/send", data={"phone": PHONE, "text": TALLY}, headers=headers)
    assert sent.status_code == 403 and "dimatikan" in sent.get_json()["error"]
    photo = client.post(
        "/simulator/photo",
        data={"phone": PHONE, "photo": (io.BytesIO(PNG), "c.png", "image/png")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert photo.status_code == 403
    for command in (["sms", "--from", PHONE, TALLY], ["photo", "--from", PHONE, __file__]):
        refused = app_cli_run(client, "simulate", *command)
        assert refused.exit_code == 1 and "switched off" in refused.output
    with session_scope() as session:
        assert session.scalars(select(InboundMessage)).all() == []


def test_simulate_sms_from_the_command_line_is_recorded_under_the_cli_user(
    client, redis_conn
) -> None:
    import getpass

    run = app_cli_run(client, "simulate", "sms", "--from", PHONE, "--timeout", "0.3", "STATUS")
    assert run.exit_code == 1  # no worker here to answer
    with session_scope() as session:
        inbound = session.scalars(select(InboundMessage)).one()
    assert json.loads(inbound.payload)["operator"] == f"cli:{getpass.getuser()}"
    drain(redis_conn)
    replies = simulator.replies(inbound.id)
    assert [r.text[: len(MARK)] for r in replies] == [MARK]


def test_the_officer_hears_about_real_changes_on_a_real_channel_after_a_training_session(
    client, redis_conn, twilio, gateway
) -> None:
    """A trainer writing in an officer's name never diverts what the help desk tells the
    officer about their real tally, nor joins the officer's real help-desk ticket."""
    logged_in(client)
    real_sms(client, REAL)
    drain(redis_conn)
    real_sms(client, "YA")
    drain(redis_conn)
    real_sms(client, "BANTUAN kotak suara rusak")
    drain(redis_conn)
    simulate(client, "BANTUAN latihan: formulir basah")  # the officer's latest message now
    drain(redis_conn)
    with session_scope() as session:
        tally = session.scalars(select(Submission)).one()
        notices = review.change_tally(
            session, "ani", tally, *CHANGED, "foto C.Hasil", approved=True
        )
        tickets = session.scalars(select(Ticket).order_by(Ticket.id)).all()
    for outbound_id in notices:
        enqueue_outbound(outbound_id)
    drain(redis_conn)
    assert [t.channel for t in tickets] == ["sms-gateway", "simulator"]
    told = gateway.sent_messages()[-1]["text"]
    assert told.startswith("Help desk mengubah PPWP TPS 3576011001001")
    thread = client.get(f"/simulator/thread.json?phone={PHONE}").get_json()["messages"]
    assert "Help desk mengubah" not in " ".join(m["text"] for m in thread)
