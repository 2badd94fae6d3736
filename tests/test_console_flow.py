"""The console as an operator works it on election night, in headless Chromium against the
real web and worker processes: log in, filter the queue, pick a ticket with the keyboard,
claim it, insert a canned reply, edit it and send; lists that refresh themselves without a
reload and hold still while the operator types; every console page fits a 360 px phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bots import review
from relay.db import session_scope
from relay.models import CannedReply, OutboundMessage, Ticket
from tests.live import Gunicorn, RqWorker, process_env
from tests.support import converse
from tests.test_browser import WAIT_MS, browser, live, log_in, page, shot  # noqa: F401  (fixtures)
from tests.test_console_claims import seed_canned
from tests.test_public_layout import _sideways
from tests.web_support import make_operator

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect


OVERFLOWING = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className)"""


def _tickets() -> dict[str, int]:
    with session_scope() as session:
        return {t.address: t.id for t in session.scalars(select(Ticket))}


def test_filter_pick_claim_insert_a_canned_reply_and_send(live: str, page) -> None:  # noqa: F811
    seed_canned()
    converse("081234567801", "BANTUAN formulir basah, bagaimana?")
    converse("081234567803", "BANTUAN tinta habis, bagaimana?")
    ids = _tickets()
    with session_scope() as session:  # budi already handles the first officer's ticket
        session.get_one(Ticket, ids["+6281234567801"]).assigned_to = "budi"
        canned = session.scalars(select(CannedReply).order_by(CannedReply.position)).first()
        canned_id, canned_text = canned.id, canned.body_id
    make_operator("ani")
    log_in(page, live)
    page.goto(f"{live}/console/tickets")
    expect(page.locator("#shortcuts")).to_contain_text("Pintasan papan ketik")
    page.select_option("#f-assigned", "unassigned")
    page.click("#ticket-filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"assigned=unassigned"))
    rows = page.locator("#tickets tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("belum diambil")
    page.wait_for_load_state()

    page.keyboard.press("j")  # the first row, its link focused: Enter opens it
    expect(rows.first).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("Enter")
    mine = ids["+6281234567803"]
    expect(page).to_have_url(re.compile(rf"/console/tickets/{mine}$"))
    page.wait_for_load_state()  # the shortcuts' script has run

    page.keyboard.press("c")  # claim
    expect(page.locator(".flashes")).to_contain_text(f"Tiket #{mine} Anda ambil.")
    expect(page.locator("#assignee")).to_have_text("ani")
    page.wait_for_load_state()

    page.keyboard.press("i")  # the canned replies
    expect(page.locator("#canned")).to_be_focused()
    page.select_option("#canned", str(canned_id))
    page.click("#canned-insert")
    body = page.locator("#reply-body")
    expect(body).to_be_focused()
    expect(body).to_have_value(canned_text)
    expect(page.locator("#sms-count")).not_to_contain_text(" 0 karakter")
    page.keyboard.type(" Terima kasih.")  # edited before sending
    shot(page, "console-ticket-canned")
    page.keyboard.press("Escape")
    expect(body).not_to_be_focused()
    page.keyboard.press("r")
    expect(body).to_be_focused()
    page.keyboard.press("Control+Enter")
    expect(page.locator(".flashes")).to_contain_text("Balasan dikirim ke antrean")
    expected = f"Help desk (tiket #{mine}): {canned_text} Terima kasih."
    with session_scope() as session:
        assert expected in session.scalars(select(OutboundMessage.text)).all()
    expect(page.locator("#ticket-audit")).to_contain_text("Tiket diambil.")

    # The other ticket is budi's: ani is warned, and may still answer.
    page.goto(f"{live}/console/tickets/{ids['+6281234567801']}")
    expect(page.locator(".claimed-other")).to_contain_text("sedang ditangani budi")
    page.wait_for_load_state()
    # j/k on a ticket: the next/previous one in the queue (answered tickets come last).
    page.keyboard.press("j")
    expect(page).to_have_url(re.compile(rf"/console/tickets/{mine}$"))
    page.wait_for_load_state()
    page.keyboard.press("k")
    expect(page).to_have_url(re.compile(rf"/console/tickets/{ids['+6281234567801']}$"))
    page.wait_for_load_state()
    page.keyboard.press("u")
    expect(page).to_have_url(re.compile(r"/console/tickets$"))


@pytest.fixture
def live_polling(client, tmp_path: Path) -> Iterator[str]:
    env = process_env(WEB_ACCESS_LOG="", WEB_CONCURRENCY="2", CONSOLE_REFRESH_SECONDS="1")
    with (
        open(tmp_path / "web.log", "wb") as web_log,
        open(tmp_path / "worker.log", "wb") as worker_log,
        Gunicorn(env, log=web_log) as web,
        RqWorker(env, log=worker_log),
    ):
        yield web.url


def test_the_queue_refreshes_itself_and_holds_still_while_typing(live_polling: str, page) -> None:  # noqa: F811
    converse("081234567801", "BANTUAN formulir basah, bagaimana?")
    make_operator("ani")
    log_in(page, live_polling)
    polls: list[int] = []
    page.on("response", lambda r: polls.append(r.status) if "/console/tickets" in r.url else None)
    page.goto(f"{live_polling}/console/tickets")
    rows = page.locator("#tickets tbody tr[data-ticket]")
    expect(rows).to_have_count(1)
    page.evaluate("window.notReloaded = true")
    converse("081234567803", "BANTUAN tinta habis")
    expect(rows).to_have_count(2, timeout=15_000)
    assert page.evaluate("window.notReloaded") is True  # the same document, updated
    page.wait_for_timeout(2_500)
    assert 304 in polls  # a poll that finds nothing new costs no page

    page.click("#f-q")
    page.keyboard.type("357")
    converse("081234567810", "BANTUAN printer rusak")
    page.wait_for_timeout(3_000)  # three polls' time: none while the operator types
    expect(rows).to_have_count(2)
    expect(page.locator("#f-q")).to_have_value("357")
    page.keyboard.press("Escape")
    expect(rows).to_have_count(3, timeout=15_000)
    assert page.evaluate("window.notReloaded") is True


def test_every_console_page_fits_a_phone(live: str, browser) -> None:  # noqa: F811
    seed_canned()
    converse("081234567801", "BANTUAN formulir C.Hasil basah kena hujan deras sekali, "
             "bagaimana cara mengirim fotonya?")
    with session_scope() as session:
        item = review.open_item(session, "failed_checks", tps_code="3576011001001",
                                contest_code="PPWP", detail={"rules": ["sah_mismatch"]})
        item_id = item.id
    ticket_id = next(iter(_tickets().values()))
    make_operator("ani")
    context = browser.new_context(locale="id-ID", viewport={"width": 360, "height": 800})
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        log_in(page, live)
        for path in ("/console/", "/console/tickets", "/console/review",
                     f"/console/review/{item_id}", f"/console/tickets/{ticket_id}",
                     "/console/canned", "/console/approvals", "/console/attention"):
            page.goto(live + path)
            assert _sideways(page) <= 0, (path, page.evaluate(OVERFLOWING))
            wide = page.evaluate(
                "() => Array.from(document.querySelectorAll('table.stack'))"
                ".filter(t => t.scrollWidth > t.clientWidth + 1).map(t => t.id || t.className)"
            )
            assert wide == [], (path, wide)
        page.goto(f"{live}/console/tickets")
        shot(page, "phone-console-queue")
        # On a phone each row is a card whose cells say what they are.
        label = page.evaluate(
            "() => getComputedStyle(document.querySelector('#tickets tbody td'), '::before')"
            ".content"
        )
        assert label == '"#: "' or label.startswith('"#')
    finally:
        context.close()
