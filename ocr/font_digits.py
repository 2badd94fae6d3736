"""Training digits in more handwriting styles: digits of handwriting fonts, each drawn many
times with a different slant, stroke width and elastic wobble, as MNIST-style 28×28 images.

Only ocr/train_digits.py uses this (the service never renders fonts). The fonts come from npm's
`@fontsource/*` packages (Google Fonts' handwriting families, SIL OFL 1.1 or Apache 2.0, each
package's own licence); fetch them once with the ordinary client, e.g.

    npm pack @fontsource/caveat && tar xzf fontsource-caveat-5.3.0.tgz
    cp package/files/caveat-latin-400-normal.woff /tmp/hwfonts/

and point train_digits' `--fonts` at the folder of .woff/.ttf/.otf files.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

RENDER_PX = 72  # the font size digits are first drawn at
FONT_SUFFIXES = (".woff", ".ttf", ".otf")


def font_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in FONT_SUFFIXES)


def _draw(font: ImageFont.FreeTypeFont, text: str) -> np.ndarray:
    size = RENDER_PX * 2
    image = Image.new("L", (size, size), 0)
    ImageDraw.Draw(image).text((size // 4, size // 8), text, fill=255, font=font)
    return np.asarray(image, np.float32) / 255.0


def _crop(img: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(img > 0.2)
    if not len(ys):
        return img[:0, :0]
    return img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def font_glyphs(path: Path) -> dict[int, np.ndarray] | None:
    """The ten digits of one font as ink (0..1, cropped), or None when the font has no digits
    of its own (they come out empty or as the font's "missing glyph" box)."""
    font = ImageFont.truetype(str(path), RENDER_PX)
    missing = _crop(_draw(font, "\ue000"))
    out: dict[int, np.ndarray] = {}
    for digit in range(10):
        ink = _crop(_draw(font, str(digit)))
        if ink.size == 0 or (ink.shape == missing.shape and np.allclose(ink, missing, atol=0.05)):
            return None
        out[digit] = ink
    return out


def _elastic(img: np.ndarray, rng: np.random.Generator, alpha: float, sigma: float
             ) -> np.ndarray:
    """Simard's elastic distortion: a smoothed random displacement field."""
    h, w = img.shape
    dx = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma) * alpha
    dy = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma) * alpha
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, gx + dx, gy + dy, cv2.INTER_LINEAR, borderValue=0)


def variant(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One handwritten-looking copy of a font digit → 28×28 uint8 (MNIST's framing: long side
    20 px, centre of mass in the middle)."""
    pad = RENDER_PX // 3
    img = cv2.copyMakeBorder(ink, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    h, w = img.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-10, 10), 1.0)
    matrix[0, 1] += rng.uniform(-0.35, 0.35)  # slant
    matrix[:, :2] *= np.array([[rng.uniform(0.75, 1.2)], [1.0]])  # narrower or wider hands
    img = cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR)
    img = _elastic(img, rng, alpha=rng.uniform(20, 60), sigma=rng.uniform(5, 8))
    stroke = rng.random()
    if stroke < 0.3:  # a broader pen
        k = int(rng.integers(2, 6))
        img = cv2.dilate(img, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    elif stroke < 0.5:  # a finer one
        k = int(rng.integers(2, 4))
        thinner = cv2.erode(img, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        if (thinner > 0.5).sum() > 0.3 * (img > 0.5).sum():
            img = thinner
    glyph = _crop(img)
    if glyph.size == 0:
        glyph = _crop(ink)
    gh, gw = glyph.shape
    scale = 20 / max(gh, gw)
    small = cv2.resize(glyph, (max(1, round(gw * scale)), max(1, round(gh * scale))),
                       interpolation=cv2.INTER_AREA)
    nh, nw = small.shape
    total = small.sum()
    cy = (small.sum(axis=1) * np.arange(nh)).sum() / total
    cx = (small.sum(axis=0) * np.arange(nw)).sum() / total
    top = int(min(max(round(14 - cy), 0), 28 - nh))
    left = int(min(max(round(14 - cx), 0), 28 - nw))
    out = np.zeros((28, 28), np.float32)
    out[top : top + nh, left : left + nw] = small
    out /= max(out.max(), 1e-6)
    return np.rint(out * 255).astype(np.uint8)


def font_digit_sets(folder: Path, per_glyph: int, seed: int,
                    skip: tuple[str, ...] = ()) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`per_glyph` variants of every digit of every usable font in `folder` (fonts whose stem is
    in `skip` are left out, e.g. to hold them out): (N, 28, 28) uint8, labels, font names."""
    rng = np.random.default_rng(seed)
    images, labels, names = [], [], []
    for path in font_files(folder):
        if path.stem in skip:
            continue
        glyphs = font_glyphs(path)
        if glyphs is None:
            continue
        names.append(path.stem)
        for digit, ink in glyphs.items():
            for _ in range(per_glyph):
                images.append(variant(ink, rng))
                labels.append(digit)
    return np.array(images, np.uint8).reshape(-1, 28, 28), np.array(labels, np.int64), names
