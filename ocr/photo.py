"""Safe decoding of an untrusted photo: byte limit, pixel limit from the header, then decode.

The pixel check reads only the image header with Pillow, before OpenCV allocates anything, so a
small file that declares a huge image (a decompression bomb) costs nothing. OpenCV applies the
EXIF orientation, so a phone photo comes out the way it was shot.
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
from PIL import Image

MAX_BYTES = 20 * 1024 * 1024  # Telegram's download limit; Twilio caps media at 5 MB
MAX_PIXELS = 40_000_000  # a 40 MP phone photo; bigger ones are bombs or scans gone wrong
WORK_LONG_SIDE = 1600  # the reader never needs more (Telegram sends 1280)
FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}


class PhotoError(Exception):
    """A photo the reader refuses; `code` names why (see ocr.hints)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def decode_photo(
    data: bytes, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """BGR image, long side at most WORK_LONG_SIDE; raises PhotoError."""
    if len(data) > max_bytes:
        raise PhotoError("too_large", f"{len(data)} bytes > {max_bytes}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as header:
                width, height = header.size
                kind = header.format
    except Image.DecompressionBombError as exc:
        raise PhotoError("too_many_pixels", str(exc)) from None
    except Exception as exc:
        raise PhotoError("not_an_image", type(exc).__name__) from None
    if kind not in FORMATS:
        raise PhotoError("not_an_image", f"format {kind}")
    if width * height > max_pixels:
        raise PhotoError("too_many_pixels", f"{width}x{height}")
    flags = cv2.IMREAD_COLOR
    long_side = max(width, height)
    if long_side >= 4 * WORK_LONG_SIDE:
        flags = cv2.IMREAD_REDUCED_COLOR_4
    elif long_side >= 2 * WORK_LONG_SIDE:
        flags = cv2.IMREAD_REDUCED_COLOR_2
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as exc:
        raise PhotoError("too_many_pixels", str(exc).strip()[:120]) from None
    if image is None or image.size == 0:
        raise PhotoError("not_an_image", "undecodable")
    scale = WORK_LONG_SIDE / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image
