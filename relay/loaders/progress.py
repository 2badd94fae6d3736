"""A one-line progress bar for long loads, shown only on a terminal (never in logs or pipes)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

# Loaders call progress(rows read so far, share of the file read 0..1) after each batch.
Progress = Callable[[int, float], None]


class ProgressPrinter:
    """Rewrites one terminal line: bar, share of the file, rows read, rows per second."""

    def __init__(self, label: str, stream: TextIO | None = None, interval: float = 0.25) -> None:
        self.label = label
        self.stream = stream or sys.stdout
        self.interval = interval
        self.started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def __call__(self, rows: int, fraction: float) -> None:
        now = time.monotonic()
        if now - self._last < self.interval and fraction < 1.0:
            return
        self._last = now
        rate = rows / max(now - self.started, 1e-6)
        filled = int(fraction * 30)
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] "
            f"{fraction:4.0%}  {rows:,} rows  {rate:,.0f} rows/s "
        )
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()


def terminal_progress(label: str, stream: TextIO | None = None) -> ProgressPrinter | None:
    """A printer when `stream` (default stdout) is a terminal, else None."""
    stream = stream or sys.stdout
    return ProgressPrinter(label, stream) if stream.isatty() else None
