"""Printable tally forms: page images (PNG, PDF) and `layout.json`, from a FormTemplate.

Box outlines, bubbles and the digits inside bubbles are printed in a light "dropout" red: the
reader works on the red channel, where they vanish and blue or black ink stays. Markers, the QR
code and all text are black.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr import layout, strip
from ocr.pdf import write_pdf
from ocr.qr import QrData, encode_payload, qr_matrix
from ocr.templates import FormTemplate

PRINT_DPI = 300
DROPOUT_RGB = (240, 150, 150)
# Palette indices: 0 paper, 1 black, 2 dropout red, 3 grey.
PALETTE = [255, 255, 255, 0, 0, 0, *DROPOUT_RGB, 110, 110, 110]
WHITE, BLACK, DROPOUT, GREY = 0, 1, 2, 3
RULES_LINE = "SAH = jumlah suara; SAH + TS = SS = PHP; SSD = SSR + SSTD + SS"


@dataclass(frozen=True)
class TpsInfo:
    code: str
    name: str = ""
    registered_voters: int | None = None


def px_per_mm(dpi: int) -> float:
    return dpi / 25.4


def page_size_px(dpi: int = PRINT_DPI) -> tuple[int, int]:
    s = px_per_mm(dpi)
    return round(layout.PAGE_W_MM * s), round(layout.PAGE_H_MM * s)


@functools.lru_cache(maxsize=16)
def _font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size_px)


def _fit(text: str, font, width: float) -> str:  # type: ignore[no-untyped-def]
    """`text` shortened with an ellipsis until it fits `width` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _lines(text: str, font, width: float) -> list[str]:  # type: ignore[no-untyped-def]
    """`text` on one line, or broken at a space onto two, the second shortened to fit."""
    if font.getlength(text) <= width:
        return [text]
    words = text.split()
    first = ""
    while words and font.getlength((first + " " + words[0]).strip()) <= width:
        first = (first + " " + words.pop(0)).strip()
    if not first:
        return [_fit(text, font, width)]
    return [first, _fit(" ".join(words), font, width)]


def format_tps_code(code: str) -> str:
    """3576011001001 → 35.76.01.1001-001 (province.regency.district.village-TPS)."""
    return f"{code[0:2]}.{code[2:4]}.{code[4:6]}.{code[6:10]}-{code[10:13]}"


@functools.lru_cache(maxsize=32)
def _static_page(template: FormTemplate, page: int, dpi: int) -> Image.Image:
    """Everything on a page that does not depend on the TPS: markers, boxes, bubbles, labels."""
    s = px_per_mm(dpi)
    width, height = page_size_px(dpi)
    img = Image.new("P", (width, height), WHITE)
    img.putpalette(PALETTE)
    draw = ImageDraw.Draw(img)
    dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50)
    for marker_id, (x, y, w, _h) in layout.marker_rects().items():
        side = round(w * s)
        marker = cv2.aruco.generateImageMarker(dictionary, marker_id, side)
        tile = Image.fromarray(np.where(marker < 128, BLACK, WHITE).astype(np.uint8), "P")
        img.paste(tile, (round(x * s), round(y * s)))
    line = max(1, round(0.3 * s))
    code_font = _font(round(4.2 * s))
    label_font = _font(round(2.2 * s))
    bubble_font = _font(round(2.1 * s))
    for field in template.fields_on(page):
        lx, ly, lw, _lh = layout.label_rect(field.slot)
        draw.text((lx * s, ly * s), field.code, font=code_font, fill=BLACK)
        code_w = code_font.getlength(field.code) + 1.2 * s
        lines = _lines(field.label, label_font, lw * s - code_w)
        top = ly + (1.6 if len(lines) == 1 else 0.4)
        for n, text in enumerate(lines):
            draw.text((lx * s + code_w, (top + 2.6 * n) * s), text, font=label_font, fill=BLACK)
        for digit in field.digits():
            x, y, w, h = digit.box
            draw.rectangle(
                [x * s, y * s, (x + w) * s, (y + h) * s], outline=DROPOUT, width=line
            )
            r = digit.bubble_d / 2 * s
            for value, (cx, cy) in enumerate(digit.bubbles):
                draw.ellipse(
                    [cx * s - r, cy * s - r, cx * s + r, cy * s + r],
                    outline=DROPOUT,
                    width=max(1, round(0.22 * s)),
                )
                draw.text(
                    (cx * s, cy * s), str(value), font=bubble_font, fill=DROPOUT, anchor="mm"
                )
    return img


def render_page(
    template: FormTemplate, page: int, tps: TpsInfo, dpi: int = PRINT_DPI
) -> Image.Image:
    """One printable page (mode "P", 4 colours) for `tps`."""
    s = px_per_mm(dpi)
    img = _static_page(template, page, dpi).copy()
    draw = ImageDraw.Draw(img)
    payload = encode_payload(
        QrData(template.contest_code, template.version, tps.code, page, template.pages)
    )
    matrix = qr_matrix(payload)
    side = round(layout.QR_MM * s)
    tile = cv2.resize(matrix, (side, side), interpolation=cv2.INTER_NEAREST)
    img.paste(
        Image.fromarray(np.where(tile < 128, BLACK, WHITE).astype(np.uint8), "P"),
        (round(layout.QR_X_MM * s), round(layout.QR_Y_MM * s)),
    )
    cells = strip.encode(
        QrData(template.contest_code, template.version, tps.code, page, template.pages)
    )
    if cells is not None:
        sx, sy, _sw, _sh = strip.rect()
        for row, col in zip(*np.nonzero(cells), strict=True):
            x0, y0 = sx + col * strip.CELL_MM, sy + row * strip.CELL_MM
            draw.rectangle([round(x0 * s), round(y0 * s), round((x0 + strip.CELL_MM) * s) - 1,
                            round((y0 + strip.CELL_MM) * s) - 1], fill=BLACK)
    hx, hy, hw, _hh = layout.header_rect()
    title = _font(round(4.0 * s))
    big = _font(round(5.0 * s))
    small = _font(round(2.6 * s))
    draw.text((hx * s, hy * s), "FORMULIR C.HASIL", font=title, fill=BLACK)
    # Contest, page and TPS big enough for the header fallback to read them on a poor photo.
    draw.text((hx * s, (hy + 5.0) * s),
              _fit(f"{template.contest_code} · HAL {page}/{template.pages}", big, hw * s),
              font=big, fill=BLACK)
    draw.text((hx * s, (hy + 11.0) * s), f"TPS {tps.code}", font=big, fill=BLACK)
    details = [template.contest_name, format_tps_code(tps.code)]
    if template.dapil:
        # A party contest's dapil, or the area of a regional contest (DPD province, pilkada).
        details.append(f"{'Dapil' if template.party_contest else 'Wilayah'} {template.dapil}")
    if tps.name:
        details.append(tps.name)
    if tps.registered_voters is not None:
        details.append(f"DPT {tps.registered_voters}")
    draw.text(
        (hx * s, (hy + 17.5) * s), _fit(" · ".join(details), small, hw * s), font=small, fill=BLACK
    )
    draw.text(
        (hx * s, (hy + 21.5) * s),
        _fit("Tulis angka rata kanan, X di kotak depan yang kosong;", small, hw * s),
        font=small,
        fill=GREY,
    )
    draw.text(
        (hx * s, (hy + 25.0) * s),
        _fit("hitamkan bulatan angka yang sama di bawah tiap kotak.", small, hw * s),
        font=small,
        fill=GREY,
    )
    draw.text(
        ((layout.MARKER_MARGIN_MM + layout.MARKER_MM + 3) * s, (layout.PAGE_H_MM - 13) * s),
        _fit(f"{template.template_id} v{template.version}"
             + (f" dapil {template.dapil}" if template.dapil else "")
             + f" · hal. {page}/{template.pages} · " + RULES_LINE, small,
             (layout.PAGE_W_MM - 2 * (layout.MARKER_MARGIN_MM + layout.MARKER_MM + 3)) * s),
        font=small,
        fill=GREY,
    )
    return img


def layout_dict(template: FormTemplate, dpi: int = PRINT_DPI) -> dict[str, object]:
    """The machine-readable layout (DESIGN §3): page size in pixels and every field's boxes."""
    s = px_per_mm(dpi)

    def rect(r: tuple[float, float, float, float]) -> list[int]:
        x, y, w, h = r
        return [round(x * s), round(y * s), round(w * s), round(h * s)]

    width, height = page_size_px(dpi)
    fields = []
    for field in template.fields:
        digits = []
        for digit in field.digits():
            d = digit.bubble_d
            digits.append(
                {
                    "box": rect(digit.box),
                    "bubbles": [rect((cx - d / 2, cy - d / 2, d, d)) for cx, cy in digit.bubbles],
                }
            )
        fields.append(
            {
                "key": field.key,
                "code": field.code,
                "label": field.label,
                "page": field.page,
                "kind": field.kind,
                "ballot_number": field.ballot_number,
                "candidate_number": field.candidate_number,
                "digits": digits,
            }
        )
    return {
        "template_id": template.template_id,
        "version": template.version,
        "contest": template.contest_code,
        "dapil": template.dapil,
        "pages": template.pages,
        "dpi": dpi,
        "page_size_px": [width, height],
        "rect_format": "x, y, width, height in pixels from the page's top left",
        "markers": {str(k): rect(v) for k, v in layout.marker_rects().items()},
        "qr": rect((layout.QR_X_MM, layout.QR_Y_MM, layout.QR_MM, layout.QR_MM)),
        "identity_strip": {"rect": rect(strip.rect()), "rows": strip.ROWS, "columns": strip.COLS},
        "fields": fields,
    }


def write_form(
    template: FormTemplate, tps: TpsInfo, out_dir: Path, dpi: int = PRINT_DPI, png: bool = True
) -> list[Path]:
    """Write `<TPS>-<CONTEST>[-pN].png` per page and `<TPS>-<CONTEST>.pdf`; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{tps.code}-{template.contest_code}"
    pages = [render_page(template, p, tps, dpi) for p in range(1, template.pages + 1)]
    written: list[Path] = []
    if png:
        for number, image in enumerate(pages, start=1):
            suffix = "" if template.pages == 1 else f"-p{number}"
            path = out_dir / f"{stem}{suffix}.png"
            image.save(path, dpi=(dpi, dpi), optimize=False, compress_level=6)
            written.append(path)
    pdf = out_dir / f"{stem}.pdf"
    write_pdf(pages, pdf, dpi)
    written.append(pdf)
    return written


def write_layout(template: FormTemplate, path: Path, dpi: int = PRINT_DPI) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(layout_dict(template, dpi), indent=1, ensure_ascii=False) + "\n")
    return path
