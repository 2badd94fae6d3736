"""Photo-quality verdicts: too dark, too blurred, cropped, or no form at all.

Measured where the answer is known: the black-and-white ArUco markers. Blur is the steepest edge
across a marker relative to its contrast (a sharp edge jumps in one or two pixels); darkness is
the paper's brightness and the marker's contrast.
"""

from __future__ import annotations

import bisect
import math

import cv2
import numpy as np

from ocr import layout
from ocr.align import READ_PX_PER_MM

MIN_PX_PER_MM = 1.8  # below this the page is too small in the photo for its digits
MIN_PAPER = 70  # 90th percentile of the page's grey level
MIN_CONTRAST = 45  # paper minus marker black, grey levels
MIN_SHARPNESS = 0.16  # steepest one-pixel step / contrast, median over the markers (bench at
# hard degradation, 270 photos: between 0.16 and 0.18, 48% of fields right and unflagged, no silent
# error — the flags carry the doubt; 0.18 refused 6% of those photos)
MIN_PHOTO_SHARPNESS = 0.06  # photo_sharpness() below which a photo is out of focus


def marker_stats(page_gray: np.ndarray, found: dict[int, np.ndarray]) -> tuple[float, float]:
    """(median sharpness, median contrast) over the markers that were found; the page may
    also be BGR or BGRA (only the markers' patches are turned grey)."""
    s = READ_PX_PER_MM
    sharp, contrast = [], []
    for marker_id, (x, y, w, h) in layout.marker_rects().items():
        if marker_id not in found:
            continue
        pad = 2.0
        y0, y1 = round((y - pad) * s), round((y + h + pad) * s)
        x0, x1 = round((x - pad) * s), round((x + w + pad) * s)
        patch = page_gray[max(0, y0) : y1, max(0, x0) : x1]
        if patch.size == 0:
            continue
        if patch.ndim == 3:
            patch = grey(patch)
        # np.percentile of the patch as float32 and of its one-pixel steps (whole grey levels
        # too), from their histograms: the very same floats, without sorting.
        levels = Histogram(patch)
        lo = levels.percentile(5, np.float32, several=True)
        hi = levels.percentile(95, np.float32, several=True)
        wide = patch.astype(np.int16)
        steps = Histogram(np.abs(np.diff(wide, axis=0)), np.abs(np.diff(wide, axis=1)))
        c = hi - lo
        contrast.append(c)
        sharp.append(float(steps.percentile(99.5, np.float32)) / max(c, 1.0))
    if not sharp:
        return 0.0, 0.0
    return float(np.median(sharp)), float(np.median(contrast))


class Histogram:
    """Non-negative integers (grey levels, or steps between them) by their cumulative counts,
    for `np.percentile` of the same values as an array of some dtype without sorting them:
    the same order statistics and numpy's own linear interpolation in the same types, so the
    very same floats (tests/test_ocr_stages.py holds it to np.percentile)."""

    def __init__(self, *parts: np.ndarray) -> None:
        counts = [np.bincount(part.ravel()) for part in parts]
        total = np.zeros(max(len(c) for c in counts), np.int64)
        for c in counts:
            total[: len(c)] += c
        self.cumulative: list[int] = np.cumsum(total).tolist()
        self.n = self.cumulative[-1]

    def value(self, k: int) -> int:
        """The k-th smallest value (from 0)."""
        return bisect.bisect_right(self.cumulative, k)  # as np.searchsorted(side="right")

    def percentile(
        self, q: float, dtype: type[np.generic] = np.uint8, several: bool = False
    ) -> np.generic:
        """`np.percentile(a, q)` for the values as an array `a` of `dtype`; `several`: as one
        of a sequence of q (numpy then interpolates in float64, not in a float32 `a`'s type)."""
        virtual = (self.n - 1) * (q / 100)
        low = min(math.floor(virtual), self.n - 1)
        gamma = virtual - low  # past the end numpy's differs, but there a == b
        a = dtype(self.value(low))
        b = dtype(self.value(min(low + 1, self.n - 1)))
        t = np.float64(gamma) if several else gamma
        diff = b - a
        if t >= 0.5:
            return b - diff * (1 - t)
        return a + diff * t


def grey(image: np.ndarray) -> np.ndarray:
    """A BGR or BGRA image in grey levels (the same levels for both: alpha plays no part)."""
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


def page_problem(page: np.ndarray, found: dict[int, np.ndarray]) -> str | None:
    """An error code for a found page (BGR or BGRA) that is too dark or too blurred to read,
    or None."""
    # Grey only where it is looked at: every 4th pixel, and the markers.
    sample = grey(_every_fourth(page))
    paper = float(Histogram(sample).percentile(90))  # np.percentile(sample, 90)
    sharpness, contrast = marker_stats(page, found)
    if paper < MIN_PAPER or contrast < MIN_CONTRAST:
        return "too_dark"
    if sharpness < MIN_SHARPNESS:
        return "too_blurred"
    return None


def _every_fourth(page: np.ndarray) -> np.ndarray:
    """`page[::4, ::4]`, contiguous; a BGRA page's pixels copied as 32-bit words (numpy copies
    those several times faster than 4 strided bytes each: 0.05 against 0.3 ms a page)."""
    if page.shape[2] == 4 and page.flags.c_contiguous:
        words = np.ascontiguousarray(page.view(np.uint32)[::4, ::4, 0])
        return words.view(np.uint8).reshape(*words.shape, 4)
    return np.ascontiguousarray(page[::4, ::4])


def photo_sharpness(gray: np.ndarray) -> float:
    """Strongest edges (Laplacian, after a light denoise) relative to the photo's contrast."""
    smooth = cv2.GaussianBlur(gray, (0, 0), 1.0).astype(np.float32)
    edges = np.abs(cv2.Laplacian(smooth, cv2.CV_32F))
    lo, hi = np.percentile(gray[::2, ::2], (5, 95))
    return float(np.percentile(edges[::2, ::2], 99.5) / max(hi - lo, 1.0))


def why_no_page(gray: np.ndarray, found: dict[int, np.ndarray]) -> str:
    """Why fewer than three markers were found: the best retake hint we can give. A QR code
    that is not ours on a photo without our markers is another document, not a cut-off page."""
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    if np.percentile(small, 90) < MIN_PAPER:
        return "too_dark"
    if found:
        return "page_cropped"
    if photo_sharpness(gray) < MIN_PHOTO_SHARPNESS:
        return "too_blurred"
    from pyzbar import pyzbar

    from ocr.qr import parse_payload

    codes = []
    for image in (small, gray):  # half size is quick; a small QR code needs every pixel
        codes = pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.QRCODE])
        if codes:
            break
    if any(parse_payload(c.data.decode("utf-8", "replace")) for c in codes):
        return "page_cropped"  # our QR code without our corner markers: the page is cut off
    if codes:
        return "not_our_form"  # another document's QR code
    return "no_form_found"
