"""What a load did: counts, and the rows it refused (by file line) so an operator can fix them."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TextIO

# A file that is wrong throughout (wrong column order, say) must not fill memory with
# millions of messages: past this many, only the count grows.
MAX_KEPT_MESSAGES = 10_000


_error_file: ContextVar[csv.DictWriter | None] = ContextVar("load_error_file", default=None)


@contextmanager
def errors_written_to(stream: TextIO) -> Iterator[None]:
    """While open, every refused row of a load is also written to `stream` as CSV
    (`line,error`, in the order found), past the in-memory cap: the file an operator fixes
    the input from, however wrong it is."""
    writer = csv.DictWriter(stream, fieldnames=["line", "error"], lineterminator="\n")
    writer.writeheader()
    token = _error_file.set(writer)
    try:
        yield
    finally:
        _error_file.reset(token)


class LoadError(Exception):
    """The file as a whole cannot be loaded (missing, unreadable, bad header, not YAML)."""


@dataclass
class LoadReport:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)
    rows: int = 0  # data rows (or contests) read from the file
    kinds: dict[str, int] = field(default_factory=dict)  # accepted rows per kind (tps, village…)
    errors_dropped: int = 0
    notes_dropped: int = 0
    unit: str = "rows"  # what `rows` counts, for the summary

    def add_error(self, line: int, reason: str) -> None:
        if (writer := _error_file.get()) is not None:
            writer.writerow({"line": line, "error": reason})
        if len(self.errors) < MAX_KEPT_MESSAGES:
            self.errors.append((line, reason))
        else:
            self.errors_dropped += 1

    def add_note(self, line: int, text: str) -> None:
        if len(self.notes) < MAX_KEPT_MESSAGES:
            self.notes.append((line, text))
        else:
            self.notes_dropped += 1

    def count_kind(self, kind: str, n: int = 1) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + n

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.errors_dropped

    @property
    def note_count(self) -> int:
        return len(self.notes) + self.notes_dropped

    def finish(self) -> LoadReport:
        """Order messages by line: loaders find some errors per row and some per batch."""
        self.errors.sort(key=lambda item: item[0])
        self.notes.sort(key=lambda item: item[0])
        return self

    def summary(self) -> str:
        text = (
            f"{self.rows:,} rows: {self.inserted:,} inserted, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged, {self.error_count:,} "
            f"error{'' if self.error_count == 1 else 's'}"
        )
        if self.note_count:
            text += f", {self.note_count:,} note{'' if self.note_count == 1 else 's'}"
        if self.kinds:
            text += " (" + ", ".join(f"{k} {n:,}" for k, n in self.kinds.items()) + ")"
        return text
