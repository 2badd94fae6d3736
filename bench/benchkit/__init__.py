"""What the benchmarks share: a running system, load generation, filled tally forms.

The project's root goes first on sys.path: a benchmark runs as a script from bench/, where
bench/ocr.py would otherwise shadow the `ocr` package.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent.parent)
if sys.path[:1] != [_ROOT]:
    sys.path.insert(0, _ROOT)
