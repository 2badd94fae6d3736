"""The anchors file: audit-log anchors noted over time, one `ID:HASH TIME` a line.

`bin/relay audit watch` appends the head a server publishes and checks the earlier lines
against it; `bin/relay audit verify --anchors FILE` checks the same file against the
database, so an administrator can verify locally against anchors an observer sent. Blank
lines and lines starting with `#` are ignored, and so is anything after the anchor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from relay.audit_verify import Anchor


class AnchorsFileError(ValueError):
    """A line of the file is not `ID:HASH …`, or the file cannot be read."""


def read(path: Path) -> list[Anchor]:
    """The anchors in `path`, in file order; none when the file does not exist yet."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise AnchorsFileError(f"{path}: cannot read it: {exc}") from None
    anchors = []
    for number, line in enumerate(lines, 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        try:
            anchors.append(Anchor.parse(words[0]))
        except ValueError as exc:
            raise AnchorsFileError(f"{path}:{number}: {exc}") from None
    return anchors


def line(anchor: Anchor, noted: datetime | None = None) -> str:
    """`ID:HASH TIME`, the time (UTC) when the anchor was noted."""
    moment = (noted or datetime.now(UTC)).astimezone(UTC)
    return f"{anchor.entry_id}:{anchor.hash} {moment.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"


def append(path: Path, anchor: Anchor, header: str) -> None:
    """Add `anchor` noted now; a new file starts with `header` as a comment."""
    fresh = not path.exists() or path.stat().st_size == 0
    try:
        with path.open("a", encoding="utf-8") as out:
            if fresh:
                out.write(f"# {header}\n")
            out.write(line(anchor))
    except OSError as exc:
        raise AnchorsFileError(f"{path}: cannot write it: {exc}") from None
