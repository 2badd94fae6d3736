"""Public search and the not-found page: regions by name, TPS by number within a village,
codes with or without dots; a styled 404 in the reader's language for people, JSON for the
API; numbers and shares written the way the page's language writes them."""

from __future__ import annotations

import re

import pytest

from tests.test_dashboard import reported, web  # noqa: F401  (fixtures)


def _location(response) -> str:
    assert response.status_code == 302, response.data
    return response.headers["Location"]


@pytest.mark.parametrize(
    ("query", "within", "target"),
    [
        ("Mojokerto", "", "/results/PPWP/3576"),  # one region by that name
        ("kota mojokerto", "", "/results/PPWP/3576"),
        ("35.76.01.1001", "", "/results/PPWP/3576011001"),
        ("3576011001001", "", "/tps/3576011001001"),
        ("TPS 001", "3576011001", "/tps/3576011001001"),
        ("tps 2", "3576011001", "/tps/3576011001002"),
        ("003", "3576011001", "/tps/3576011001003"),
    ],
)
def test_search_leads_to_the_region_or_tps(web, query: str, within: str, target: str) -> None:  # noqa: F811
    response = web.get("/search", query_string={"q": query, "within": within})
    assert _location(response).endswith(target)


def test_search_by_a_shared_name_lists_the_regions_with_their_parents(web) -> None:  # noqa: F811
    page = web.get("/search?q=cimahi")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for name in ("Kota Cimahi", "Cimahi Selatan", "Cimahi Tengah", "Cimahi Utara"):
        assert f">{name}</a>" in text
    assert text.index("Kota Cimahi") < text.index("Cimahi Selatan")  # regencies first
    assert "kecamatan · 327701 · Kota Cimahi" in text  # the parent tells namesakes apart
    dpr = web.get("/search?q=cimahi&contest=DPR").get_data(as_text=True)
    assert 'href="/results/DPR/327701"' in dpr


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("TPS 001", "Nomor TPS berulang di setiap desa"),
        ("9999999999999", "Tidak ditemukan."),
        ("zz", "Ketik minimal 3 huruf."),
        ("Atlantis", "Tidak ditemukan."),
    ],
)
def test_search_that_finds_nothing_says_why(web, query: str, message: str) -> None:  # noqa: F811
    page = web.get("/search", query_string={"q": query})
    assert page.status_code == 404
    assert message in page.get_data(as_text=True)


def test_not_found_pages_are_styled_and_in_the_readers_language(web) -> None:  # noqa: F811
    for path in ("/no-such-page", "/results/XXX", "/tps/0000000000000"):
        page = web.get(path)
        assert page.status_code == 404, path
        text = page.get_data(as_text=True)
        assert "<h1>Halaman tidak ditemukan</h1>" in text and 'role="search"' in text, path
        assert "style.css" in text
    english = web.get("/no-such-page", headers={"Accept-Language": "en"})
    assert "<h1>Page not found</h1>" in english.get_data(as_text=True)
    api = web.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.get_json() == {"error": "not found"}


def test_numbers_and_shares_follow_the_page_language(web) -> None:  # noqa: F811
    # PPWP nationally: 01 has 120 + 50 + 10 + 80 = 260 of SAH 825 → 31.52 %
    indonesian = web.get("/results/PPWP").get_data(as_text=True)
    english = web.get("/results/PPWP", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert ">31,52<" in indonesian and ">31.52<" not in indonesian
    assert ">31.52<" in english
    # the reporting progress, one decimal: "4 / 53 TPS (7,5%)" in Indonesian, 7.5% in English
    assert re.search(r"TPS \(\d+,\d%\)", indonesian)
    assert not re.search(r"TPS \(\d+\.\d%\)", indonesian)
    assert re.search(r"TPS \(\d+\.\d%\)", english)


def test_village_page_offers_the_tps_search(web) -> None:  # noqa: F811
    page = web.get("/results/PPWP/3576011001").get_data(as_text=True)
    assert 'name="within" value="3576011001"' in page
    assert "Cari TPS di desa ini" in page
