"""The printed header read with tesseract: TPS code, contest and page, to back up the QR code.

The form prints `PPWP · HAL 1/1` and `TPS 3576011001001` in 5 mm letters, big enough to read on a
photo whose QR code and identity strip were both lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

TPS = re.compile(r"TPS\s*([0-9OoIl]{13})")
CONTEST = re.compile(r"^\s*([A-Z]{2,10})\s*[·.,:-]", re.MULTILINE)
PAGE = re.compile(r"HAL\.?\s*([0-9OoIl]{1,2})\s*/\s*([0-9OoIl]{1,2})", re.IGNORECASE)
DIGITS = str.maketrans("OoIl", "0011")


@dataclass(frozen=True)
class HeaderText:
    tps: str | None = None
    contest: str | None = None
    page: int | None = None
    pages: int | None = None


def parse_header(text: str) -> HeaderText:
    """What the recognised header text says (each part None when missing)."""
    tps = TPS.search(text)
    contest = CONTEST.search(text)
    page = PAGE.search(text)
    return HeaderText(
        tps.group(1).translate(DIGITS) if tps else None,
        contest.group(1) if contest else None,
        int(page.group(1).translate(DIGITS)) if page else None,
        int(page.group(2).translate(DIGITS)) if page else None,
    )


def read_header(header_gray: np.ndarray) -> HeaderText:
    """The TPS code, contest and page printed in the header crop (8 px/mm)."""
    try:
        import pytesseract

        top = header_gray[: header_gray.shape[0] * 17 // 30]  # title, contest and TPS lines
        text = pytesseract.image_to_string(top, lang="eng", config="--psm 4", timeout=10)
    except Exception:  # tesseract missing or timed out: the header is only a backup
        return HeaderText()
    return parse_header(text)
