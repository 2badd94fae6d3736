"""`election load`: contests and their candidates (or parties) by ballot number, from YAML.

```yaml
election: Pemilu 2024
contests:
  - code: PPWP                 # 2-10 uppercase letters, used in SMS tallies
    name: Presiden dan Wakil Presiden
    regions: []                # region code prefixes; empty or absent = nationwide
    candidates:
      - {number: 1, name: "…"}
```
A contest with any error is skipped whole (reported with its line); good contests are upserted
and their candidate list replaced. `position` is the contest's order in the file. Contests in
the database but not in the file are left alone.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from relay.db import session_scope
from relay.loaders import LoadError, LoadReport, check_name, is_digits, normalise_code
from relay.models import Candidate, Contest

CODE = re.compile(r"[A-Z]{2,10}")
PREFIX_LENGTHS = (2, 4, 6, 10)


@dataclass
class _Contest:
    line: int
    position: int
    code: str
    name: str
    regions: list[str]
    candidates: list[tuple[int, str]]


def load_election(path: str | os.PathLike[str], url: str | None = None) -> LoadReport:
    report = LoadReport(unit="contests")
    root, data = _read(Path(path))
    contests_node = _value_node(root, "contests")
    contests = data.get("contests")
    if not isinstance(contests, list) or not isinstance(contests_node, yaml.SequenceNode):
        raise LoadError(f"{path}: `contests` must be a list")
    good: list[_Contest] = []
    codes: dict[str, int] = {}
    for index, (item, node) in enumerate(zip(contests, contests_node.value, strict=True)):
        report.rows += 1
        line = node.start_mark.line + 1
        contest = _validate(item, node, index + 1, report)
        if contest is None:
            continue
        if contest.code in codes:
            report.add_error(
                line,
                f"contest {contest.code}: duplicate code (first on line {codes[contest.code]})",
            )
            continue
        codes[contest.code] = line
        good.append(contest)
    with session_scope(url) as session:
        for contest in good:
            _upsert(session, contest, report)
    return report.finish()


def _read(path: Path) -> tuple[yaml.Node, dict[str, Any]]:
    """Parse once, keeping the node tree (for line numbers) and the plain data."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError(f"cannot read {path}: {exc}") from exc
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        raise LoadError(f"{path}: not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict) or root is None:
        raise LoadError(f"{path}: expected a mapping with `election` and `contests`")
    return root, data


def _value_node(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The node under `key` (the last one, as the constructed mapping keeps the last)."""
    found = None
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == key:
                found = value_node
    return found


def _line(node: yaml.Node | None, fallback: int) -> int:
    return node.start_mark.line + 1 if node is not None else fallback


def _validate(item: Any, node: yaml.Node, position: int, report: LoadReport) -> _Contest | None:
    """The contest if it is wholly valid; otherwise each problem is reported and None."""
    line = node.start_mark.line + 1
    if not isinstance(item, dict):
        report.add_error(
            line, f"contest #{position}: expected a mapping with code, name, candidates"
        )
        return None
    errors: list[tuple[int, str]] = []
    code = item.get("code")
    label = f"contest {code}" if isinstance(code, str) and code else f"contest #{position}"
    if not isinstance(code, str) or not CODE.fullmatch(code):
        errors.append(
            (
                _line(_value_node(node, "code"), line),
                f"{label}: code must be 2-10 uppercase letters, got {code!r}",
            )
        )
    name = item.get("name")
    name = name.strip() if isinstance(name, str) else ""
    if (reason := check_name(name, 200)) is not None:
        errors.append((_line(_value_node(node, "name"), line), f"{label}: {reason}"))
    regions = _regions(
        item.get("regions"), _line(_value_node(node, "regions"), line), label, errors
    )
    candidates = _candidates(
        item.get("candidates"), _value_node(node, "candidates"), line, label, errors
    )
    for error in errors:
        report.add_error(*error)
    if errors:
        return None
    return _Contest(line, position, code, name, regions, candidates)


def _regions(raw: Any, line: int, label: str, errors: list[tuple[int, str]]) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.append((line, f"{label}: regions must be a list of region code prefixes"))
        return []
    prefixes = []
    for value in raw:
        prefix = normalise_code(str(value)) if isinstance(value, str | int) else ""
        if not is_digits(prefix) or len(prefix) not in PREFIX_LENGTHS:
            errors.append(
                (line, f"{label}: region {value!r} must be a 2, 4, 6 or 10-digit region code")
            )
        else:
            prefixes.append(prefix)
    return prefixes


def _candidates(
    raw: Any, node: yaml.Node | None, line: int, label: str, errors: list[tuple[int, str]]
) -> list[tuple[int, str]]:
    if not isinstance(raw, list) or not raw or not isinstance(node, yaml.SequenceNode):
        errors.append((_line(node, line), f"{label}: candidates must be a non-empty list"))
        return []
    out: list[tuple[int, str]] = []
    numbers: dict[int, int] = {}
    for item, item_node in zip(raw, node.value, strict=True):
        at = item_node.start_mark.line + 1
        if not isinstance(item, dict):
            errors.append((at, f"{label}: candidate must be {{number: N, name: …}}"))
            continue
        number = _ballot_number(item.get("number"))
        name = item.get("name")
        name = name.strip() if isinstance(name, str) else ""
        if number is None:
            errors.append(
                (
                    at,
                    f"{label}: ballot number must be a whole number ≥ 1, "
                    f"got {item.get('number')!r}",
                )
            )
        elif number in numbers:
            errors.append(
                (at, f"{label}: duplicate ballot number {number} (first on line {numbers[number]})")
            )
        else:
            numbers[number] = at
        if (reason := check_name(name, 300)) is not None:
            errors.append((at, f"{label}: candidate {item.get('number')!r}: {reason}"))
        if number is not None:
            out.append((number, name))
    return out


def _ballot_number(raw: Any) -> int | None:
    """1, or "01" (YAML reads 08 and 09 as text, not numbers)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str) and is_digits(raw.strip()):
        raw = int(raw.strip())
    return raw if isinstance(raw, int) and raw >= 1 else None


def _upsert(session: Session, contest: _Contest, report: LoadReport) -> None:
    report.count_kind("candidates", len(contest.candidates))
    existing = session.get(Contest, contest.code)
    if existing is None:
        session.add(
            Contest(
                code=contest.code,
                name=contest.name,
                position=contest.position,
                region_scope=contest.regions,
                candidates=[
                    Candidate(ballot_number=n, name=name) for n, name in contest.candidates
                ],
            )
        )
        report.inserted += 1
        return
    same = (
        existing.name == contest.name
        and existing.position == contest.position
        and list(existing.region_scope or []) == contest.regions
        and [(c.ballot_number, c.name) for c in existing.candidates] == contest.candidates
    )
    if same:
        report.unchanged += 1
        return
    existing.name = contest.name
    existing.position = contest.position
    existing.region_scope = contest.regions
    # Delete the old list before inserting the new: (contest, ballot number) is unique.
    existing.candidates.clear()
    session.flush()
    existing.candidates.extend(
        Candidate(ballot_number=n, name=name) for n, name in contest.candidates
    )
    report.updated += 1
