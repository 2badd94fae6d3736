"""The reply box as an operator uses it, in headless Chromium: an SMS counter that counts the
prefix and switches to Unicode limits for an emoji, Ctrl+Enter sends, "/" jumps to search."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from relay.db import session_scope
from relay.models import Ticket
from tests.support import converse
from tests.test_browser import WAIT_MS, browser, live, log_in, page  # noqa: F401  (fixtures)
from tests.web_support import make_operator

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api").expect


def test_reply_box_counts_sms_and_sends_on_ctrl_enter(live: str, page) -> None:  # noqa: F811
    converse("081234567801", "BANTUAN tinta habis, bagaimana?")
    with session_scope() as session:
        ticket_id = session.scalars(select(Ticket.id)).one()
    prefix = f"Help desk (tiket #{ticket_id}): "
    make_operator("ani")
    log_in(page, live)
    page.goto(f"{live}/console/tickets")
    page.keyboard.press("/")
    expect(page.locator("#f-q")).to_be_focused()

    page.goto(f"{live}/console/tickets/{ticket_id}")
    counter = page.locator("#sms-count")
    expect(counter).to_have_text(f"{len(prefix)} karakter termasuk awalan · 1 SMS")
    page.fill("#reply-body", "x" * (160 - len(prefix)))
    expect(counter).to_have_text("160 karakter termasuk awalan · 1 SMS")
    page.type("#reply-body", "x")
    expect(counter).to_have_text("161 karakter termasuk awalan · 2 SMS")
    page.fill("#reply-body", "Baik 👍")
    expect(counter).to_contain_text("Unicode: 70 per SMS")
    page.fill("#reply-body", "Pakai pena lain dulu, data SMS tetap bisa dikirim.")
    page.press("#reply-body", "Control+Enter")
    expect(page.locator(".flashes")).to_contain_text("Balasan dikirim ke antrean")
