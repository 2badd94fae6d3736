"""A photo of a form as a person wants to see it: the page upright and straight.

The reader finds the page by its ArUco corner markers (ocr.align): the same homography that
warps the page to the template frame for reading turns a page photographed sideways, upside
down or at a slant into an upright, rectified page here. The QR code on that page says which
form and page it is, so a viewer can point at a field's box (ocr.layout). A photo without our
markers is shown as taken, re-encoded (its EXIF orientation applied, its metadata — the
phone's GPS position among them — dropped).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocr import align, layout, qr
from ocr.photo import PhotoError, decode_photo

VIEW_PX_PER_MM = 5.0  # 1050 × 1485 px for A4: every digit readable, a few hundred KB
JPEG_QUALITY = 85
QR_MARGIN_MM = 3.0
QR_PX_PER_MM = 8.0


@dataclass(frozen=True)
class UprightPhoto:
    jpeg: bytes
    width: int
    height: int
    rectified: bool  # the page was found: cut out, upright, in the template's frame
    rotation: int  # how the page lay in the photo (degrees clockwise), 0 when not found
    contest: str | None = None  # from the page's QR code
    tps_code: str | None = None
    page: int | None = None
    form_version: str | None = None

    def meta(self) -> dict[str, object]:
        return {
            "width": self.width,
            "height": self.height,
            "rectified": self.rectified,
            "rotation": self.rotation,
            "contest": self.contest,
            "tps_code": self.tps_code,
            "page": self.page,
            "form_version": self.form_version,
        }


def _jpeg(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise PhotoError("not_an_image", "could not encode")
    return encoded.tobytes()


def upright(data: bytes) -> UprightPhoto:
    """The page upright and rectified, or the photo as taken; raises PhotoError for bytes
    that are no photo (or too large to decode safely)."""
    image = decode_photo(data)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    alignment = align.align(align.detect_markers(gray))
    if alignment is None:
        height, width = image.shape[:2]
        return UprightPhoto(_jpeg(image), width, height, rectified=False, rotation=0)
    page = align.warp(image, alignment, VIEW_PX_PER_MM)
    # The warp fills what lies outside the photo with black; white reads as paper.
    outside = align.warp(np.full(gray.shape, 255, np.uint8), alignment, VIEW_PX_PER_MM) == 0
    page[outside] = 255
    qr_rect = (layout.QR_X_MM - QR_MARGIN_MM, layout.QR_Y_MM - QR_MARGIN_MM,
               layout.QR_MM + 2 * QR_MARGIN_MM, layout.QR_MM + 2 * QR_MARGIN_MM)
    code = qr.decode(align.warp(gray, alignment, QR_PX_PER_MM, qr_rect), QR_PX_PER_MM)
    height, width = page.shape[:2]
    return UprightPhoto(
        _jpeg(page),
        width,
        height,
        rectified=True,
        rotation=alignment.rotation,
        contest=code.contest_code if code else None,
        tps_code=code.tps_code if code else None,
        page=code.page if code else None,
        form_version=code.version if code else None,
    )


def field_box(slot: int) -> tuple[float, float, float, float]:
    """Where a field's block lies on an upright page: x, y, width, height as fractions of the
    page (what a viewer needs to zoom on it at any size)."""
    x, y, w, h = layout.block_rect(slot)
    return (x / layout.PAGE_W_MM, y / layout.PAGE_H_MM, w / layout.PAGE_W_MM, h / layout.PAGE_H_MM)
