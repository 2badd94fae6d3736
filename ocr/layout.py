"""Page geometry of the tally form, in millimetres (A4 portrait).

Everything the renderer draws and the reader looks at is placed here, so that the two can never
disagree. Fields sit in a grid of blocks (6 across, 4 down); a block is a label, three digit boxes
and, under each box, a column of ten bubbles 0–9 (top to bottom).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

PAGE_W_MM = 210.0
PAGE_H_MM = 297.0

# Four ArUco markers (DICT_4X4_50), ids 0..3 clockwise from the top left.
MARKER_MM = 16.0
MARKER_MARGIN_MM = 8.0
MARKER_IDS = (0, 1, 2, 3)

QR_MM = 36.0  # version 2 (25 modules + 2-module quiet zones): 1.24 mm a module
QR_X_MM = 148.5
QR_Y_MM = 4.0

GRID_X0_MM = 12.0
GRID_Y0_MM = 42.0
COLUMNS = 6
ROWS = 4
FIELDS_PER_PAGE = COLUMNS * ROWS
BLOCK_W_MM = 31.0
BLOCK_H_MM = 57.0

LABEL_H_MM = 6.5
BOX_W_MM = 8.5
BOX_H_MM = 10.5
BOX_GAP_MM = 1.3
BOX_X0_MM = 1.0
BOX_Y0_MM = 7.0
BUBBLE_D_MM = 3.0
BUBBLE_PITCH_MM = 3.6
BUBBLE_Y0_MM = BOX_Y0_MM + BOX_H_MM + 2.3  # centre of bubble 0
DIGITS = 3

Rect = tuple[float, float, float, float]  # x, y, w, h


@dataclass(frozen=True)
class DigitGeometry:
    """One digit position of a field: its box and the centres of its ten bubbles."""

    box: Rect
    bubbles: tuple[tuple[float, float], ...]  # (cx, cy) for 0..9
    bubble_d: float = BUBBLE_D_MM


def marker_rects() -> dict[int, Rect]:
    """Marker id → square, clockwise from the top left."""
    m, s = MARKER_MARGIN_MM, MARKER_MM
    right, bottom = PAGE_W_MM - m - s, PAGE_H_MM - m - s
    return {0: (m, m, s, s), 1: (right, m, s, s), 2: (right, bottom, s, s), 3: (m, bottom, s, s)}


def marker_corners() -> dict[int, list[tuple[float, float]]]:
    """Marker id → its four corners in ArUco order (TL, TR, BR, BL of the marker itself)."""
    out: dict[int, list[tuple[float, float]]] = {}
    for marker_id, (x, y, w, h) in marker_rects().items():
        out[marker_id] = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    return out


def block_origin(slot: int) -> tuple[float, float]:
    row, col = divmod(slot, COLUMNS)
    return GRID_X0_MM + col * BLOCK_W_MM, GRID_Y0_MM + row * BLOCK_H_MM


def block_rect(slot: int) -> Rect:
    x, y = block_origin(slot)
    return x, y, BLOCK_W_MM - 1.0, BLOCK_H_MM - 1.5


def label_rect(slot: int) -> Rect:
    x, y = block_origin(slot)
    return x + BOX_X0_MM, y, BLOCK_W_MM - 3.0, LABEL_H_MM


@functools.lru_cache(maxsize=FIELDS_PER_PAGE)
def digit_geometry(slot: int) -> tuple[DigitGeometry, ...]:
    """The three digit positions (hundreds, tens, units) of the field in `slot`."""
    bx, by = block_origin(slot)
    out = []
    for i in range(DIGITS):
        x = bx + BOX_X0_MM + i * (BOX_W_MM + BOX_GAP_MM)
        y = by + BOX_Y0_MM
        cx = x + BOX_W_MM / 2
        bubbles = tuple((cx, by + BUBBLE_Y0_MM + d * BUBBLE_PITCH_MM) for d in range(10))
        out.append(DigitGeometry(box=(x, y, BOX_W_MM, BOX_H_MM), bubbles=bubbles))
    return tuple(out)


def header_rect() -> Rect:
    """Where the printed title and TPS code go (between the top markers, left of the QR)."""
    x0 = MARKER_MARGIN_MM + MARKER_MM + 3.0
    return x0, 7.0, QR_X_MM - 2.0 - x0, 30.0
