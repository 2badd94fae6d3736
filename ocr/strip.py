"""The identity strip: the QR code's identity printed a second time, as big cells under the grid.

A QR module is 1.24 mm; on a blurred 1280 px photo at arm's length that is 3–4 pixels, and one
glare spot or thumb over the top right corner loses the whole code. The strip carries the same
identity (TPS code, contest, template version, page, pages) in 4 × 54 cells of 2.6 mm, read
where the ArUco homography puts them, with Reed-Solomon error correction (10 parity bytes: five
damaged bytes, or ten known-doubtful ones, are repaired), so it survives blur, shadow and a
covered stretch. It is read only when the QR code is not.

Bits: format (2) · TPS code (44) · version (32) · contest, 8 letters of 5 bits (40) · page (6) ·
pages (6), padded to 17 bytes, RS-encoded to 27 bytes, whitened with a fixed pseudo-random mask
(so no long dark or light runs: the local mean is the threshold), laid out column by column (a
byte fills two columns, so a smudge damages few bytes).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from ocr import layout
from ocr.qr import QrData

FORMAT = 1
ROWS, COLS = 4, 54
CELL_MM = 2.6
X_MM = (layout.PAGE_W_MM - COLS * CELL_MM) / 2
Y_MM = 270.2
DATA_BYTES = 17
PARITY = 10
CONTEST_CHARS = 8
SEARCH_MM = 1.2  # how far the homography may misplace the strip
STEP_MM = 0.3
READ_PX_PER_MM = 6.0
MARGIN_MM = SEARCH_MM + 1.0


def rect() -> layout.Rect:
    return X_MM, Y_MM, COLS * CELL_MM, ROWS * CELL_MM


@functools.lru_cache(maxsize=1)
def _codec():  # type: ignore[no-untyped-def]
    import reedsolo

    return reedsolo.RSCodec(PARITY)


@functools.lru_cache(maxsize=1)
def _mask() -> np.ndarray:
    return np.random.default_rng(0x5154).integers(0, 2, ROWS * COLS).astype(bool)


def _pack(data: QrData) -> bytes | None:
    contest = data.contest_code.upper()
    if (len(contest) > CONTEST_CHARS or not contest.isalpha() or not contest.isascii()
            or not data.tps_code.isdigit() or len(data.tps_code) != 13
            or not 1 <= data.page <= data.pages < 64):
        return None
    letters = 0
    for char in contest.ljust(CONTEST_CHARS, "@"):  # "@" → 0: padding
        letters = letters << 5 | (ord(char) - ord("@"))
    value = FORMAT
    for part, bits in ((int(data.tps_code), 44), (int(data.version, 16), 32), (letters, 40),
                       (data.page, 6), (data.pages, 6)):
        value = value << bits | part
    return (value << (DATA_BYTES * 8 - 130)).to_bytes(DATA_BYTES, "big")


def _unpack(raw: bytes) -> QrData | None:
    value = int.from_bytes(raw, "big") >> (DATA_BYTES * 8 - 130)
    fields = []
    for bits in (6, 6, 40, 32, 44):
        fields.append(value & ((1 << bits) - 1))
        value >>= bits
    pages, page, letters, version, tps = fields
    if value != FORMAT or tps >= 10**13 or not 1 <= page <= pages:
        return None
    contest = ""
    for shift in range(5 * (CONTEST_CHARS - 1), -1, -5):
        code = letters >> shift & 31
        if code > 26:
            return None
        contest += chr(ord("@") + code) if code else ""
    if len(contest) < 2 or contest != contest.rstrip("@"):
        return None
    return QrData(contest, f"{version:08x}", f"{tps:013d}", page, pages)


def encode(data: QrData) -> np.ndarray | None:
    """ROWS × COLS booleans, True = a dark cell; None when the identity does not fit."""
    raw = _pack(data)
    if raw is None:
        return None
    coded = bytes(_codec().encode(raw))
    bits = np.unpackbits(np.frombuffer(coded, np.uint8)).astype(bool) ^ _mask()
    return bits.reshape(COLS, ROWS).T  # column by column


def decode_levels(dark: np.ndarray) -> QrData | None:
    """The identity from per-cell darkness (ROWS × COLS, larger = darker, any scale)."""
    import reedsolo

    flat = dark.T.ravel()  # column by column, as encoded
    lo, hi = np.percentile(flat, (10, 90))
    if hi - lo < 1e-6:
        return None
    level = (flat - (lo + hi) / 2) / (hi - lo)
    bits = (level > 0) ^ _mask()
    coded = np.packbits(bits).tobytes()
    doubt = np.abs(level).reshape(-1, 8).min(axis=1)  # a byte is as sure as its worst bit
    order = [int(i) for i in np.argsort(doubt)]
    for erasures in (0, 4, 6, 8, 10):
        try:
            raw, _full, _errata = _codec().decode(coded, erase_pos=order[:erasures] or None)
        except reedsolo.ReedSolomonError:
            continue
        data = _unpack(bytes(raw))
        if data is not None:
            return data
    return None


def _centres(px: float, dx_mm: float, dy_mm: float) -> tuple[np.ndarray, np.ndarray]:
    cols = (MARGIN_MM + dx_mm + (np.arange(COLS) + 0.5) * CELL_MM) * px
    rows = (MARGIN_MM + dy_mm + (np.arange(ROWS) + 0.5) * CELL_MM) * px
    return np.rint(rows).astype(int), np.rint(cols).astype(int)


def read(gray_patch: np.ndarray, px_per_mm: float = READ_PX_PER_MM) -> QrData | None:
    """The identity from the strip's crop (`crop_rect()` at `px_per_mm`), or None.

    Each cell is its middle half's mean, relative to the paper's local white (shadows); the
    crop is searched ±SEARCH_MM for where the cells are most black-or-white (the homography's
    residual error), and the best few positions are decoded."""
    patch = gray_patch.astype(np.float32)
    k = max(3, round(CELL_MM * 3 * px_per_mm)) | 1
    white = cv2.dilate(patch, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    white = cv2.blur(white, (k, k))
    dark = 1.0 - patch / np.maximum(white, 1.0)
    half = max(1, round(CELL_MM * px_per_mm / 2))
    mean = cv2.blur(dark, (half, half))
    steps = np.arange(-SEARCH_MM, SEARCH_MM + 1e-6, STEP_MM)
    scored = []
    for dy in steps:
        for dx in steps:
            r, c = _centres(px_per_mm, float(dx), float(dy))
            if r[-1] >= mean.shape[0] or c[-1] >= mean.shape[1] or r[0] < 0 or c[0] < 0:
                continue
            cells = mean[np.ix_(r, c)]
            scored.append((float(cells.std()), cells))
    scored.sort(key=lambda s: -s[0])
    for _score, cells in scored[:3]:
        data = decode_levels(cells)
        if data is not None:
            return data
    return None


def crop_rect() -> layout.Rect:
    """The part of the page to warp for `read`: the strip and the search margin around it."""
    x, y, w, h = rect()
    return x - MARGIN_MM, y - MARGIN_MM, w + 2 * MARGIN_MM, h + 2 * MARGIN_MM
