"""axe-core (the accessibility engine browsers' own audits use) in headless Chromium over the
public pages, the console and the simulator: no serious or critical violation, text contrast
≥ 4.5:1 included (axe's color-contrast rule is serious). axe-core comes from the npm registry
(scripts/install-test-tools.sh, run by `make test`)."""

from __future__ import annotations

import pytest

from relay.config import ROOT
from tests.support import converse
from tests.test_browser import browser, live, log_in  # noqa: F401  (fixtures)
from tests.test_console_claims import seed_canned
from tests.test_dashboard import TALLIES
from tests.web_support import make_operator

pytestmark = pytest.mark.slow
AXE = ROOT / ".test-tools" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")
PUBLIC = [
    "/", "/results/PPWP", "/results/DPR/3576011001", "/results/DPD/35", "/tps/3576011001001",
    "/search?q=cimahi", "/no-such-page",
]
OPERATOR = [
    "/console/", "/console/tickets", "/console/review", "/console/review?kind=conflict",
    "/console/canned", "/console/attention", "/console/approvals", "/simulator/",
]
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " " + (n.failureSummary || ""))
  }));
}"""


def _violations(page, path: str) -> list[str]:
    page.goto(path)
    page.add_script_tag(path=str(AXE))
    return [
        f"{path}: {v['id']} ({v['impact']}): {v['nodes']}"
        for v in page.evaluate(RUN_AXE)
        if v["impact"] in SERIOUS
    ]


def test_no_serious_accessibility_violations(live: str, browser) -> None:  # noqa: F811
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `make test` (scripts/install-test-tools.sh)")
    for phone, tally, confirm in TALLIES:
        converse(phone, tally)
        if confirm:
            converse(phone, "YA")
    converse("081234567802", "BANTUAN formulir basah, bagaimana?")
    seed_canned()  # the ticket page offers canned replies, and /console/canned lists them
    make_operator("ani")
    found: list[str] = []
    for width in (360, 1366):
        # The injected checker is a script of ours: only it bypasses the page's CSP.
        context = browser.new_context(
            locale="id-ID", viewport={"width": width, "height": 900}, bypass_csp=True
        )
        try:
            page = context.new_page()
            for path in PUBLIC:
                found += _violations(page, live + path)
            log_in(page, live)
            for path in OPERATOR:
                found += _violations(page, live + path)
            page.goto(live + "/console/tickets")
            page.locator("#tickets a").first.click()
            found += _violations(page, page.url)
        finally:
            context.close()
    assert found == [], "\n".join(found)
