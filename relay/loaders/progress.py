"""A one-line progress bar for long loads, shown only on a terminal (never in logs or pipes)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

# Loaders call progress(rows read so far, share of the file read 0..1) after each batch.
Progress = Callable[[int, float], None]


class ProgressPrinter:
    """Rewrites one terminal line: bar, share of the file, rows read, rows per second and the
    time left (from the share of the file read so far; shown once there is a rate to go by)."""

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
        elapsed = max(now - self.started, 1e-6)
        rate = rows / elapsed
        filled = int(fraction * 30)
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] "
            f"{fraction:4.0%}  {rows:,} rows  {rate:,.0f} rows/s  {time_left(elapsed, fraction)} "
        )
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()


def time_left(elapsed: float, fraction: float) -> str:
    """`12 s left`, `3 min left`, `1 h 05 min left`; `done` at the end. The file share read
    is what the estimate goes by (rows vary in length far less than in count across files)."""
    if fraction >= 1.0:
        return f"done in {_duration(elapsed)}"
    if fraction <= 0.0 or elapsed < 0.5:
        return "time left: estimating"
    return f"{_duration(elapsed * (1.0 - fraction) / fraction)} left"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def terminal_progress(label: str, stream: TextIO | None = None) -> ProgressPrinter | None:
    """A printer when `stream` (default stdout) is a terminal, else None."""
    stream = stream or sys.stdout
    return ProgressPrinter(label, stream) if stream.isatty() else None
