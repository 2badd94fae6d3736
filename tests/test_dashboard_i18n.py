"""Every page text exists in Indonesian and English, and the language switch works."""

from __future__ import annotations

import re

from relay.config import ROOT
from web.i18n import CATALOG

_KEY = re.compile(r"""\bt\(\s*['"]([a-z_]+)['"]\s*[,)]""")
_PREFIX = re.compile(r"""\bt\(\s*['"]([a-z_]+_)['"]\s*~""")


def _sources() -> list[str]:
    files = [*(ROOT / "web").rglob("*.html"), *(ROOT / "web").rglob("*.py")]
    return [path.read_text(encoding="utf-8") for path in files]


def test_every_text_key_used_exists_in_both_languages() -> None:
    used = {key for source in _sources() for key in _KEY.findall(source)}
    assert len(used) > 100
    missing = sorted(key for key in used if key not in CATALOG)
    assert not missing
    for key, variants in CATALOG.items():
        assert set(variants) == {"id", "en"} and all(variants.values()), key


def test_every_prefix_family_has_texts() -> None:
    prefixes = {p for source in _sources() for p in _PREFIX.findall(source)}
    assert {"status_", "sub_", "kind_", "delivery_", "level_", "tickets_"} <= prefixes
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in CATALOG), prefix


def test_pages_follow_the_chosen_language(demo: str) -> None:
    from webhooks import create_app

    client = create_app().test_client()
    assert "Hasil penghitungan suara" in client.get("/").get_data(as_text=True)
    english = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Vote count results" in english.get_data(as_text=True)
    switch = client.get("/lang/en?next=/results/PPWP")
    assert switch.status_code == 302 and switch.headers["Location"] == "/results/PPWP"
    assert "Tallies confirmed per hour" in client.get("/results/PPWP").get_data(as_text=True)
    assert client.get("/lang/en?next=https://evil.example/").headers["Location"] == "/"
    assert client.get("/lang/xx").status_code == 404
