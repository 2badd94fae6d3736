"""Do two versions of the reader read the same? For performance work on ocr/: every field value,
flag, reason and probability of a fixed set of photos, saved before and compared after.

    .venv/bin/python bench/ocr_same.py make  /tmp/corpus --pages 400 --seed 11   # once
    .venv/bin/python bench/ocr_same.py read  /tmp/corpus before.json          # old code
    .venv/bin/python bench/ocr_same.py read  /tmp/corpus after.json           # new code
    .venv/bin/python bench/ocr_same.py compare before.json after.json [--tolerance 1e-6]
    .venv/bin/python bench/ocr_same.py                       # make bench: 40 pages read twice

Without a command (as `make bench` runs it) it makes a small corpus in a temporary directory
and reads it twice in this process: the reader must read the same twice over (no state kept
from one photo to the next), and the CPU per page is printed.

The corpus: bench/ocr.py's pages (its four cases and the hard photos, all three contests) and
the golden photos of tests/data/ocr. `read` also prints the CPU per page (one core), so the same
corpus measures the gain. Compare: strings, integers and flags exactly; probabilities within
the tolerance; the annotated JPEG by its hash (reported apart: it is a picture, not a reading).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocr import classifier, formrules  # noqa: E402
from ocr.reader import ReadResult, read_photo  # noqa: E402
from ocr.templates import StaticLookup  # noqa: E402

GOLDEN = ROOT / "tests" / "data" / "ocr"


def _bench_module():  # type: ignore[no-untyped-def]
    """bench/ocr.py under another name (its own name would shadow the ocr package)."""
    spec = importlib.util.spec_from_file_location("bench_ocr", ROOT / "bench" / "ocr.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_ocr"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def make(corpus: Path, pages: int, seed: int) -> None:
    bench = _bench_module()
    from benchkit.forms import bench_templates, uci_source

    corpus.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    templates = bench_templates()
    source = uci_source(seed)
    cases = [*bench.CASES, "hard"]
    index = {}
    for n in range(pages):
        case = cases[n % len(cases)]
        spec = bench.HARD if case == "hard" else None
        page = bench.make_page(templates, n, rng, source,
                               "consistent" if case == "hard" else case, spec)
        name = f"{n:04d}_{case}_{page.template.contest_code}.jpg"
        (corpus / name).write_bytes(page.jpeg)
        index[name] = {page.tps.code: page.tps.registered_voters}
    (corpus / "index.json").write_text(json.dumps(index, indent=0))
    print(f"{pages} pages in {corpus}")


def _photos(corpus: Path) -> list[tuple[str, bytes, StaticLookup]]:
    from benchkit.forms import bench_templates

    from tests.ocr_support import demo_lookup

    templates = list(bench_templates().values())
    index = json.loads((corpus / "index.json").read_text())
    out = [(name, (corpus / name).read_bytes(), StaticLookup(templates, voters))
           for name, voters in sorted(index.items())]
    out += [(f"golden/{p.name}", p.read_bytes(), demo_lookup())
            for p in sorted(GOLDEN.glob("*.jpg"))]
    return out


def reading(result: ReadResult) -> dict[str, object]:
    """Everything the reader decided about a page, full precision (timings left out)."""
    data = {k: v for k, v in asdict(result).items()
            if k not in ("timings_ms", "annotated_jpeg")}
    jpeg = result.annotated_jpeg
    data["annotated_sha1"] = hashlib.sha1(jpeg).hexdigest() if jpeg else None
    return data


def read(corpus: Path, out: Path) -> None:
    cv2.setNumThreads(1)
    classifier.load()
    formrules.reserve_ballots(300)
    photos = _photos(corpus)
    readings, cpu = {}, {}
    load = os.getloadavg()[0]
    for name, data, lookup in photos:
        c0 = time.process_time()
        result = read_photo(data, lookup)
        ms = (time.process_time() - c0) * 1000
        readings[name] = reading(result)
        if result.ok and not name.startswith("golden/") and "_hard_" not in name:
            cpu.setdefault(result.contest, []).append(ms)
    out.write_text(json.dumps(readings, indent=1, default=str))
    figures = "; ".join(f"{c} median {np.median(v):.1f} p95 {np.percentile(v, 95):.1f} "
                        f"({len(v)} pages)" for c, v in sorted(cpu.items()))
    print(f"{len(photos)} photos read into {out}; CPU ms per page {figures}; load average "
          f"{load:.1f} → {os.getloadavg()[0]:.1f}")


def _diff(a: object, b: object, path: str, tol: float, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'after' if k in b else 'before'}")
            else:
                _diff(a[k], b[k], f"{path}.{k}", tol, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items → {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            _diff(x, y, f"{path}[{i}]", tol, out)
    elif isinstance(a, float) and isinstance(b, float):
        if abs(a - b) > tol:
            out.append(f"{path}: {a!r} → {b!r}")
    elif a != b or type(a) is not type(b):
        out.append(f"{path}: {a!r} → {b!r}")


def compare(before: Path, after: Path, tol: float) -> int:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    readings, pictures, fields, worst = [], [], 0, 0.0
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            readings.append(f"{name}: read only {'after' if name in b else 'before'}")
            continue
        x, y = dict(a[name]), dict(b[name])
        if x.pop("annotated_sha1") != y.pop("annotated_sha1"):
            pictures.append(name)
        fields += len(x.get("fields", []))
        for fx, fy in zip(x.get("fields", []), y.get("fields", []), strict=False):
            for key in ("confidence", "read_confidence"):
                worst = max(worst, abs(fx[key] - fy[key]))
        found: list[str] = []
        _diff(x, y, name, tol, found)
        readings += found
    for line in readings[:40]:
        print("  " + line)
    print(f"{len(set(a) & set(b))} photos, {fields} fields compared: {len(readings)} reading "
          f"differences (tolerance {tol:g}; largest probability difference {worst:.2e}); "
          f"annotated JPEG differs on {len(pictures)}")
    return 1 if readings else 0


def read_twice(pages: int, seed: int) -> int:
    """Make a corpus of `pages` in a temporary directory, read it twice, compare."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        make(corpus, pages, seed)
        read(corpus, Path(tmp) / "first.json")
        read(corpus, Path(tmp) / "second.json")
        return compare(Path(tmp) / "first.json", Path(tmp) / "second.json", 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("make")
    p.add_argument("corpus", type=Path)
    p.add_argument("--pages", type=int, default=400)
    p.add_argument("--seed", type=int, default=11)
    p = sub.add_parser("read")
    p.add_argument("corpus", type=Path)
    p.add_argument("out", type=Path)
    p = sub.add_parser("compare")
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args()
    if args.command is None:
        sys.exit(read_twice(pages=40, seed=11))
    if args.command == "make":
        make(args.corpus, args.pages, args.seed)
    elif args.command == "read":
        read(args.corpus, args.out)
    else:
        sys.exit(compare(args.before, args.after, args.tolerance))


if __name__ == "__main__":
    main()
