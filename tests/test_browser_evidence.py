"""In headless Chromium against the real web and worker processes: the photo viewer (upright,
zoom by buttons and keys, opened on the number in question in the console's review) and the
simulator's channels (switch, Telegram's buttons confirming a tally, the SMS segment counter,
reset); axe finds no serious violation on these pages at 360 and 1366 px."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from bots import sms
from relay.db import session_scope
from relay.models import ReviewItem, Submission
from tests.conftest import TELEGRAM_SECRET
from tests.fakes import telegram_updates as tu
from tests.ocr_support import DATA as GOLDEN
from tests.test_accessibility import AXE, _violations
from tests.test_browser import WAIT_MS, browser, live, log_in, page, shot  # noqa: F401
from tests.web_support import make_operator

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect
pytestmark = pytest.mark.slow

TPS = "3576011001001"
PHONE = "+6281234567801"
USER = 555000444
_updates = iter(range(70000, 79999))


def _until(check, what: str, timeout: float = WAIT_MS / 1000):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _inside(inner: dict, outer: dict) -> bool:
    return (
        outer["x"] <= inner["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
        and outer["y"] <= inner["y"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
    )


def _post(client, update: dict) -> None:
    response = client.post("/webhooks/telegram", json=update,
                           headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert response.status_code == 200


def _photo(client, telegram, name: str) -> None:
    content = (GOLDEN / name).read_bytes()
    file_id = telegram.add_file(content, f"photos/{name}-{next(_updates)}")
    _post(client, tu.photo_update(next(_updates), USER, file_id=file_id, file_size=len(content)))


def _submissions() -> list[tuple[str, str, str | None]]:
    with session_scope() as session:
        return [(s.source, s.status, s.reason)
                for s in session.scalars(select(Submission).order_by(Submission.id))]


@pytest.fixture
def evidence(media_dir, telegram, client) -> object:
    """A confirmed photo tally (the upside-down golden photo) and, from the same officer, a
    photo of other numbers: a review item comparing them. Fixtures first: the live processes
    see the media folder and the fake Telegram."""
    return telegram


def _publish_photo_tally(client, telegram) -> None:
    _post(client, tu.contact_update(next(_updates), USER, PHONE.lstrip("+")))
    _photo(client, telegram, "ppwp_upside_down.jpg")
    _until(lambda: ("photo", "pending", None) in _submissions(), "the photo's reading")
    _post(client, tu.text_update(next(_updates), USER, "YA"))
    _until(lambda: ("photo", "confirmed", None) in _submissions(), "the confirmation")


def test_the_photo_viewer_upright_with_zoom_on_the_public_page_and_in_review(
    evidence, live: str, page, client  # noqa: F811
) -> None:
    _publish_photo_tally(client, evidence)
    page.goto(f"{live}/tps/{TPS}")
    figure = page.locator("#tps-PPWP figure.photo-viewer")
    expect(figure).to_have_class(re.compile("pv-ready"))
    image = figure.locator("img.pv-img")
    expect(image).to_have_attribute("src", re.compile(r"/upright$"))
    size = image.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert size == [1050, 1485]
    expect(figure.locator("figcaption")).to_contain_text("diputar 180°")
    expect(page.locator("#tps-PPWP .source")).to_have_text("dikirim sebagai foto")
    shown, frame_box = image.bounding_box(), figure.locator(".pv-frame").bounding_box()
    assert shown["height"] <= frame_box["height"] + 1  # the whole page in view at first
    figure.locator("[data-zoom=in]").click()
    expect(figure).to_have_attribute("data-scale", "1.50")
    expect(figure.locator(".pv-level")).to_have_text("Perbesaran 1,5×")  # the page's language
    frame = figure.locator(".pv-frame")
    frame.focus()
    page.keyboard.press("+")
    expect(figure).to_have_attribute("data-scale", "2.25")
    before = figure.locator(".pv-stage").evaluate("s => s.style.transform")
    page.keyboard.press("ArrowRight")
    after = figure.locator(".pv-stage").evaluate("s => s.style.transform")
    assert before != after and "scale(2.25)" in after
    shot(page, "photo-viewer-public")
    page.keyboard.press("0")
    expect(figure).to_have_attribute("data-scale", "1.00")

    # Another photo of the same form with other numbers: the console's review of it.
    _photo(client, evidence, "ppwp_clean.jpg")
    def item() -> int | None:
        with session_scope() as session:
            return session.scalar(select(ReviewItem.id).where(
                ReviewItem.status == "open", ReviewItem.kind == "change_request"))
    # Conflicts get their item when the queue is looked at (bots.review.sync_conflicts).
    make_operator("ani")
    log_in(page, live)
    _until(lambda: page.goto(f"{live}/console/review") and item(), "the review item")
    page.goto(f"{live}/console/review/{item()}")
    viewer = page.locator("figure.photo-viewer").first
    expect(viewer).to_have_attribute("data-focus", "01")
    expect(viewer).to_have_attribute("data-scale", re.compile(r"^[2-8]\."))  # opened zoomed
    for field in ("01", "SAH"):
        if field != "01":
            viewer.locator(f"[data-focus-field='{field}']").click()
        box = viewer.locator(f".pv-box[data-field='{field}']")
        expect(box).to_have_class(re.compile("pv-current"))
        frame_box = viewer.locator(".pv-frame").bounding_box()
        assert _inside(box.bounding_box(), frame_box), f"{field} not in view"
        if field == "01":
            shot(page, "photo-viewer-review")
    expect(page.locator("#field-by-field mark.differs").first).to_be_visible()
    viewer.locator("[data-zoom=fit]").click()
    expect(viewer).to_have_attribute("data-scale", "1.00")


def test_the_simulator_channels_buttons_counter_and_reset(
    media_dir, live: str, page  # noqa: F811
) -> None:
    make_operator("ani")
    log_in(page, live)
    page.goto(f"{live}/simulator/?phone={PHONE}")
    phone = page.locator("#phone")
    expect(phone).to_have_class(re.compile(r"\bch-sms\b"))

    # The segment counter counts as bots.sms does.
    for body in ("YA", "a" * 160, "a" * 161, "€" * 80, "Tinta habis ✓", "é" * 71, "x" * 459,
                 "x" * 460):
        page.fill("#sms-text", body)
        counter = page.locator("#sms-counter")
        expect(counter).to_have_attribute("data-segments", str(sms.segments(body)))
        expect(counter).to_have_attribute("data-length", str(sms.length(body)))
    page.fill("#sms-text", "Tinta habis ✓")
    expect(page.locator("#sms-counter")).to_have_text("13/70 karakter (UCS-2) · 1 SMS")

    # Telegram: chosen, remembered, its inline buttons confirm the tally.
    page.get_by_label("Telegram").check()
    expect(phone).to_have_class(re.compile(r"\bch-telegram\b"))
    expect(page.locator("#channel-name")).to_have_text("Telegram")
    page.reload()
    expect(page.locator("#phone")).to_have_class(re.compile(r"\bch-telegram\b"))
    page.fill("#sms-text", f"PPWP {TPS} 01=120 02=95 03=40 SAH=255 TS=5")
    page.click("#sms-send")
    receipt = page.locator(".bubble.out", has_text="Diterima PPWP")
    confirm = receipt.locator(".tg-button", has_text="Benar")
    expect(confirm).to_be_visible()
    shot(page, "simulator-telegram")
    confirm.click()
    expect(receipt.locator(".edited-text")).to_contain_text("Terkonfirmasi PPWP")
    expect(receipt.locator(".tg-buttons")).to_be_hidden()
    expect(page.locator(".bubble.is-callback .pressed")).to_have_text("Menekan tombol ✅ Benar")
    with session_scope() as session:
        tally = session.scalars(select(Submission)).one()
    assert (tally.status, tally.training) == ("confirmed", True)
    shot(page, "simulator-telegram-confirmed")

    # The same thread as SMS: text only, the press shows as the command, segments counted.
    page.get_by_label("SMS").check()
    expect(page.locator(".bubble.is-callback > .text")).to_have_text(
        re.compile(rf"^YA {tally.receipt_code}$"))
    expect(receipt.locator(".tg-buttons")).to_be_hidden()
    expect(page.locator(".bubble .segments").first).to_be_visible()
    page.get_by_label("WhatsApp").check()
    expect(phone).to_have_class(re.compile(r"\bch-whatsapp\b"))

    # Reset: an empty thread, the training tally set aside.
    page.click("#sim-reset")
    expect(page.locator("#bubbles li")).to_have_count(0)
    page.reload()
    expect(page.locator("#bubbles li")).to_have_count(0)
    with session_scope() as session:
        assert session.get_one(Submission, tally.id).reason == "training_reset"

    # After the reset, a photo: its thumbnail, and the reading's page attached to the reply.
    page.set_input_files("#photo-file", str(GOLDEN / "ppwp_clean.jpg"))
    page.click("#photo-send")
    sent = page.locator(".bubble.in .thumb img").last
    expect(sent).to_be_visible()
    attached = page.locator(".bubble.out .thumb img").last
    expect(attached).to_be_visible(timeout=WAIT_MS)
    for thumb in (sent, attached):
        assert thumb.evaluate("i => i.complete && i.naturalWidth > 0")
    shot(page, "simulator-whatsapp-photo")


def test_no_serious_accessibility_violations_on_the_viewer_and_simulator(
    evidence, live: str, browser, client  # noqa: F811
) -> None:
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `make test` (scripts/install-test-tools.sh)")
    _publish_photo_tally(client, evidence)
    _photo(client, evidence, "ppwp_clean.jpg")
    make_operator("ani")
    with session_scope() as session:
        from bots.review import open_items

        _until(lambda: len(_submissions()) == 2, "the second photo")
        items = _until(lambda: [i for i in open_items(session) if i.kind == "change_request"],
                       "the review item")
        item_id = items[0].id
        session.commit()
    found: list[str] = []
    for width in (360, 1366):
        context = browser.new_context(
            locale="id-ID", viewport={"width": width, "height": 900}, bypass_csp=True
        )
        try:
            page = context.new_page()
            found += _violations(page, f"{live}/tps/{TPS}")
            log_in(page, live)
            found += _violations(page, f"{live}/console/review/{item_id}")
            page.goto(f"{live}/simulator/?phone={PHONE}&channel=telegram")
            page.fill("#sms-text", f"PPWP {TPS} 01=120 02=95 03=40 SAH=255 TS=5")
            page.click("#sms-send")
            expect(page.locator(".tg-button").last).to_be_visible()
            page.add_script_tag(path=str(AXE))
            from tests.test_accessibility import RUN_AXE

            found += [f"simulator {width}: {v['id']} ({v['impact']}): {v['nodes']}"
                      for v in page.evaluate(RUN_AXE) if v["impact"] in ("serious", "critical")]
            for channel in ("sms", "whatsapp"):
                found += _violations(page, f"{live}/simulator/?phone={PHONE}&channel={channel}")
        finally:
            context.close()
    assert found == [], "\n".join(found)
