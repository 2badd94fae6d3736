"""The printed header read with tesseract: the TPS code and contest, to back up the QR code."""

from __future__ import annotations

import re

import numpy as np

TPS = re.compile(r"TPS\s*([0-9OoIl]{13})")
CONTEST = re.compile(r"^\s*([A-Z]{2,10})\s*[·.,:-]", re.MULTILINE)


def read_header(header_gray: np.ndarray) -> tuple[str | None, str | None]:
    """(TPS code, contest code) printed in the header crop (8 px/mm), each None if unread."""
    try:
        import pytesseract

        top = header_gray[: header_gray.shape[0] * 17 // 30]  # title, contest and TPS lines
        text = pytesseract.image_to_string(top, lang="eng", config="--psm 4", timeout=10)
    except Exception:  # tesseract missing or timed out: the header is only a backup
        return None, None
    tps = TPS.search(text)
    contest = CONTEST.search(text)
    code = None
    if tps:
        code = tps.group(1).translate(str.maketrans("OoIl", "0011"))
    return code, contest.group(1) if contest else None
