"""Synthetic filled forms and simulated phone photos, for training, the benchmark and tests.

Handwriting comes from real digit images (MNIST for training, scikit-learn's UCI digits for the
benchmark's unseen writers), redrawn as pen strokes; bubbles get marks of varying quality; the
page is then "photographed": perspective tilt, rotation, uneven light and shadow, blur, noise,
camera JPEG, and Telegram's resize to 1280 px with JPEG 50–85.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from ocr import layout
from ocr.render import TpsInfo, render_page
from ocr.templates import FormTemplate

PAPER_PX_PER_MM = 8.0
PAPER_DPI = PAPER_PX_PER_MM * 25.4
INKS = ((35, 45, 150), (30, 30, 35), (20, 60, 120), (60, 60, 70))  # RGB: blue, black, …

Glyph = np.ndarray  # float32 0..1, ink strength


# --- glyphs ---------------------------------------------------------------------------------


def thin(binary: np.ndarray) -> np.ndarray:
    """Zhang–Suen thinning: the one-pixel centre line of a binary shape (uint8 0/1)."""
    img = np.pad(binary.astype(np.uint8), 1)
    h, w = binary.shape
    inner = img[1 : h + 1, 1 : w + 1]  # a view: the zero frame around it never changes
    offsets = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))
    while True:
        changed = False
        for step in (0, 1):
            p = [img[1 + dy : h + 1 + dy, 1 + dx : w + 1 + dx] for dy, dx in offsets]
            neighbours = sum(p)
            transitions = sum((p[k] == 0) & (p[(k + 1) % 8] == 1) for k in range(8))
            if step == 0:
                cond = (p[0] * p[2] * p[4] == 0) & (p[2] * p[4] * p[6] == 0)
            else:
                cond = (p[0] * p[2] * p[6] == 0) & (p[0] * p[4] * p[6] == 0)
            remove = ((inner == 1) & (neighbours >= 2) & (neighbours <= 6) & (transitions == 1)
                      & cond)
            if remove.any():
                inner[remove] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1]


def pen_strokes(shape: np.ndarray, width_px: float, rng: np.random.Generator,
                centre: str = "thin") -> Glyph:
    """Redraw a filled digit shape (0..1) as strokes of about `width_px`: a centre line, then a
    round pen along it. `centre`: "thin" (Zhang–Suen, continuous) or "ridge" (local maxima of
    the distance to the edge: cheaper, with gaps, as the shipped model was trained)."""
    binary = (shape > 0.5).astype(np.uint8)
    if binary.sum() == 0:
        return shape.astype(np.float32)
    if centre == "thin":
        ridge = thin(binary)
    else:
        dist = cv2.distanceTransform(binary, cv2.DIST_L2, 3)
        ridge = ((dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)) - 0.5) & (binary > 0))
        ridge = ridge.astype(np.uint8)
    radius = max(1, round(width_px / 2))
    pen = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    strokes = cv2.dilate(ridge, pen).astype(np.float32)
    strokes = cv2.GaussianBlur(strokes, (0, 0), 0.6)
    return np.clip(strokes * rng.uniform(0.85, 1.0), 0, 1)


def from_uci(image8: np.ndarray, height_px: int, rng: np.random.Generator) -> Glyph:
    """A UCI 8×8 digit (0..16) upscaled to `height_px` and stroked as pen ink."""
    big = _uci_upscaled(image8, height_px)
    shape = (big > rng.uniform(0.25, 0.4)).astype(np.float32)
    return pen_strokes(shape, rng.uniform(0.045, 0.08) * height_px, rng)


def from_uci_grey(image8: np.ndarray, height_px: int, rng: np.random.Generator) -> Glyph:
    """A UCI 8×8 digit as its counts show: upscaled and smoothed as from_uci does, the grey
    kept as ink strength (no threshold, no thinning), so loops stay closed; from_uci's
    threshold-and-thin turns many 6s, 8s and 9s into an open curve. `rng` unused (the same
    signature as from_uci)."""
    return np.clip((_uci_upscaled(image8, height_px) - 0.3) / 0.3, 0, 1).astype(np.float32)


def _uci_upscaled(image8: np.ndarray, height_px: int) -> np.ndarray:
    """The 8×8 counts as darkness 0..1 at `height_px`, smoothed (cubic, then a blur)."""
    big = cv2.resize((image8 / 16.0).astype(np.float32), (height_px, height_px),
                     interpolation=cv2.INTER_CUBIC)
    return cv2.GaussianBlur(big, (0, 0), height_px / 32)


def coarse(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The digit as a low-resolution scan would keep it: block means on a 6–10 px grid."""
    cells = int(rng.integers(6, 11))
    small = cv2.resize(img, (cells, cells), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, img.shape[::-1], interpolation=cv2.INTER_CUBIC)


def from_mnist(image28: np.ndarray, height_px: int, rng: np.random.Generator,
               coarse_share: float = 0.0, centre: str = "ridge") -> Glyph:
    """An MNIST digit (0..255) at `height_px`, 60% re-stroked as a pen; `coarse_share` of them
    from a coarse copy (the shapes a low-resolution view of handwriting leaves). The defaults
    are the recipe of the shipped model; coarse copies and "thin" centre lines were tried and
    read the benchmark's unseen writers no better."""
    img = (image28.reshape(28, 28) / 255.0).astype(np.float32)
    if coarse_share and rng.random() < coarse_share:
        big = cv2.resize(coarse(img, rng), (height_px, height_px), interpolation=cv2.INTER_CUBIC)
        shape = (big > rng.uniform(0.3, 0.5)).astype(np.float32)
        if shape.any():
            return pen_strokes(shape, rng.uniform(0.045, 0.08) * height_px, rng, centre)
    ys, xs = np.nonzero(img > 0.2)
    img = img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] if len(ys) else img
    h, w = img.shape
    scale = height_px / h
    big = cv2.resize(img, (max(1, round(w * scale)), height_px), interpolation=cv2.INTER_CUBIC)
    big = np.clip(big, 0, 1)
    if rng.random() < 0.6:
        return pen_strokes(big, rng.uniform(0.04, 0.09) * height_px, rng, centre)
    return big


def x_mark(height_px: int, rng: np.random.Generator) -> Glyph:
    """An X as officers write it in unused leading boxes."""
    w = round(height_px * rng.uniform(0.6, 1.0))
    img = np.zeros((height_px, w), np.float32)
    thick = max(2, round(height_px * rng.uniform(0.05, 0.09)))
    j = lambda s: rng.uniform(-s, s)  # noqa: E731
    h1, w1 = height_px - 1, w - 1
    for (x0, y0), (x1, y1) in (((0, 0), (w1, h1)), ((w1, 0), (0, h1))):
        p0 = (round(x0 + j(w * 0.12)), round(y0 + j(height_px * 0.1)))
        p1 = (round(x1 + j(w * 0.12)), round(y1 + j(height_px * 0.1)))
        cv2.line(img, p0, p1, 1.0, thick, cv2.LINE_AA)
    return img


def augment(glyph: Glyph, rng: np.random.Generator) -> Glyph:
    """Rotation, shear and slight stretch, as different hands write."""
    h, w = glyph.shape
    pad = max(h, w) // 3
    padded = cv2.copyMakeBorder(glyph, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    ph, pw = padded.shape
    angle = rng.uniform(-12, 12)
    matrix = cv2.getRotationMatrix2D((pw / 2, ph / 2), angle, 1.0)
    matrix[0, 1] += rng.uniform(-0.3, 0.3)
    matrix[:, :2] *= np.array([[rng.uniform(0.85, 1.15)], [1.0]])
    out = cv2.warpAffine(padded, matrix, (pw, ph), flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(out > 0.05)
    if not len(ys):
        return glyph
    return out[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


# --- filling a form -------------------------------------------------------------------------

LEADING = ("X", "blank", "0")


@dataclass
class DigitPlan:
    """What is written in one box and marked in its bubble column."""

    written: str  # "0".."9", "X", "blank"
    bubbles: list[tuple[int, str]] = field(default_factory=list)  # (digit, style)


@dataclass
class FilledForm:
    page_rgb: np.ndarray  # the paper at PAPER_PX_PER_MM
    values: dict[str, int]  # what the officer meant
    plans: dict[str, list[DigitPlan]]
    tampered: set[str] = field(default_factory=set)  # fields where writing and bubbles disagree


def whole_form_values(
    template: FormTemplate, registered: int, rng: np.random.Generator, sections: bool = True
) -> dict[str, int]:
    """A consistent whole C.Hasil for a TPS of `registered` DPT voters: every rule of the form
    holds (ocr.formrules). `sections=False`: the votes only, the other sections left blank."""
    dpt = registered
    dptb, dpk = int(rng.integers(0, 6)), int(rng.integers(0, 5))
    pdpt = int(dpt * rng.uniform(0.55, 0.95))
    pdptb, pdpk = int(rng.integers(0, dptb + 1)), int(rng.integers(0, dpk + 1))
    received = dpt + -(-dpt * 2 // 100)
    damaged = int(rng.integers(0, 3))
    voters = min(pdpt + pdptb + pdpk, received - damaged)
    pdpt = voters - pdptb - pdpk
    dis = int(rng.integers(0, 6))
    invalid = int(min(voters, rng.integers(0, 15)))
    valid = voters - invalid
    values = {"SAH": valid, "TS": invalid, "JSAHTS": voters}
    if sections:
        values.update(
            DPT=dpt, DPTB=dptb, DPK=dpk, JDPT=dpt + dptb + dpk, PDPT=pdpt, PDPTB=pdptb,
            PDPK=pdpk, PHP=voters, DIS=dis, PDIS=int(rng.integers(0, dis + 1)),
            SSD=received, SSR=damaged, SSTD=received - damaged - voters, SS=voters,
        )
    keys = template.candidate_keys
    shares = rng.dirichlet(np.full(len(keys), 0.8))
    votes = np.floor(shares * valid).astype(int)
    votes[int(rng.integers(len(keys)))] += valid - int(votes.sum())
    values.update({k: int(v) for k, v in zip(keys, votes, strict=True)})
    for own, cands, total in template.party_blocks().values():
        if total is None:
            continue
        party_total = values[total]
        split = rng.multinomial(party_total, rng.dirichlet(np.full(len(cands) + 1, 0.7)))
        for key, part in zip((own, *cands), split, strict=True):
            values[key] = int(part)
    return {f.key: values[f.key] for f in template.fields if f.key in values}


def plan_number(value: int, rng: np.random.Generator, lead_style: str | None = None,
                bubble_lead_zero: bool = False) -> list[DigitPlan]:
    text = f"{value:d}"
    lead = lead_style or rng.choice(LEADING, p=[0.5, 0.3, 0.2])
    plans: list[DigitPlan] = []
    for position in range(layout.DIGITS):
        index = position - (layout.DIGITS - len(text))
        if index < 0:
            written = "0" if lead == "0" else lead
            marks = [(0, "fill")] if (lead == "0" and bubble_lead_zero) else []
            plans.append(DigitPlan(written, marks))
        else:
            digit = int(text[index])
            plans.append(DigitPlan(str(digit), [(digit, "fill")]))
    return plans


def skip_bubbles(plans: dict[str, list[DigitPlan]]) -> None:
    """The hurried officer: digits written, no bubble marked anywhere on the page."""
    for row in plans.values():
        for plan in row:
            plan.bubbles = []


def slip(plans: dict[str, list[DigitPlan]], key: str, value: int, rng: np.random.Generator,
         on: str = "either") -> None:
    """The officer's slip on one written digit of `key`: the writing ("writing") or the bubble
    ("bubble") says another digit than the one meant; "either" picks one at random."""
    row = plans[key]
    j = len(row) - 1 - int(rng.integers(min(len(str(value)), layout.DIGITS)))
    wrong = (int(row[j].written) + int(rng.integers(1, 10))) % 10
    if on == "either":
        on = "writing" if rng.random() < 0.5 else "bubble"
    if on == "writing":
        row[j].written = str(wrong)
    else:
        row[j].bubbles = [(wrong, "fill")]


def draw_bubble(page: np.ndarray, centre: tuple[float, float], style: str, ink: np.ndarray,
                rng: np.random.Generator) -> None:
    s = PAPER_PX_PER_MM
    r = layout.BUBBLE_D_MM / 2 * s
    pad = round(3 * r)
    x0, y0 = round(centre[0] * s) - pad, round(centre[1] * s) - pad
    cx, cy = centre[0] * s - x0, centre[1] * s - y0
    mask = np.zeros((2 * pad, 2 * pad), np.float32)
    strength = 1.0
    if style in ("fill", "faint"):
        rx, ry = r * rng.uniform(0.8, 1.1), r * rng.uniform(0.75, 1.05)
        c = (round(cx + rng.uniform(-0.15, 0.15) * r), round(cy + rng.uniform(-0.15, 0.15) * r))
        cv2.ellipse(mask, c, (round(rx), round(ry)), rng.uniform(0, 180), 0, 360, 1.0, -1,
                    cv2.LINE_AA)
        strength = rng.uniform(0.75, 0.95) if style == "fill" else rng.uniform(0.4, 0.55)
    elif style == "partial":
        start = rng.uniform(0, 360)
        cv2.ellipse(mask, (round(cx), round(cy)), (round(r * 0.9), round(r * 0.9)), 0,
                    start, start + rng.uniform(200, 260), 1.0, -1, cv2.LINE_AA)
        strength = rng.uniform(0.7, 0.95)
    elif style == "tick":
        pts = np.array([[cx - 0.8 * r, cy], [cx - 0.1 * r, cy + 0.8 * r],
                        [cx + 0.9 * r, cy - 0.9 * r]], np.int32)
        cv2.polylines(mask, [pts], False, 1.0, max(2, round(0.45 * s)), cv2.LINE_AA)
        strength = rng.uniform(0.8, 0.95)
    elif style == "stray":
        sx = cx + rng.uniform(-1.2, 1.2) * r
        sy = cy + rng.uniform(-1.2, 1.2) * r
        ex, ey = sx + rng.uniform(-0.8, 0.8) * r, sy + rng.uniform(-0.8, 0.8) * r
        cv2.line(mask, (round(sx), round(sy)), (round(ex), round(ey)), 1.0,
                 max(2, round(0.3 * s)), cv2.LINE_AA)
        strength = rng.uniform(0.6, 0.9)
    _ink(page, mask * strength, ink, x0, y0)


def _ink(page: np.ndarray, alpha: np.ndarray, ink: np.ndarray, x0: int, y0: int) -> None:
    """Lay ink of strength `alpha` (a patch whose top left is x0, y0) onto `page`."""
    h, w = alpha.shape
    region = page[y0 : y0 + h, x0 : x0 + w]
    a = alpha[: region.shape[0], : region.shape[1], None]
    region[:] = (region * (1 - a) + ink[None, None, :] * a).astype(np.uint8)


def draw_glyph(page: np.ndarray, box_mm: tuple[float, float, float, float], glyph: Glyph,
               ink: np.ndarray, rng: np.random.Generator) -> None:
    s = PAPER_PX_PER_MM
    x, y, w, h = (v * s for v in box_mm)
    gh, gw = glyph.shape
    if gw > w * 0.92:
        scale = w * 0.92 / gw
        glyph = cv2.resize(glyph, (max(1, round(gw * scale)), max(1, round(gh * scale))))
        gh, gw = glyph.shape
    top = round(y + (h - gh) / 2 + rng.uniform(-0.12, 0.12) * (h - gh + 8))
    left = round(x + (w - gw) / 2 + rng.uniform(-0.3, 0.3) * max(w - gw, 4))
    top = int(np.clip(top, 0, page.shape[0] - gh))
    left = int(np.clip(left, 0, page.shape[1] - gw))
    _ink(page, glyph * rng.uniform(0.8, 0.97), ink, int(left), int(top))


GlyphSource = Callable[[int, int, np.random.Generator], Glyph]  # (digit, height px, rng)


def fill_form(template: FormTemplate, page: int, tps: TpsInfo, values: dict[str, int],
              plans: dict[str, list[DigitPlan]], glyphs: GlyphSource,
              rng: np.random.Generator) -> np.ndarray:
    """The printed page with the plans written and marked on it (RGB, PAPER_PX_PER_MM)."""
    paper = np.array(render_page(template, page, tps, PAPER_DPI).convert("RGB"))
    ink = np.array(INKS[rng.integers(len(INKS))], np.float32)
    box_h_px = layout.BOX_H_MM * PAPER_PX_PER_MM
    for f in template.fields_on(page):
        if f.key not in plans:  # left blank by the officer
            continue
        for geometry, plan in zip(f.digits(), plans[f.key], strict=True):
            if plan.written == "X":
                glyph = x_mark(round(box_h_px * rng.uniform(0.5, 0.8)), rng)
                draw_glyph(paper, geometry.box, glyph, ink, rng)
            elif plan.written != "blank":
                height = round(box_h_px * rng.uniform(0.55, 0.85))
                glyph = augment(glyphs(int(plan.written), height, rng), rng)
                draw_glyph(paper, geometry.box, glyph, ink, rng)
            for digit, style in plan.bubbles:
                draw_bubble(paper, geometry.bubbles[digit], style, ink, rng)
    return paper


# --- photographing --------------------------------------------------------------------------


@dataclass
class PhotoSpec:
    tilt: float = 0.12  # share of the page size the corners move (perspective)
    rotation: float = 20.0  # degrees, ±
    blur: tuple[float, float] = (0.0, 1.1)  # gaussian sigma range (output pixels)
    noise: tuple[float, float] = (1.5, 5.0)
    light: tuple[float, float] = (0.55, 1.0)  # darkest and brightest corner factors
    shadow: float = 0.5  # chance of a hard-ish shadow
    jpeg: tuple[int, int] = (50, 85)
    long_side: int = 1280
    fill: tuple[float, float] = (0.8, 0.95)  # share of the frame's short side the page takes
    upside_down: float = 0.0  # chance of an extra 180° turn


def photograph(paper: np.ndarray, rng: np.random.Generator, spec: PhotoSpec | None = None,
               crop_corner: bool = False) -> bytes:
    """JPEG bytes of a simulated phone photo of `paper` (RGB)."""
    spec = spec or PhotoSpec()
    ph, pw = paper.shape[:2]
    portrait = rng.random() < 0.75
    out_w, out_h = ((spec.long_side * 3) // 4, spec.long_side) if portrait else (
        spec.long_side, (spec.long_side * 3) // 4)
    angle = np.radians(rng.uniform(-spec.rotation, spec.rotation)
                       + (180 if rng.random() < spec.upside_down else 0)
                       + (0 if portrait else 90))
    corners = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float64) - [pw / 2, ph / 2]
    corners += rng.uniform(-spec.tilt, spec.tilt, (4, 2)) * ph * 0.5
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = corners @ rot.T
    span = corners.max(0) - corners.min(0)
    scale = rng.uniform(*spec.fill) * min(out_w / span[0], out_h / span[1])
    corners *= scale
    span *= scale
    room = np.array([out_w, out_h]) - span
    position = rng.uniform(0.0, 1.0, 2) * room
    if crop_corner:
        side = rng.integers(2)
        beyond = 0.08 * span[side]
        position[side] = -beyond if rng.random() < 0.5 else room[side] + beyond
    dst = (corners - corners.min(0) + position).astype(np.float32)
    page_long = ph * scale
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    shrink = ph / page_long
    if shrink > 1.5:
        paper = cv2.GaussianBlur(paper, (0, 0), 0.45 * shrink)
    table = np.array(rng.uniform(60, 160, 3), np.uint8)
    photo = cv2.warpPerspective(paper, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT,
                                borderValue=tuple(int(v) for v in table))
    photo = photo.astype(np.float32)
    # Uneven light: a bilinear gradient between corner factors, plus a soft shadow.
    lo, hi = spec.light
    grid = rng.uniform(lo, hi, (2, 2)).astype(np.float32)
    grid[rng.integers(2), rng.integers(2)] = hi
    light = cv2.resize(grid, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < spec.shadow:
        mask = np.zeros((out_h, out_w), np.float32)
        pts = (rng.uniform(0, 1, (4, 2)) * [out_w, out_h]).astype(np.int32)
        pts[:2, 0] = rng.integers(0, out_w // 2)
        cv2.fillConvexPoly(mask, cv2.convexHull(pts), 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(4, 25))
        light *= 1 - mask * rng.uniform(0.2, 0.45)
    cast = rng.uniform(0.92, 1.06, 3).astype(np.float32)
    photo *= light[..., None] * cast[None, None, :]
    sigma = rng.uniform(*spec.blur)
    if sigma > 0.25:
        photo = cv2.GaussianBlur(photo, (0, 0), sigma)
    photo += rng.normal(0, rng.uniform(*spec.noise), photo.shape).astype(np.float32)
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    bgr = cv2.cvtColor(photo, cv2.COLOR_RGB2BGR)
    ok, camera = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(88, 96))])
    assert ok
    again = cv2.imdecode(camera, cv2.IMREAD_COLOR)
    quality = int(rng.integers(spec.jpeg[0], spec.jpeg[1] + 1))
    ok, sent = cv2.imencode(".jpg", again, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return sent.tobytes()
