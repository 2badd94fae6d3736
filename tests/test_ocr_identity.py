"""Which form, TPS and page a photo shows when the QR code is lost: the identity strip (Reed-Solomon
coded cells under the grid), then the printed header; and a document with somebody else's QR code
answered "not_our_form", not "page_cropped"."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ocr import hints, layout, strip, synth
from ocr.header import parse_header
from ocr.qr import QrData
from ocr.reader import read_photo
from ocr.render import TpsInfo, render_page
from tests.ocr_support import CLEAN, GENTLE, TPS, demo_lookup, demo_templates, photo

IDENTITY = QrData("PPWP", "1a2b3c4d", TPS, 1, 1)


def levels(cells: np.ndarray, seed: int = 0) -> np.ndarray:
    """Per-cell darkness as a photo gives it: dark cells high, light low, with noise."""
    rng = np.random.default_rng(seed)
    return np.where(cells, 0.8, 0.1) + rng.normal(0, 0.08, cells.shape)


def test_the_strip_carries_the_whole_identity() -> None:
    for data in (IDENTITY, QrData("DPRDPROV", "ffffffff", "9999999999999", 12, 63),
                 QrData("DPR", "00000000", "0000000000001", 3, 9)):
        cells = strip.encode(data)
        assert cells is not None and cells.shape == (strip.ROWS, strip.COLS)
        assert strip.decode_levels(levels(cells)) == data
    assert strip.encode(QrData("DPRDPROVX", "ffffffff", TPS, 1, 1)) is None  # 9 letters
    assert strip.encode(QrData("PPWP", "1a2b3c4d", "123", 1, 1)) is None


def test_damaged_cells_are_repaired_by_reed_solomon() -> None:
    cells = strip.encode(IDENTITY)
    assert cells is not None
    smudged = levels(cells, 1)
    smudged[:, 10:16] = 0.45  # a thumb over six columns: three bytes' worth, all doubtful
    flipped = levels(cells, 2)
    for col in (3, 20, 41):  # three scattered cells read the wrong way round
        flipped[1, col] = 0.9 - flipped[1, col]
    assert strip.decode_levels(smudged) == IDENTITY
    assert strip.decode_levels(flipped) == IDENTITY


def test_a_strip_beyond_repair_gives_no_identity_rather_than_a_wrong_one() -> None:
    cells = strip.encode(IDENTITY)
    assert cells is not None
    ruined = levels(cells, 3)
    ruined[:, :30] = np.random.default_rng(4).uniform(0, 1, (strip.ROWS, 30))
    assert strip.decode_levels(ruined) is None
    noise = np.random.default_rng(5).uniform(0, 1, (strip.ROWS, strip.COLS))
    assert strip.decode_levels(noise) is None


def test_the_printed_strip_sits_in_free_paper() -> None:
    grid_bottom = max(layout.block_rect(s)[1] + layout.block_rect(s)[3]
                      for s in range(layout.FIELDS_PER_PAGE))
    last_bubble = max(cy + layout.BUBBLE_D_MM / 2 for s in range(layout.FIELDS_PER_PAGE)
                      for d in layout.digit_geometry(s) for _cx, cy in d.bubbles)
    assert strip.rect()[1] > grid_bottom
    x, y, w, h = strip.crop_rect()  # what the reader looks at: no bubble, no marker
    markers = layout.marker_rects()
    assert y > last_bubble and x > markers[3][0] + markers[3][2]
    assert x + w < markers[2][0] and y + h < layout.PAGE_H_MM - 13  # above the footer line


def test_a_photo_whose_qr_code_is_lost_is_identified_by_the_strip() -> None:
    result = read_photo(photo("ppwp_qr_lost.jpg"), demo_lookup())
    assert result.ok, result.error
    assert (result.contest, result.tps_code, result.page, result.pages) == ("PPWP", TPS, 1, 1)
    assert result.identified_by == "strip" and result.to_json()["identified_by"] == "strip"
    assert result.values() == CLEAN
    assert read_photo(photo("ppwp_clean.jpg"), demo_lookup()).identified_by == "qr"


def test_with_qr_code_and_strip_lost_the_big_printed_header_tells() -> None:
    result = read_photo(photo("ppwp_header_only.jpg"), demo_lookup())
    assert result.ok, result.error
    assert result.identified_by == "header"
    assert (result.contest, result.tps_code, result.page) == ("PPWP", TPS, 1)
    assert result.values() == CLEAN
    assert result.needs_confirmation  # a header read by OCR is checked by the officer
    assert not {c.name: c for c in result.checks}["qr_read"].ok


def test_the_header_text_gives_contest_tps_and_page() -> None:
    text = "FORMULIR C.HASIL\nDPR · HAL 2/9\nTPS 357601100I0O1\n"
    header = parse_header(text)
    assert (header.contest, header.tps, header.page, header.pages) == ("DPR", TPS, 2, 9)
    assert parse_header("nothing here").tps is None


def test_a_document_with_another_qr_code_is_not_our_form() -> None:
    result = read_photo(photo("foreign_qr.jpg"), demo_lookup())
    assert result.error == "not_our_form"
    assert read_photo(photo("not_a_form.jpg"), demo_lookup()).error == "no_form_found"
    assert read_photo(photo("ppwp_cropped.jpg"), demo_lookup()).error == "page_cropped"


def test_our_markers_with_a_foreign_qr_code_and_nothing_else_of_ours_is_not_our_form() -> None:
    template = demo_templates()["PPWP"]
    paper = np.array(render_page(template, 1, TpsInfo(TPS), round(synth.PAPER_DPI)).convert("RGB"))
    s = synth.PAPER_PX_PER_MM
    code = cv2.QRCodeEncoder.create().encode("https://contoh.go.id/dokumen/123")
    side = round(layout.QR_MM * s)
    tile = cv2.resize(code, (side, side), interpolation=cv2.INTER_NEAREST)
    x0, y0 = round(layout.QR_X_MM * s), round(layout.QR_Y_MM * s)
    paper[y0 : y0 + side, x0 : x0 + side] = np.where(tile[..., None] < 128, 0, 255)
    for x, y, w, h in (strip.rect(), layout.header_rect()):  # a sheet with neither printed
        paper[round(y * s) : round((y + h) * s), round(x * s) : round((x + w) * s)] = 255
    shot = synth.photograph(paper, np.random.default_rng(3), synth.PhotoSpec(**GENTLE))
    result = read_photo(shot, demo_lookup())
    assert result.error == "not_our_form"
    assert "contoh.go.id" in result.error_detail


@pytest.mark.parametrize(("language", "start"), [
    ("id", "Ini bukan formulir C.Hasil dari TPS Relay"),
    ("en", "This is not a TPS Relay C.Hasil form"),
])
def test_not_our_form_has_its_own_reply_in_both_languages(language: str, start: str) -> None:
    text = hints.hint("not_our_form", language)
    assert text.startswith(start)
    assert text != hints.hint("page_cropped", language)
    assert text != hints.hint("no_form_found", language)
