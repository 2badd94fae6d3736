"""The pages in a real headless Chromium (Debian's, driven by Playwright), against the real
`web` process (gunicorn) and a real `worker` (rq), with fake providers behind the channels.

Screenshots go to test-artifacts/. Chromium runs with the flags this machine needs (no
sandbox as root, no background networking) and a fresh profile per test.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from relay.config import ROOT
from relay.db import session_scope
from relay.models import Submission, Ticket
from tests.live import Gunicorn, RqWorker, process_env
from tests.support import post_twilio_sms
from tests.web_support import PASSWORD, make_operator

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 30_000

pytestmark = pytest.mark.slow


def chromium_path() -> str:
    path = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if path is None:
        pytest.fail("chromium is not installed: run `make test`, which installs it")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_sync.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser, tmp_path: Path):
    # A fresh context: its own cookies and storage (Playwright gives each launch a fresh
    # profile directory; contexts are isolated within it).
    context = browser.new_context(locale="id-ID", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def live(client, tmp_path: Path) -> Iterator[str]:
    """The web, worker and sender processes on the test database, Redis and fake providers."""
    env = process_env(WEB_ACCESS_LOG="", WEB_CONCURRENCY="2")
    with (
        open(tmp_path / "web.log", "wb") as web_log,
        open(tmp_path / "worker.log", "wb") as worker_log,
        Gunicorn(env, log=web_log) as web,
        RqWorker(env, log=worker_log),
        RqWorker(env, log=worker_log, process="sender"),
    ):
        yield web.url


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, url: str, name: str = "ani") -> None:
    page.goto(f"{url}/console/")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    expect(page.locator("h1")).to_have_text("Konsol help desk")


def test_operator_answers_a_ticket_and_the_reply_reaches_twilio(
    live: str, page, client, twilio
) -> None:
    officer = "+6281234567801"
    question = 'Formulir <b>basah</b> <script>alert("x")</script>, bagaimana?'
    assert post_twilio_sms(client, officer, question).status_code == 200
    twilio.wait_for(
        lambda r: "tiket" in (r.form or {}).get("Body", [""])[-1], timeout=WAIT_MS / 1000
    )
    make_operator("ani")
    log_in(page, live)
    row = page.locator("#tickets tbody tr").first
    expect(row).to_contain_text("Sutrisno")
    expect(row).to_contain_text("3576011001001")
    expect(row).to_contain_text("twilio")
    # The officer's markup is text on the page, never elements.
    expect(row).to_contain_text("<script>alert")
    assert page.locator("#tickets script, #tickets b").count() == 0
    shot(page, "console-queue")

    row.locator("a").first.click()
    page.fill("#reply-body", "Keringkan dulu, lalu foto ulang. Data SMS tetap bisa dikirim.")
    page.click("#send-reply")
    expect(page.locator(".flashes")).to_contain_text("Balasan dikirim ke antrean")
    with session_scope() as session:
        ticket_id = session.scalars(select(Ticket.id)).one()
    expected = (
        f"Help desk (tiket #{ticket_id}): Keringkan dulu, lalu foto ulang. "
        "Data SMS tetap bisa dikirim."
    )
    twilio.wait_for(
        lambda r: (r.form or {}).get("Body", [""])[-1] == expected, timeout=WAIT_MS / 1000
    )
    assert twilio.sent_messages()[-1]["To"] == officer
    # The ticket shows the delivery status once the worker has sent it.
    for _ in range(50):
        page.reload()
        if page.locator(".delivery-sent").count():
            break
        page.wait_for_timeout(200)
    expect(page.locator(".thread .msg.out .delivery-sent")).to_have_text("terkirim")
    shot(page, "console-ticket-answered")


def test_public_drill_down_from_province_to_tps(live: str, page, demo: str) -> None:
    from tests.test_dashboard import TALLIES, say

    for phone, tally, confirm in TALLIES:
        say(phone, tally)
        if confirm:
            say(phone, "YA")
    page.goto(live + "/")
    expect(page.locator("#contest-PPWP")).to_contain_text("4 / 53 TPS")
    shot(page, "dashboard-home")
    page.click("#contest-PPWP h2 a")
    expect(page.locator("#total-sah")).to_have_text("825")  # 255 + 180 + 180 + 210
    page.click("#children a:text('Jawa Timur')")
    expect(page.locator("#total-sah")).to_have_text("615")
    page.click("#children a:text('Kota Mojokerto')")
    expect(page.locator("#total-sah")).to_have_text("615")
    page.click("#children a:text('Prajurit Kulon')")  # the district
    expect(page.locator("h1")).to_contain_text("kecamatan")
    expect(page.locator("#total-sah")).to_have_text("435")
    page.click("#children a:text('Prajurit Kulon')")  # the village
    expect(page.locator("h1")).to_contain_text("desa")
    expect(page.locator("#total-sah")).to_have_text("435")
    expect(page.locator("#totals tr[data-ballot='1'] .votes")).to_have_text("170")
    shot(page, "dashboard-village")
    page.click("#children a:text('3576011001001')")
    section = page.locator("#tps-PPWP")
    expect(section).to_contain_text("terkonfirmasi")
    expect(section.locator("table.values")).to_contain_text("255")
    expect(section.locator(".placeholder")).to_be_visible()
    shot(page, "dashboard-tps")


def test_simulator_sends_a_tally_and_shows_the_receipt_then_an_operator_answers(
    live: str, page, browser, demo: str
) -> None:
    make_operator("ani")
    log_in(page, live)
    page.goto(live + "/simulator/")
    expect(page.locator("#sim-training")).to_contain_text("tidak pernah dihitung")
    page.click("#officers a[data-phone='+6281234567801']")
    expect(page.locator(".phone-top")).to_contain_text("Sutrisno")
    page.fill("#sms-text", "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5")
    page.click("#sms-send")
    receipt = page.locator(".bubble.out", has_text="Diterima PPWP TPS 3576011001001")
    expect(receipt).to_contain_text(re.compile(r"Kode [A-Z0-9]{6}\."))
    with session_scope() as session:
        code = session.scalars(select(Submission.receipt_code)).one()
    expect(receipt).to_contain_text(f"Kode {code}.")
    expect(receipt).to_contain_text("[LATIHAN, tidak dihitung]")
    page.fill("#sms-text", "YA")
    page.press("#sms-text", "Enter")
    expect(page.locator(".bubble.out", has_text="Terkonfirmasi")).to_contain_text(code)

    page.fill("#sms-text", "Pak, tinta di TPS kami habis")
    page.click("#sms-send")
    expect(page.locator(".bubble.out", has_text="Pesan diteruskan ke help desk")).to_be_visible()
    shot(page, "simulator-thread")

    # An operator answers in another window; the answer arrives in the simulator's thread.
    console = page.context.new_page()
    console.goto(live + "/console/tickets")
    console.locator("#tickets tbody tr a").first.click()
    console.fill("#reply-body", "Tinta cadangan diantar PPS dalam 30 menit.")
    console.click("#send-reply")
    answer = page.locator(".bubble.out", has_text="Tinta cadangan diantar PPS")
    expect(answer).to_contain_text("Help desk (tiket #")
    shot(page, "simulator-answered")

    # A training tally: never on the public pages.
    page.goto(live + "/tps/3576011001001")
    expect(page.locator("#tps-PPWP")).not_to_contain_text("255")
    expect(page.locator("#tps-PPWP")).to_contain_text("Belum ada data terkonfirmasi")
