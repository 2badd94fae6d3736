"""The page as read: the rectified photo with each value drawn over its boxes (JPEG bytes).

Green frames are values read with confidence; orange frames mark fields the officer must check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ocr import layout
from ocr.align import READ_PX_PER_MM
from ocr.templates import FormField

if TYPE_CHECKING:
    from ocr.reader import FieldReading

SURE = (40, 150, 30)  # BGR
CHECK = (0, 120, 255)
JPEG_QUALITY = 80


def annotate(
    page: np.ndarray, fields: Sequence[FormField], readings: Sequence[FieldReading],
    *, copy: bool = True,
) -> bytes:
    """`page`: BGR, or BGRA as the reader warps it (its alpha is not encoded: the same JPEG).
    `copy=False` draws on `page` itself (the reader's last use of it: no 3 MB copy)."""
    s = READ_PX_PER_MM
    out = page.copy() if copy else page
    for f, reading in zip(fields, readings, strict=True):
        if not reading.given:  # an optional field left blank: nothing to show
            continue
        digits = f.digits()
        x0, y0, _w, _h = digits[0].box
        x1 = digits[-1].box[0] + digits[-1].box[2]
        y1 = y0 + layout.BOX_H_MM
        colour = CHECK if reading.uncertain else SURE
        top_left = (round((x0 - 0.6) * s), round((y0 - 0.6) * s))
        bottom_right = (round((x1 + 0.6) * s), round((y1 + 0.6) * s))
        cv2.rectangle(out, top_left, bottom_right, colour, 2)
        # The value on a white tag over the right of the label row (the code stays visible).
        text = f"{reading.value}" + ("?" if reading.uncertain else "")
        tag = (round((x1 - 14.0) * s), round((y0 - layout.BOX_Y0_MM + 0.2) * s),
               bottom_right[0], round((y0 - 0.9) * s))
        cv2.rectangle(out, tag[:2], tag[2:], (255, 255, 255), -1)
        cv2.rectangle(out, tag[:2], tag[2:], colour, 2)
        scale = 0.7
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        org = ((tag[0] + tag[2] - tw) // 2, (tag[1] + tag[3] + th) // 2)
        cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 2, cv2.LINE_AA)
        # Each digit as read, small, in the box's top-right corner.
        for geometry, char in zip(digits, f"{reading.value:>3}", strict=True):
            if char == " ":
                continue
            bx, by, bw, _bh = geometry.box
            cv2.putText(out, char, (round((bx + bw - 2.6) * s), round((by + 2.6) * s)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.38, colour, 1, cv2.LINE_AA)
    ok, jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:  # pragma: no cover - encoding an in-memory BGR image does not fail
        raise RuntimeError("JPEG encoding failed")
    return jpeg.tobytes()
