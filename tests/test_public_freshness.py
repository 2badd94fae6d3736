"""Public pages say when their figures last changed and stay fresh without a reload storm:
an ETag per page, `no-cache` revalidation (304 when nothing changed), and refresh.js swapping
<main> in place (checked in headless Chromium against the real web process)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import Gunicorn, RqWorker, process_env
from tests.test_browser import browser  # noqa: F401  (fixture)
from tests.test_dashboard import say

FIRST = ("081234567801", "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5")
SECOND = ("081234567810", "PPWP 3277011001001 01=80 02=60 03=70 SAH=210 TS=1")


def confirm(phone: str, tally: str) -> None:
    say(phone, tally)
    say(phone, "YA")


@pytest.fixture
def web(demo: str):
    from webhooks import create_app

    return create_app().test_client()


def _updated(page: str) -> str | None:
    found = re.search(r'<p class="updated" id="updated">(.*?)</p>', page, re.S)
    assert found, "no last-updated line"
    text = re.sub(r"<[^>]+>", "", found.group(1))
    return None if "Belum ada" in text else text


def test_pages_say_when_their_figures_last_changed(web) -> None:
    assert _updated(web.get("/results/PPWP/32").get_data(as_text=True)) is None
    confirm(*FIRST)
    national = _updated(web.get("/").get_data(as_text=True))
    assert national and re.fullmatch(r"Diperbarui \d{4}-\d\d-\d\d \d\d:\d\d WIB", national)
    assert _updated(web.get("/results/PPWP/35").get_data(as_text=True)) == national
    assert _updated(web.get("/results/PPWP/32").get_data(as_text=True)) is None  # not there
    assert _updated(web.get("/tps/3576011001001").get_data(as_text=True)) == national
    english = web.get("/results/PPWP/35", headers={"Accept-Language": "en"})
    assert "Last updated" in english.get_data(as_text=True)


def test_tps_breadcrumbs_are_links(web) -> None:
    page = web.get("/tps/3576011001001").get_data(as_text=True)
    start = page.index('<nav class="crumbs">')
    crumbs = page[start:page.index("</nav>", start)]
    for code in ("35", "3576", "357601", "3576011001"):
        assert f'href="/results/PPWP/{code}"' in crumbs


def test_unchanged_pages_answer_304_and_new_figures_a_new_etag(web) -> None:
    confirm(*FIRST)
    first = web.get("/results/PPWP")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    assert "Accept-Language" in first.headers["Vary"]
    again = web.get("/results/PPWP", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    confirm(*SECOND)
    changed = web.get("/results/PPWP", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


@pytest.fixture
def live_refreshing(client, tmp_path: Path) -> Iterator[str]:
    env = process_env(WEB_ACCESS_LOG="", WEB_CONCURRENCY="2", PUBLIC_REFRESH_SECONDS="1")
    with (
        open(tmp_path / "web.log", "wb") as web_log,
        open(tmp_path / "worker.log", "wb") as worker_log,
        Gunicorn(env, log=web_log) as web,
        RqWorker(env, log=worker_log),
    ):
        yield web.url


@pytest.mark.slow
def test_an_open_page_shows_new_figures_without_a_reload(live_refreshing: str, browser) -> None:  # noqa: F811
    from playwright.sync_api import expect

    confirm(*FIRST)
    context = browser.new_context(locale="id-ID", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(live_refreshing + "/results/PPWP")
        expect(page.locator("#total-sah")).to_have_text("255")
        page.evaluate("window.notReloaded = true")
        confirm(*SECOND)
        expect(page.locator("#total-sah")).to_have_text("465", timeout=15_000)
        assert page.evaluate("window.notReloaded") is True  # the same document, updated
    finally:
        context.close()
