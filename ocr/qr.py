"""The form's QR code: what it says (template, version, contest, TPS, page) and how to read it.

Payload, QR alphanumeric mode so it stays a small version 2 code:
`TPSR1:<CONTEST>:<VERSION>:<TPS CODE>:<PAGE>:<PAGES>`, e.g. `TPSR1:PPWP:1A2B3C4D:3576011001001:1:1`.
The QR identifies the page; it never aligns it (its corners are too coarse, NOTES-ocr).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

PREFIX = "TPSR1"
_PAYLOAD = re.compile(r"TPSR1:([A-Z]{2,10}):([0-9A-F]{8}):(\d{13}):(\d{1,2}):(\d{1,2})")


@dataclass(frozen=True)
class QrData:
    contest_code: str
    version: str  # lower-case hex, as FormTemplate.version
    tps_code: str
    page: int
    pages: int

    @property
    def template_id(self) -> str:
        from ocr.templates import TEMPLATE_PREFIX

        return f"{TEMPLATE_PREFIX}-{self.contest_code}"


def encode_payload(data: QrData) -> str:
    return (
        f"{PREFIX}:{data.contest_code}:{data.version.upper()}:{data.tps_code}:"
        f"{data.page}:{data.pages}"
    )


def parse_payload(text: str) -> QrData | None:
    match = _PAYLOAD.fullmatch(text.strip().upper())
    if match is None:
        return None
    contest, version, tps, page, pages = match.groups()
    return QrData(contest, version.lower(), tps, int(page), int(pages))


def qr_matrix(payload: str) -> np.ndarray:
    """The QR code as a uint8 array, 0 = dark module, 255 = light, with a 2-module quiet zone
    (the white page around it does the rest)."""
    params = cv2.QRCodeEncoder_Params()
    params.correction_level = cv2.QRCodeEncoder_CORRECT_LEVEL_M
    return cv2.QRCodeEncoder.create(params).encode(payload)


def _attempts(gray: np.ndarray, px_per_mm: float):  # type: ignore[no-untyped-def]
    """The crop as is, then sharpened (a blurred photo), then binarised (uneven light)."""
    yield gray
    soft = cv2.GaussianBlur(gray, (0, 0), 2.0 * px_per_mm / 8.0)
    yield cv2.addWeighted(gray, 2.0, soft, -1.0, 0)
    yield cv2.addWeighted(gray, 3.0, soft, -2.0, 0)
    block = int(4 * px_per_mm) | 1
    yield cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 10)


@dataclass(frozen=True)
class QrRead:
    """What the QR crop gave: our payload, or the text of a QR code that is not ours."""

    data: QrData | None = None
    foreign: str | None = None  # a code was read but it is not a TPS Relay form's


def read(gray: np.ndarray, px_per_mm: float = 8.0) -> QrRead:
    """Read the QR code in a grayscale crop at `px_per_mm`: ours, someone else's, or nothing."""
    from pyzbar import pyzbar

    foreign = None
    for image in _attempts(gray, px_per_mm):
        for symbol in pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.QRCODE]):
            text = symbol.data.decode("utf-8", "replace")
            data = parse_payload(text)
            if data is not None:
                return QrRead(data)
            foreign = foreign or text
        if foreign is not None:
            break
    return QrRead(None, foreign)


def decode(gray: np.ndarray, px_per_mm: float = 8.0) -> QrData | None:
    """Read our payload from a grayscale crop at `px_per_mm` that holds the QR code."""
    return read(gray, px_per_mm).data
