"""A digit box's ink → a 28×28 MNIST-style glyph (the classifier's input), and its ink share.

Shared by the reader and by the training script, so that the model is trained on exactly what it
will be shown.
"""

from __future__ import annotations

import cv2
import numpy as np

SIZE = 28
FIT = 20  # the glyph's long side inside the 28×28 frame, as in MNIST
INK = 0.3  # darkness above which a pixel is ink
BLANK_SHARE = 0.008  # below this share of ink pixels a box is blank (NOTES-ocr: ≤ 1%)
MIN_EXTENT = 0.45  # share of the box height below which ink is not scaled up (a speck stays small)


FAINT_INK = 0.22  # darkness that counts when deciding whether a box holds anything at all


def ink_share(darkness: np.ndarray) -> float:
    # A count over the size: the very value of the boolean mean, without its Python overhead.
    return int(np.count_nonzero(darkness > FAINT_INK)) / darkness.size if darkness.size else 0.0


def normalize(darkness: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Crop to the ink, scale its long side to 20 px, centre its mass in 28×28 (float32 0..1).

    `out`: a zeroed 28×28 float32 array to draw the glyph into (the reader's batch), returned.
    """
    if out is None:
        out = np.zeros((SIZE, SIZE), np.float32)
    mask = np.greater(darkness, INK).view(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    # A glyph has a handful of components: plain Python over their stats beats numpy calls.
    parts = stats[1:].tolist()  # left, top, width, height, area
    kept = [p for p in parts if p[4] >= 3]  # specks are noise, not strokes
    if not kept:
        return out
    # The ink's bounding box from the components' own boxes.
    x0, y0 = min(p[0] for p in kept), min(p[1] for p in kept)
    x1, y1 = max(p[0] + p[2] for p in kept), max(p[1] + p[3] for p in kept)
    if len(kept) == len(parts):
        inside = labels[y0:y1, x0:x1] > 0
    else:
        keep = np.zeros(count, bool)
        keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= 3
        inside = keep[labels[y0:y1, x0:x1]]
    glyph = np.where(inside, darkness[y0:y1, x0:x1], np.float32(0.0)).astype(np.float32,
                                                                                  copy=False)
    h, w = glyph.shape
    scale = FIT / max(h, w, MIN_EXTENT * darkness.shape[0])
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    glyph = cv2.resize(glyph, (nw, nh), interpolation=interp)
    total = glyph.sum()
    if total <= 0:
        return out
    cy = (glyph.sum(axis=1) * _STEPS[:nh]).sum() / total
    cx = (glyph.sum(axis=0) * _STEPS[:nw]).sum() / total
    top = int(min(max(round(SIZE / 2 - cy), 0), SIZE - nh))  # np.clip costs more on scalars
    left = int(min(max(round(SIZE / 2 - cx), 0), SIZE - nw))
    # The peak is the glyph's own (the frame around it is zero, the ink ≥ 0 and not all 0).
    out[top : top + nh, left : left + nw] = glyph / glyph.max()
    return out


_STEPS = np.arange(2 * SIZE)  # pixel indices for the centre of mass (int64, as np.arange)
