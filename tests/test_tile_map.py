"""The country at a glance: the national results page draws all 38 provinces as tiles from
the bundled layout, shaded by the share of their TPS confirmed, linked to each province
(those with data), with nothing fetched from elsewhere."""

from __future__ import annotations

import re

from tests.test_dashboard import reported, web  # noqa: F401  (fixtures)
from web.dashboard.tile_map import LAYOUT


def test_layout_places_38_provinces_on_distinct_tiles() -> None:
    assert len(LAYOUT) == 38
    assert len({(row, column) for row, column, _ in LAYOUT.values()}) == 38


def test_national_page_draws_every_province_shaded_by_progress(web) -> None:  # noqa: F811
    page = web.get("/results/PPWP").get_data(as_text=True)
    shading = {code: int(level) for level, code in re.findall(
        r'<g class="tile level-(-?\d)" data-province="(\d\d)"', page)}
    assert set(shading) == set(LAYOUT)
    # TALLIES confirm 3 of Jawa Timur's TPS and 1 of Jawa Barat's; Aceh has no demo regions.
    assert shading["11"] == -1 and shading["35"] >= 1 and shading["32"] >= 1
    assert shading["34"] == 0  # DI Yogyakarta: TPS loaded, none confirmed yet
    assert 'href="/results/PPWP/35"' in page and 'href="/results/PPWP/11"' not in page
    assert "Jawa Timur: 3 / " in page
    assert "http" not in page[page.index('id="tile-map"'):page.index("</figure>")]
    region = web.get("/results/PPWP/35").get_data(as_text=True)
    assert 'id="tile-map"' not in region  # the country's overview only
