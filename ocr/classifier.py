"""The handwritten-digit classifier at run time: a small CNN evaluated with numpy alone.

Classes: digits 0–9, X (10) and blank (11). Weights come from `ocr/digits_model.npz`, written by
`ocr/train_digits.py`; the service needs no deep-learning framework. Logits are divided by the
temperature fitted on held-out boxes, so the probabilities mean what they say.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).with_name("digits_model.npz")
CLASSES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "blank")
X_CLASS = 10
BLANK_CLASS = 11
N_CLASSES = len(CLASSES)


class Model:
    """conv3×3 → ReLU → pool2 → conv3×3 → ReLU → pool2 → dense → ReLU → dense (torch layout).

    The forward pass keeps channels first (C, N, H, W), so every im2col row is one contiguous
    copy of a shifted window and each convolution is one matrix product over the whole batch;
    the bias and ReLU follow the pooling (max commutes with both, exactly), and the second
    convolution is worked out only where the pooling reads it. Summed in the same order as a
    plain im2col, the logits are the very same floats (tests/test_ocr_stages.py).
    """

    BATCH = 1024  # glyphs per pass: bounds the im2col buffers (~70 KB a glyph)

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        f32 = {k: np.asarray(v, np.float32) for k, v in weights.items()}
        self.c1w, self.c1b = f32["c1w"], f32["c1b"]
        self.c2w, self.c2b = f32["c2w"], f32["c2b"]
        self.f1w, self.f1b = f32["f1w"], f32["f1b"]
        self.f2w, self.f2b = f32["f2w"], f32["f2b"]
        self.temperature = float(weights.get("temperature", np.float32(1.0)))
        # Kernels as (out, in·k·k) rows, columns in torch's (in, ky, kx) order.
        self._k1 = np.ascontiguousarray(self.c1w.reshape(self.c1w.shape[0], -1))
        self._k2 = np.ascontiguousarray(self.c2w.reshape(self.c2w.shape[0], -1))
        self._b1 = self.c1b.reshape(-1, 1, 1, 1)
        self._b2 = self.c2b.reshape(-1, 1, 1, 1)
        self._f1t, self._f2t = self.f1w.T, self.f2w.T

    @staticmethod
    def _conv(x: np.ndarray, kernel: np.ndarray, size: int) -> np.ndarray:
        """Valid k×k correlation of x (C, N, H, W) over the top-left size×size outputs:
        (out, N, size, size), no bias."""
        c, n = x.shape[:2]
        k = math.isqrt(kernel.shape[1] // c)
        cols = np.empty((c, k * k, n, size, size), np.float32)
        for i in range(k * k):
            dy, dx = divmod(i, k)
            cols[:, i] = x[:, :, dy : dy + size, dx : dx + size]
        return (kernel @ cols.reshape(c * k * k, -1)).reshape(-1, n, size, size)

    @staticmethod
    def _pool_relu(x: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """2×2 max pooling of x (C, N, 2h, 2w), then + bias and ReLU (in place)."""
        rows = np.maximum(x[:, :, 0::2], x[:, :, 1::2])
        out = np.maximum(rows[..., 0::2], rows[..., 1::2])
        out += bias
        return np.maximum(out, 0.0, out=out)

    def logits(self, glyphs: np.ndarray) -> np.ndarray:
        """Raw logits for glyphs (N, 28, 28) in 0..1."""
        if len(glyphs) > self.BATCH:
            return np.concatenate([self.logits(glyphs[i : i + self.BATCH])
                                   for i in range(0, len(glyphs), self.BATCH)])
        x = glyphs.astype(np.float32, copy=False)[None]  # C = 1
        k = self.c1w.shape[-1]
        pooled = (x.shape[-1] - k + 1) // 2
        x = self._pool_relu(self._conv(x, self._k1, 2 * pooled), self._b1)
        pooled = (pooled - k + 1) // 2
        x = self._pool_relu(self._conv(x, self._k2, 2 * pooled), self._b2)
        x = x.transpose(1, 0, 2, 3).reshape(x.shape[1], -1)  # (N, C·h·w), torch's flatten
        x = x @ self._f1t
        x += self.f1b
        np.maximum(x, 0.0, out=x)
        return x @ self._f2t + self.f2b

    def probabilities(self, glyphs: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities (N, 12)."""
        if len(glyphs) == 0:
            return np.zeros((0, N_CLASSES), np.float32)
        z = self.logits(glyphs) / self.temperature
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)


@functools.lru_cache(maxsize=2)
def load(path: Path = MODEL_PATH) -> Model:
    with np.load(path) as data:
        return Model({k: data[k] for k in data.files})
