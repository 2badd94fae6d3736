"""Every public page on a phone (360 px, the narrowest common Android width) and on a laptop
(1366 px) in headless Chromium: nothing scrolls sideways. Wide tables scroll inside their own
box; the page itself never does."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_browser import ARTIFACTS, browser, live  # noqa: F401  (fixtures shared)
from tests.test_dashboard import TALLIES, say

pytestmark = pytest.mark.slow

PUBLIC_PAGES = [
    "/",
    "/results/PPWP",
    "/results/DPR",
    "/results/DPD",
    "/results/PPWP/35",
    "/results/DPR/3576",
    "/results/PPWP/3576011001",
    "/results/DPR/3576011001",
    "/tps/3576011001001",
    "/tps/3576011001002",
    "/search?q=Prajurit",
    "/search?q=3576011001001",
    "/no-such-page",
]
DPR_TALLY = (
    "DPR 3576011001001 01=10 01.1=25 01.2=8 02=15 02.1=30 03=12 03.1=20 03.4=6 04=20 05=15 "
    "08=10 SAH=171 TS=4"
)


def _sideways(page) -> int:
    """How far the page itself scrolls sideways, in CSS pixels (0 when it fits)."""
    return page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )


@pytest.mark.parametrize("width", [360, 1366])
def test_no_public_page_scrolls_sideways(live: str, browser, demo: str, width: int,  # noqa: F811
                                         tmp_path: Path) -> None:
    for phone, tally, confirm in TALLIES:
        say(phone, tally)
        if confirm:
            say(phone, "YA")
    say("081234567801", DPR_TALLY)
    context = browser.new_context(locale="id-ID", viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        too_wide = {}
        for path in PUBLIC_PAGES:
            page.goto(live + path)
            if (overflow := _sideways(page)) > 0:
                too_wide[path] = overflow
        if width == 1366:
            page.goto(live + "/results/PPWP")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "results-national.png"), full_page=True)
        if width == 360:
            page.goto(live + "/results/DPR/3576011001")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "phone-results-dpr-village.png"))
            page.locator("#parties").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "phone-results-dpr-parties.png"))
        assert too_wide == {}, f"pages wider than {width} px (by px): {too_wide}"
    finally:
        context.close()
