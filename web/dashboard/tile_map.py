"""The country at a glance: Indonesia's 38 provinces as a grid of equal tiles placed roughly
where they lie (west to east, north to south), each shaded by how much of its TPS have
confirmed tallies. Drawn by the server as SVG from this bundled layout: no map tiles, no
scripts, nothing fetched from elsewhere (the CSP stays strict)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from relay.results import Area

TILE = 44  # px per tile in the SVG's own units
GAP = 4
# code: (row, column, short label) — Kemendagri province codes (2022: 38 provinces).
LAYOUT: dict[str, tuple[int, int, str]] = {
    "11": (0, 0, "ACEH"), "12": (1, 1, "SUMUT"), "13": (2, 1, "SUMBAR"), "14": (2, 2, "RIAU"),
    "21": (1, 3, "KEPRI"), "15": (3, 2, "JAMBI"), "17": (3, 1, "BKL"), "19": (3, 3, "BABEL"),
    "16": (4, 2, "SUMSEL"), "18": (5, 2, "LPG"), "36": (6, 3, "BTN"), "31": (5, 4, "DKI"),
    "32": (6, 4, "JABAR"), "33": (6, 5, "JATENG"), "34": (7, 5, "DIY"), "35": (6, 6, "JATIM"),
    "51": (6, 7, "BALI"), "52": (6, 8, "NTB"), "53": (6, 9, "NTT"), "61": (2, 5, "KALBAR"),
    "62": (3, 6, "KALTENG"), "63": (4, 7, "KALSEL"), "64": (2, 7, "KALTIM"),
    "65": (1, 7, "KALTARA"), "75": (1, 9, "GTLO"), "71": (1, 10, "SULUT"),
    "72": (2, 9, "SULTENG"), "76": (3, 8, "SULBAR"), "73": (4, 8, "SULSEL"),
    "74": (4, 9, "SULTRA"), "82": (2, 11, "MALUT"), "81": (4, 11, "MALUKU"),
    "96": (2, 12, "PBD"), "92": (3, 12, "PABAR"), "94": (3, 13, "PATENG"), "91": (2, 14, "PAPUA"),
    "95": (3, 14, "PAPEG"), "93": (4, 14, "PASEL"),
}
ROWS = 1 + max(row for row, _, _ in LAYOUT.values())
COLUMNS = 1 + max(column for _, column, _ in LAYOUT.values())


@dataclass(frozen=True)
class Tile:
    code: str
    label: str
    name: str
    x: int
    y: int
    confirmed: int
    total: int
    level: int  # 0 nothing yet … 4 three quarters or more; -1 no data (not loaded, not held)

    @property
    def percent(self) -> float:
        return 100.0 * self.confirmed / self.total if self.total else 0.0


def tiles(provinces: Iterable[Area]) -> list[Tile]:
    """One tile per province of the layout; those without data are drawn empty."""
    known = {area.code: area for area in provinces}
    drawn = []
    for code, (row, column, label) in sorted(LAYOUT.items()):
        area = known.get(code)
        total = area.tps_total if area is not None else 0
        confirmed = area.tps_confirmed if area is not None else 0
        if not total:
            level = -1
        elif not confirmed:
            level = 0
        else:
            level = min(4, 1 + int(4 * confirmed / total - 1e-9))
        drawn.append(
            Tile(
                code=code,
                label=label,
                name=area.name if area is not None else label,
                x=column * (TILE + GAP),
                y=row * (TILE + GAP),
                confirmed=confirmed,
                total=total,
                level=level,
            )
        )
    return drawn


def size() -> tuple[int, int]:
    return COLUMNS * (TILE + GAP) - GAP, ROWS * (TILE + GAP) - GAP
