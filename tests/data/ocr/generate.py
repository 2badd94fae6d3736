"""Regenerate the golden photos of tests/test_ocr_*.py (deterministic; needs scikit-learn).

    .venv/bin/python tests/data/ocr/generate.py [name.jpg ...]   # all, or only these

Each is a simulated phone photo (ocr.synth) of the demo PPWP form (the whole C.Hasil on one
page) of TPS 3576011001001, filled with handwriting from scikit-learn's UCI digits (writers the
classifier never saw). ppwp_qr_lost.jpg has a glare spot over the QR code (the identity strip
tells the page), ppwp_header_only.jpg over the QR code and the strip (the printed header tells);
foreign_qr.jpg is some other document with a QR code of its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from ocr import synth  # noqa: E402
from ocr.render import TpsInfo  # noqa: E402
from ocr.templates import build_template  # noqa: E402

PPWP = build_template(
    "PPWP",
    "Presiden dan Wakil Presiden",
    [
        (1, "H. Anies Rasyid Baswedan, Ph.D. - Dr. (H.C.) H. A. Muhaimin Iskandar"),
        (2, "H. Prabowo Subianto - Gibran Rakabuming Raka"),
        (3, "H. Ganjar Pranowo, S.H., M.I.P. - Prof. Dr. H. M. Mahfud MD"),
    ],
)
TPS = TpsInfo("3576011001001", "TPS 001", 287)
# The whole C.Hasil, every rule holding; the upside-down photo's officer filled the votes only.
CLEAN = {
    "DPT": 287, "DPTB": 3, "DPK": 2, "JDPT": 292, "PDPT": 255, "PDPTB": 3, "PDPK": 2, "PHP": 260,
    "DIS": 4, "PDIS": 3, "SSD": 293, "SSR": 2, "SSTD": 31, "SS": 260,
    "01": 120, "02": 95, "03": 40, "SAH": 255, "TS": 5, "JSAHTS": 260,
}
SUMS_WRONG = {**CLEAN, "03": 47}  # the officer's error: 120 + 95 + 47 = 262, SAH 255 written
UPSIDE = {"01": 31, "02": 148, "03": 67, "SAH": 246, "TS": 9}
# The hurried officer of the skipped photo wrote the votes only, and marked no bubble.
SKIPPED = {k: CLEAN[k] for k in ("01", "02", "03", "SAH", "TS")}
GENTLE = synth.PhotoSpec(tilt=0.06, rotation=8, blur=(0.0, 0.5), noise=(1.5, 3.0),
                         light=(0.8, 1.0), shadow=0.0, jpeg=(70, 70), long_side=1024,
                         fill=(0.9, 0.93))


def uci() -> synth.GlyphSource:
    from sklearn.datasets import load_digits

    digits = load_digits()
    pools = {d: digits.images[digits.target == d] for d in range(10)}

    def source(digit: int, height: int, rng: np.random.Generator) -> np.ndarray:
        pool = pools[digit]
        return synth.from_uci(pool[rng.integers(len(pool))], height, rng)

    return source


def form(values: dict[str, int], seed: int, slip: tuple[str, int, int] | None = None,
         skip_bubbles: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    plans = {k: synth.plan_number(v, rng, "X") for k, v in values.items()}
    if skip_bubbles:
        synth.skip_bubbles(plans)
    if slip:
        key, position, bubble = slip
        plans[key][position].bubbles = [(bubble, "fill")]
    return synth.fill_form(PPWP, 1, TPS, values, plans, uci(), rng)


def cover(paper: np.ndarray, rect_mm: tuple[float, float, float, float], seed: int) -> np.ndarray:
    """`paper` with a glare spot over `rect_mm`: washed out to white, with a soft edge."""
    from ocr.synth import PAPER_PX_PER_MM as s

    x, y, w, h = rect_mm
    mask = np.zeros(paper.shape[:2], np.float32)
    centre = (round((x + w / 2) * s), round((y + h / 2) * s))
    cv2.ellipse(mask, centre, (round(w * 0.5 * s), round(h * 0.45 * s)),
                float(np.random.default_rng(seed).uniform(-20, 20)), 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 2.0 * s)[..., None]
    return (paper * (1 - mask) + 250 * mask).astype(np.uint8)


def foreign_document() -> np.ndarray:
    """Some other A4 document with a QR code of its own (a receipt, a letter), no markers."""
    from ocr import layout
    from ocr.synth import PAPER_PX_PER_MM as s

    h, w = round(layout.PAGE_H_MM * s), round(layout.PAGE_W_MM * s)
    paper = np.full((h, w, 3), 247, np.uint8)
    cv2.putText(paper, "SURAT KETERANGAN", (140, 260), cv2.FONT_HERSHEY_SIMPLEX, 3.0,
                (20, 20, 20), 6)
    for row in range(18):
        y = 420 + row * 90
        cv2.line(paper, (140, y), (w - 140 - (row % 4) * 170, y), (60, 60, 60), 9)
    code = cv2.QRCodeEncoder.create().encode("https://contoh.go.id/verifikasi/2024/88120")
    side = round(40 * s)
    tile = cv2.resize(code, (side, side), interpolation=cv2.INTER_NEAREST)
    y0, x0 = h - side - round(30 * s), w - side - round(25 * s)
    paper[y0 : y0 + side, x0 : x0 + side] = np.where(tile[..., None] < 128, 20, 247)
    return paper


def main(only: set[str] | None = None) -> None:
    shots: dict[str, bytes] = {}
    paper = form(CLEAN, 1)
    shots["ppwp_clean.jpg"] = synth.photograph(paper, np.random.default_rng(11), GENTLE)
    upside = form(UPSIDE, 2)
    spec = synth.PhotoSpec(**{**GENTLE.__dict__, "upside_down": 1.0})
    shots["ppwp_upside_down.jpg"] = synth.photograph(upside, np.random.default_rng(12), spec)
    slipped = form(CLEAN, 4, slip=("02", 1, 4))  # 95 written, 45 bubbled
    shots["ppwp_slip.jpg"] = synth.photograph(slipped, np.random.default_rng(13), GENTLE)
    unchecked = form(CLEAN, 6, slip=("DIS", 2, 7))  # 4 written, 7 bubbled; no sum holds DIS
    shots["ppwp_slip_unchecked.jpg"] = synth.photograph(unchecked, np.random.default_rng(19),
                                                        GENTLE)
    skipped = form(SKIPPED, 4, skip_bubbles=True)  # digits written, no bubble marked
    shots["ppwp_skipped.jpg"] = synth.photograph(skipped, np.random.default_rng(14), GENTLE)
    wrong = form(SUMS_WRONG, 5)  # written and bubbled alike; the sums do not hold on paper
    shots["ppwp_sums_wrong.jpg"] = synth.photograph(wrong, np.random.default_rng(18), GENTLE)
    whole = cv2.imdecode(np.frombuffer(shots["ppwp_clean.jpg"], np.uint8), cv2.IMREAD_COLOR)
    left_cut = whole[:, whole.shape[1] // 5 :]  # the left markers are out of the picture
    shots["ppwp_cropped.jpg"] = cv2.imencode(".jpg", left_cut, [cv2.IMWRITE_JPEG_QUALITY, 70])[
        1
    ].tobytes()
    blurred = synth.PhotoSpec(**{**GENTLE.__dict__, "blur": (4.0, 4.0), "jpeg": (50, 50)})
    shots["ppwp_blurred.jpg"] = synth.photograph(paper, np.random.default_rng(15), blurred)
    dark = synth.PhotoSpec(**{**GENTLE.__dict__, "light": (0.12, 0.16), "jpeg": (50, 50)})
    shots["ppwp_dark.jpg"] = synth.photograph(paper, np.random.default_rng(16), dark)
    from ocr import layout, strip

    qr_mm = (layout.QR_X_MM, layout.QR_Y_MM, layout.QR_MM, layout.QR_MM)
    lost = cover(paper, qr_mm, 19)  # glare over the QR code: the identity strip tells
    shots["ppwp_qr_lost.jpg"] = synth.photograph(lost, np.random.default_rng(19), GENTLE)
    # QR code and identity strip both lost: only the printed header tells
    both = cover(cover(paper, qr_mm, 20), strip.rect(), 21)
    shots["ppwp_header_only.jpg"] = synth.photograph(both, np.random.default_rng(20), GENTLE)
    shots["foreign_qr.jpg"] = synth.photograph(foreign_document(), np.random.default_rng(22),
                                               GENTLE)
    rng = np.random.default_rng(17)
    scene = cv2.GaussianBlur(rng.uniform(0, 255, (96, 72, 3)).astype(np.uint8), (0, 0), 2)
    scene = cv2.resize(scene, (768, 1024), interpolation=cv2.INTER_CUBIC)
    cv2.putText(scene, "BUKAN FORMULIR", (60, 500), cv2.FONT_HERSHEY_SIMPLEX, 2, (0, 0, 0), 5)
    shots["not_a_form.jpg"] = cv2.imencode(".jpg", scene, [cv2.IMWRITE_JPEG_QUALITY, 60])[
        1
    ].tobytes()
    for name, data in shots.items():
        if only and name not in only:
            continue
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data) // 1024} KB")


if __name__ == "__main__":
    main(set(sys.argv[1:]) or None)
