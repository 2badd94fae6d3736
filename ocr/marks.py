"""What the pen left on the page: per digit box its ink, per bubble how filled it is.

Works on the red channel of the warped page, where the dropout-red print vanishes; darkness is
the shortfall from the local paper brightness, so shadows and uneven light cancel out.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import cv2
import numpy as np

from ocr import glyph, layout
from ocr.align import READ_PX_PER_MM
from ocr.templates import FormField

BUBBLE_INNER = 0.72  # share of the bubble radius that is sampled (the printed ring is outside)
FILL_FLOOR = 0.15  # darkness that counts as nothing (print residue, paper texture)
FILL_FULL = 0.45  # darkness that counts as fully inked


def darkness(page_red: np.ndarray) -> np.ndarray:
    """0 = paper, 1 = black, relative to the paper around each pixel (float32)."""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (21, 21))
    paper = cv2.blur(cv2.dilate(page_red, kernel), (31, 31))
    paper = np.maximum(paper, 24).astype(np.float32)
    out = cv2.divide(page_red.astype(np.float32), paper)  # in place from here: a page is 1 MP
    np.subtract(1.0, out, out=out)
    return np.maximum(out, 0.0, out=out)  # ≤ 1 already: ink is never below zero


def box_pixels(box_mm: tuple[float, float, float, float], inset_px: int = 2) -> tuple[slice, slice]:
    x, y, w, h = box_mm
    s = READ_PX_PER_MM
    return (
        slice(round(y * s) + inset_px, round((y + h) * s) - inset_px),
        slice(round(x * s) + inset_px, round((x + w) * s) - inset_px),
    )


@functools.lru_cache(maxsize=64)
def _bubble_offsets() -> tuple[np.ndarray, np.ndarray]:
    r = layout.BUBBLE_D_MM / 2 * READ_PX_PER_MM * BUBBLE_INNER
    span = int(np.ceil(r))
    ys, xs = np.mgrid[-span : span + 1, -span : span + 1]
    inside = ys**2 + xs**2 <= r**2
    return ys[inside], xs[inside]


def bubble_fills(dark: np.ndarray, centres_mm: np.ndarray) -> np.ndarray:
    """How filled each bubble is, 0..1, for centres (…, 2) in mm; same leading shape."""
    dy, dx = _bubble_offsets()
    centres = np.rint(centres_mm.reshape(-1, 2) * READ_PX_PER_MM).astype(np.int64)
    ys = np.clip(centres[:, 1:2] + dy[None, :], 0, dark.shape[0] - 1)
    xs = np.clip(centres[:, 0:1] + dx[None, :], 0, dark.shape[1] - 1)
    values = dark[ys, xs]
    fill = np.clip((values - FILL_FLOOR) / (FILL_FULL - FILL_FLOOR), 0.0, 1.0).mean(axis=1)
    return fill.reshape(centres_mm.shape[:-1])


def field_marks(
    dark: np.ndarray, fields: Sequence[FormField]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each field and digit position: the 28×28 glyph, its ink share and its 10 bubble fills.

    Shapes: (n, 3, 28, 28), (n, 3), (n, 3, 10).
    """
    n = len(fields)
    glyphs = np.zeros((n, layout.DIGITS, glyph.SIZE, glyph.SIZE), np.float32)
    ink = np.zeros((n, layout.DIGITS), np.float32)
    centres = np.zeros((n, layout.DIGITS, 10, 2), np.float64)
    for i, f in enumerate(fields):
        for j, geometry in enumerate(f.digits()):
            crop = dark[box_pixels(geometry.box)]
            ink[i, j] = glyph.ink_share(crop)
            if ink[i, j] >= glyph.BLANK_SHARE:
                glyphs[i, j] = glyph.normalize(crop)
            centres[i, j] = geometry.bubbles
    return glyphs, ink, bubble_fills(dark, centres)
