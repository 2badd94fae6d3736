"""Results at a glance: a vote-share bar beside each candidate (SVG drawn by the server, no
script: the CSP stays strict), turnout when the same TPS reported voters and registered, and
a TPS page that says what a status means and whether the tally came as text or a photo."""

from __future__ import annotations

import re

import pytest

from tests.test_dashboard import reported, say, web  # noqa: F401  (fixtures)

FULL_FORM = (
    "PPWP 3576011001002 DPT=287 DPTB=3 DPK=2 PDPT=255 PDPTB=3 PDPK=2 PHP=260 SSD=293 SSR=2 "
    "SSTD=31 SS=260 DIS=4 PDIS=3 01=120 02=95 03=40 SAH=255 TS=5"
)


def _shares(page: str) -> dict[str, str]:
    rows = re.findall(
        r'<tr data-ballot="(\d+)">.*?<rect class="share-fill" width="([\d.]+)"', page, re.S
    )
    return dict(rows)


def test_each_candidate_has_a_share_bar_matching_its_percentage(web) -> None:  # noqa: F811
    page = web.get("/results/PPWP").get_data(as_text=True)
    # 01: 260 of 825, 02: 405, 03: 160 (TALLIES in tests/test_dashboard.py)
    assert _shares(page) == {"1": "31.52", "2": "49.09", "3": "19.39"}
    assert ">31,52<" in page  # the figure beside it, written the Indonesian way


@pytest.mark.usefixtures("reported")
def test_turnout_shows_when_the_same_tps_reported_voters_and_registered(web) -> None:  # noqa: F811
    assert 'id="turnout"' not in web.get("/results/PPWP/3576011001").get_data(as_text=True)
    say("081234567802", FULL_FORM)
    say("081234567802", "YA")
    page = web.get("/results/PPWP/3576011001").get_data(as_text=True)
    turnout = re.search(r'<p class="turnout" id="turnout">(.*?)</p>', page, re.S).group(1)
    assert "<strong>89,0%</strong>" in turnout  # 260 of 287 + 3 + 2
    assert "(260 / 292, dari 1 TPS yang melaporkan)" in turnout


def test_tps_page_explains_a_conflict_and_names_the_source(web) -> None:  # noqa: F811
    page = web.get("/tps/3576011001001").get_data(as_text=True)
    assert "dikirim sebagai SMS/teks" in page
    say("081234567804", "PPWP 3576011002001 01=1 02=2 03=3 SAH=6 TS=0")  # pending, not YA
    waiting = web.get("/tps/3576011002001").get_data(as_text=True)
    assert "menunggu konfirmasi petugas KPPS; belum dihitung" in waiting


def test_tps_page_says_a_conflict_is_under_review(web) -> None:  # noqa: F811
    # The village's PPS officer reports other numbers for a confirmed TPS: a conflict.
    say("081234567809", "PPWP 3576011001001 01=121 02=95 03=40 SAH=256 TS=5")
    say("081234567809", "YA")
    page = web.get("/tps/3576011001001").get_data(as_text=True)
    section = page[page.index('id="tps-PPWP"'):]
    assert "badge status-conflict" in section
    assert "Petugas sedang memeriksanya" in section
    assert ">255<" in section  # the confirmed numbers stay shown
