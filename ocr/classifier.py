"""The handwritten-digit classifier at run time: a small CNN evaluated with numpy alone.

Classes: digits 0–9, X (10) and blank (11). Weights come from `ocr/digits_model.npz`, written by
`ocr/train_digits.py`; the service needs no deep-learning framework. Logits are divided by the
temperature fitted on held-out boxes, so the probabilities mean what they say.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MODEL_PATH = Path(__file__).with_name("digits_model.npz")
CLASSES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "blank")
X_CLASS = 10
BLANK_CLASS = 11
N_CLASSES = len(CLASSES)


class Model:
    """conv3×3 → ReLU → pool2 → conv3×3 → ReLU → pool2 → dense → ReLU → dense (torch layout)."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        f32 = {k: np.asarray(v, np.float32) for k, v in weights.items()}
        self.c1w, self.c1b = f32["c1w"], f32["c1b"]
        self.c2w, self.c2b = f32["c2w"], f32["c2b"]
        self.f1w, self.f1b = f32["f1w"], f32["f1b"]
        self.f2w, self.f2b = f32["f2w"], f32["f2b"]
        self.temperature = float(weights.get("temperature", np.float32(1.0)))
        self._k1 = self.c1w.reshape(self.c1w.shape[0], -1).T.copy()
        self._k2 = self.c2w.reshape(self.c2w.shape[0], -1).T.copy()

    @staticmethod
    def _conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
        windows = sliding_window_view(x, (3, 3), axis=(1, 2))  # N, H, W, C, 3, 3
        n, h, w = windows.shape[:3]
        out = windows.reshape(n * h * w, -1) @ kernel + bias
        return np.maximum(out, 0.0).reshape(n, h, w, -1)

    @staticmethod
    def _pool(x: np.ndarray) -> np.ndarray:
        n, h, w, c = x.shape
        x = x[:, : h // 2 * 2, : w // 2 * 2]
        return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))

    def logits(self, glyphs: np.ndarray) -> np.ndarray:
        """Raw logits for glyphs (N, 28, 28) in 0..1."""
        x = glyphs.astype(np.float32)[..., None]
        x = self._pool(self._conv(x, self._k1, self.c1b))
        x = self._pool(self._conv(x, self._k2, self.c2b))
        x = x.transpose(0, 3, 1, 2).reshape(len(x), -1)
        x = np.maximum(x @ self.f1w.T + self.f1b, 0.0)
        return x @ self.f2w.T + self.f2b

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
