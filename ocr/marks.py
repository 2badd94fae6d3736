"""What the pen left on the page: per digit box its ink, per bubble how filled it is.

Works on the red channel of the warped page, where the dropout-red print vanishes; darkness is
the shortfall from the local paper brightness, so shadows and uneven light cancel out.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ocr import glyph, layout
from ocr.align import READ_PX_PER_MM
from ocr.templates import FormField

BUBBLE_INNER = 0.72  # share of the bubble radius that is sampled (the printed ring is outside)
FILL_FLOOR = 0.15  # darkness that counts as nothing (print residue, paper texture)
FILL_FULL = 0.45  # darkness that counts as fully inked


def paper_level(page_red: np.ndarray) -> np.ndarray:
    """The paper's local brightness around each pixel (uint8): the brightest nearby, smoothed."""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (21, 21))
    return cv2.blur(cv2.dilate(page_red, kernel), (31, 31))


def darkness_of(red: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Darkness (float32) of red-channel pixels given the paper level at the same pixels; any
    shape, element by element, so a crop or a gather of pixels gives exactly the page's values."""
    out = red.astype(np.float32)
    np.divide(out, np.maximum(paper, 24).astype(np.float32), out=out)
    np.subtract(1.0, out, out=out)
    return np.maximum(out, 0.0, out=out)  # ≤ 1 already: ink is never below zero


def darkness(page_red: np.ndarray) -> np.ndarray:
    """0 = paper, 1 = black, relative to the paper around each pixel (float32)."""
    return darkness_of(page_red, paper_level(page_red))


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
    ys, xs = _bubble_pixels(centres_mm, dark.shape[:2])
    return _fill(dark[ys, xs]).reshape(centres_mm.shape[:-1])


def _bubble_pixels(centres_mm: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The page pixels each bubble samples: rows and columns, (bubbles, samples)."""
    dy, dx = _bubble_offsets()
    centres = np.rint(centres_mm.reshape(-1, 2) * READ_PX_PER_MM).astype(np.int64)
    ys = np.clip(centres[:, 1:2] + dy[None, :], 0, shape[0] - 1)
    xs = np.clip(centres[:, 0:1] + dx[None, :], 0, shape[1] - 1)
    return ys, xs


def _fill(values: np.ndarray) -> np.ndarray:
    """Per bubble (row) how filled it is, from its sampled darkness."""
    return np.clip((values - FILL_FLOOR) / (FILL_FULL - FILL_FLOOR), 0.0, 1.0).mean(axis=1)


@dataclass(frozen=True)
class _Grid:
    """Where a page's fields are read, in page pixels: worked out once per layout."""

    boxes: tuple[tuple[int, int, slice, slice], ...]  # field, digit, rows, columns
    spans: dict[tuple[int, int], tuple[int, int]]  # a box row (top, bottom) → its columns
    bubble_ys: np.ndarray  # (fields · digits · 10, samples) rows, as _bubble_pixels
    bubble_xs: np.ndarray
    first: int  # the first and one past the last page row read (boxes and bubbles)
    last: int


@functools.lru_cache(maxsize=64)
def _grid(slots: tuple[int, ...], shape: tuple[int, int]) -> _Grid:
    """The geometry of fields in `slots` on a page of `shape`: a pure function of the layout's
    constants, so kept (a handful of page layouts per election; the arrays are never written)."""
    boxes, spans = [], {}
    for i, slot in enumerate(slots):
        for j, geometry in enumerate(layout.digit_geometry(slot)):
            rows, cols = box_pixels(geometry.box)
            boxes.append((i, j, rows, cols))
            x0, x1 = spans.get((rows.start, rows.stop), (cols.start, cols.stop))
            spans[rows.start, rows.stop] = (min(x0, cols.start), max(x1, cols.stop))
    centres = np.array(
        [g.bubbles for slot in slots for g in layout.digit_geometry(slot)], np.float64
    ).reshape(len(slots), layout.DIGITS, 10, 2)
    ys, xs = _bubble_pixels(centres, shape)
    first, last = _bubble_rows(centres, shape)
    first = min([first, *(top for top, _ in spans)])
    last = max([last, *(bottom for _, bottom in spans)])
    for array in (ys, xs):
        array.flags.writeable = False
    return _Grid(tuple(boxes), spans, ys, xs, first, last)


def field_marks(
    dark: np.ndarray, fields: Sequence[FormField]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each field and digit position: the 28×28 glyph, its ink share and its 10 bubble fills.

    Shapes: (n, 3, 28, 28), (n, 3), (n, 3, 10).
    """
    return _marks(fields, lambda rows, cols: dark[rows, cols], lambda ys, xs: dark[ys, xs],
                  dark.shape[:2])


def page_marks(
    page_red: np.ndarray, fields: Sequence[FormField]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`field_marks(darkness(page_red), fields)`, exactly, with the darkness worked out only
    where it is read (the digit boxes' rows, the bubbles' pixels), and the paper level only in
    the rows that needs (the grid's, and PAPER_REACH around them)."""
    if not fields:  # no field on the page: nothing to read
        return field_marks(np.zeros((0, 0), np.float32), fields)
    grid = _grid(tuple(f.slot for f in fields), page_red.shape[:2])
    top = max(0, grid.first - PAPER_REACH)
    red = page_red[top : min(page_red.shape[0], grid.last + PAPER_REACH)]
    paper = paper_level(red)  # row r of the page is row r - top here
    bands: dict[tuple[int, int], tuple[int, np.ndarray]] = {}
    for (y0, y1), (x0, x1) in grid.spans.items():
        rows, cols = slice(y0 - top, y1 - top), slice(x0, x1)
        bands[y0, y1] = (x0, darkness_of(red[rows, cols], paper[rows, cols]))

    def box(rows: slice, cols: slice) -> np.ndarray:
        left, band = bands[rows.start, rows.stop]
        return band[:, cols.start - left : cols.stop - left]

    def pixels(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        return darkness_of(red[ys - top, xs], paper[ys - top, xs])

    return _marks(fields, box, pixels, page_red.shape[:2])


# How far the paper level reaches: the dilation's and the blur's radius, and one to spare.
PAPER_REACH = 10 + 15 + 1


def _bubble_rows(centres_mm: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int]:
    """The first and one past the last page row a bubble of `centres_mm` samples."""
    if centres_mm.size == 0:
        return shape[0], 0
    dy, _dx = _bubble_offsets()
    ys = np.rint(centres_mm[..., 1] * READ_PX_PER_MM).astype(np.int64)
    return (int(np.clip(ys.min() + dy.min(), 0, shape[0] - 1)),
            int(np.clip(ys.max() + dy.max(), 0, shape[0] - 1)) + 1)


def _marks(
    fields: Sequence[FormField],
    box: Callable[[slice, slice], np.ndarray],
    pixels: Callable[[np.ndarray, np.ndarray], np.ndarray],
    shape: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(fields)
    glyphs = np.zeros((n, layout.DIGITS, glyph.SIZE, glyph.SIZE), np.float32)
    ink = np.zeros((n, layout.DIGITS), np.float32)
    if n == 0:
        return glyphs, ink, np.zeros((0, layout.DIGITS, 10), np.float32)
    grid = _grid(tuple(f.slot for f in fields), (shape[0], shape[1]))
    for i, j, rows, cols in grid.boxes:
        crop = box(rows, cols)
        ink[i, j] = glyph.ink_share(crop)
        if ink[i, j] >= glyph.BLANK_SHARE:  # the stored float32, as the reader compares it
            glyph.normalize(crop, out=glyphs[i, j])
    fills = _fill(pixels(grid.bubble_ys, grid.bubble_xs))
    return glyphs, ink, fills.reshape(n, layout.DIGITS, 10)
