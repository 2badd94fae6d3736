"""`election load`: contests with their kind, required C.Hasil sections, regions, candidates or
parties by ballot number and, for party contests, electoral districts (dapil) with each party's
ordered candidate list per dapil.

```yaml
election: Pemilu 2024
contests:
  - code: PPWP                 # 2-10 uppercase letters, used in SMS tallies
    name: Presiden dan Wakil Presiden
    kind: candidates           # or parties; default: parties for DPR, DPRP, DPRK (and DPRD)
    required: [voters]         # sections an officer must send: voters, ballots, disabled,
                               # candidates (party contests); default none (a quick count)
    regions: []                # region code prefixes; empty or absent = nationwide
    candidates:
      - {number: 1, name: "…"}
  - code: DPR
    name: Dewan Perwakilan Rakyat
    parties:                   # party contests (a `candidates` list is read as the parties)
      - {number: 1, name: Partai Kebangkitan Bangsa}
    dapils:                    # a list, or a CSV file `code,name,regions`
      - code: JATIM-8
        name: Jawa Timur VIII
        regions: ["3576", "3516"]
        candidates:            # party number: its list in order (position = candidate number)
          1: [Nama Satu, Nama Dua]
    candidates: caleg_dpr.csv  # and/or a CSV file `dapil,party,number,name`
  - code: DPD                  # a regional candidate contest: each area its own list
    name: Dewan Perwakilan Daerah
    areas: dpd_areas.csv       # CSV `area,area_name,regions,number,name` (no `candidates`)
```
File names are relative to the election file; a `contest` column in them, when present, must
name the contest. A contest whose own fields are wrong is skipped whole (reported with its
line); a refused dapil or candidate row is reported (file, line, reason) and the rest loads.
`position` is the contest's order in the file. Contests in the database but not in the file are
left alone; for each contest in the file, its dapils and lists become the file's.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from relay.ballots import CANDIDATES, KINDS, PARTIES, SECTIONS
from relay.db import session_scope
from relay.loaders import BATCH_SIZE, LoadError, LoadReport, check_name
from relay.loaders.area_lists import (
    AreaLists,
    check_areas,
    clear_areas,
    read_area_file,
    store_areas,
)
from relay.loaders.party_lists import (
    ContestLists,
    ballot_number,
    check_dapils,
    clear_lists,
    inline_dapils,
    read_dapil_file,
    region_prefixes,
    store_candidates,
    store_dapils,
)
from relay.models import Candidate, Contest

CODE = re.compile(r"[A-Z]{2,10}")
# Contests whose ballot is parties with their candidate lists unless the file says otherwise.
PARTY_CONTESTS = ("DPR", "DPRD", "DPRP", "DPRK")


@dataclass
class _Contest:
    line: int
    position: int
    code: str
    name: str
    regions: list[str]
    candidates: list[tuple[int, str]]
    kind: str = CANDIDATES
    required: list[str] = field(default_factory=list)
    lists: ContestLists | None = None  # party contests: dapils and candidate lists given
    area_file: Path | None = None  # regional candidate contests: the areas' lists
    areas: AreaLists | None = None  # read from `area_file` before the contest is stored


def load_election(
    path: str | os.PathLike[str], url: str | None = None, batch_size: int = BATCH_SIZE
) -> LoadReport:
    report = LoadReport(unit="contests")
    path = Path(path)
    root, data = _read(path)
    contests_node = _value_node(root, "contests")
    contests = data.get("contests")
    if not isinstance(contests, list) or not isinstance(contests_node, yaml.SequenceNode):
        raise LoadError(f"{path}: `contests` must be a list")
    good: list[_Contest] = []
    codes: dict[str, int] = {}
    for index, (item, node) in enumerate(zip(contests, contests_node.value, strict=True)):
        report.rows += 1
        line = node.start_mark.line + 1
        contest = _validate(item, node, index + 1, path.parent, report)
        if contest is None:
            continue
        if contest.code in codes:
            report.add_error(
                line,
                f"contest {contest.code}: duplicate code (first on line {codes[contest.code]})",
            )
            continue
        codes[contest.code] = line
        if contest.area_file is not None:
            _read_areas(contest, report)
        good.append(contest)
    with session_scope(url) as session:
        for contest in good:
            outcome = _upsert(session, contest, report)
            if _store_lists(session, contest, report, batch_size) and outcome == "unchanged":
                outcome = "updated"
            setattr(report, outcome, getattr(report, outcome) + 1)
    return report.finish()


def _read_areas(contest: _Contest, report: LoadReport) -> None:
    """A regional contest's areas and lists, checked; held where its areas are when the file
    gives the contest no regions."""
    assert contest.area_file is not None
    label = f"contest {contest.code}"
    contest.areas = read_area_file(contest.area_file, contest.code, label, report)
    check_areas(contest.areas, contest.regions, label, report)
    if not contest.regions:
        contest.regions = contest.areas.scope()


def _store_lists(session: Session, contest: _Contest, report: LoadReport, batch_size: int) -> bool:
    """Dapils and candidate lists of a party contest, or areas and their candidate lists of a
    regional candidate contest; True when they changed."""
    conn = session.connection()
    lists = contest.lists
    if contest.areas is not None:
        cleared = clear_lists(conn, contest.code) if contest.kind == PARTIES else False
        return store_areas(conn, contest.code, contest.line, contest.areas, report) or cleared
    if contest.kind != PARTIES or lists is None or not lists.given:
        # no districts or areas: one list of parties or candidates (or none)
        return clear_areas(conn, contest.code) | clear_lists(conn, contest.code)
    label = f"contest {contest.code}"
    for dapil_file in lists.dapil_files:
        read_dapil_file(dapil_file, contest.code, label, report, lists)
    dapils = check_dapils(lists.dapils, contest.regions, label, report)
    accepted = {d.code for d in dapils}
    refused = {d.code for d in lists.dapils if d.code not in accepted} | set(lists.refused)
    changed = store_dapils(conn, contest.code, contest.line, dapils, refused, report)
    parties = {n for n, _ in contest.candidates}
    changed |= store_candidates(
        conn, contest.code, contest.line, label, parties, lists, dapils, report, batch_size
    )
    return changed


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


@dataclass
class _Entry:
    """One contest of the election file while it is checked: its mapping, its YAML node (for
    line numbers), the folder its companion files are in, and the problems found so far."""

    item: dict[str, Any]
    node: yaml.Node
    line: int
    label: str
    base: Path
    errors: list[tuple[int, str]] = field(default_factory=list)

    def at(self, key: str) -> int:
        """The line of `key`'s value, or the contest's own line."""
        return _line(_value_node(self.node, key), self.line)

    def error(self, key: str, text: str) -> None:
        self.errors.append((self.at(key), f"{self.label}: {text}"))


def _validate(
    item: Any, node: yaml.Node, position: int, base: Path, report: LoadReport
) -> _Contest | None:
    """The contest if it is wholly valid; otherwise each problem is reported and None."""
    line = node.start_mark.line + 1
    if not isinstance(item, dict):
        report.add_error(
            line, f"contest #{position}: expected a mapping with code, name, candidates"
        )
        return None
    code = item.get("code")
    label = f"contest {code}" if isinstance(code, str) and code else f"contest #{position}"
    entry = _Entry(item, node, line, label, base)
    errors = entry.errors
    if not isinstance(code, str) or not CODE.fullmatch(code):
        entry.error("code", f"code must be 2-10 uppercase letters, got {code!r}")
    name = item.get("name")
    name = name.strip() if isinstance(name, str) else ""
    if (reason := check_name(name, 200)) is not None:
        entry.error("name", reason)
    regions = _regions(item.get("regions"), entry.at("regions"), label, errors)
    kind = _kind(entry, code)
    required = _required(entry, kind)
    ballot_key = "parties" if kind == PARTIES and "parties" in item else "candidates"
    if kind == PARTIES and isinstance(item.get("candidates"), str) and "parties" not in item:
        ballot_key = "parties"  # `candidates: FILE` names the lists: the parties are missing
    area_file = _area_file(entry, kind)
    if area_file is not None and "candidates" in item:
        entry.error(
            "candidates",
            "a contest with areas takes its candidates from the area file; remove `candidates`",
        )
    candidates = (
        []
        if area_file is not None
        else _candidates(
            item.get(ballot_key), _value_node(node, ballot_key), line, label, ballot_key, errors
        )
    )
    lists = _lists(entry) if kind == PARTIES else None
    if kind == CANDIDATES and ("dapils" in item or "parties" in item):
        key = "dapils" if "dapils" in item else "parties"
        entry.error(
            key, f"{key} are for party contests (kind: parties), this one is kind: candidates"
        )
    for error in errors:
        report.add_error(*error)
    if errors:
        return None
    dapils_node = _value_node(node, "dapils")
    if lists is not None and isinstance(dapils_node, yaml.SequenceNode):
        inline_dapils(item["dapils"], dapils_node, label, report, lists)
    return _Contest(
        line, position, code, name, regions, candidates, kind, required, lists, area_file
    )


def _area_file(entry: _Entry, kind: str) -> Path | None:
    """`areas: FILE` of a regional candidate contest (relay.loaders.area_lists)."""
    if "areas" not in entry.item:
        return None
    raw = entry.item.get("areas")
    if kind == PARTIES:
        entry.error("areas", "areas are for candidate contests; party contests use dapils")
        return None
    if not isinstance(raw, str) or not raw.strip():
        entry.error("areas", "areas must name a CSV file (area,area_name,regions,number,name)")
        return None
    return _companion(entry.base, raw.strip(), entry.at("areas"), entry.label, entry.errors)


def _kind(entry: _Entry, code: Any) -> str:
    default = PARTIES if code in PARTY_CONTESTS else CANDIDATES
    kind = entry.item.get("kind", default)
    if kind not in KINDS:
        entry.error("kind", f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        return default
    return kind


def _required(entry: _Entry, kind: str) -> list[str]:
    raw = entry.item.get("required") or []
    if not isinstance(raw, list):
        entry.error("required", "required must be a list of sections")
        return []
    out: list[str] = []
    for section in raw:
        if section not in SECTIONS:
            entry.error(
                "required",
                f"required section {section!r} is not one of {', '.join(SECTIONS)}",
            )
        elif section == "candidates" and kind != PARTIES:
            entry.error("required", "required section 'candidates' is for party contests only")
        elif section not in out:
            out.append(section)
    return out


def _lists(entry: _Entry) -> ContestLists:
    """Where a party contest's dapils and candidate lists come from (read after validation)."""
    lists = ContestLists()
    item = entry.item
    raw = item.get("dapils")
    if isinstance(raw, str):
        lists.dapil_files.append(
            _companion(entry.base, raw, entry.at("dapils"), entry.label, entry.errors)
        )
    elif raw is not None and not (
        isinstance(raw, list) and isinstance(_value_node(entry.node, "dapils"), yaml.SequenceNode)
    ):
        entry.error("dapils", "dapils must be a list or a CSV file name")
    files = item.get("candidates") if "parties" in item else None
    if isinstance(files, str):
        lists.candidate_files.append(
            _companion(entry.base, files, entry.at("candidates"), entry.label, entry.errors)
        )
    elif files is not None:
        entry.error(
            "candidates",
            "candidates of a party contest must be a CSV file name (or lists inside each dapil)",
        )
    return lists


def _companion(base: Path, name: str, line: int, label: str, errors: list[tuple[int, str]]) -> Path:
    path = base / name
    if not path.is_file():
        errors.append((line, f"{label}: file {name} not found next to the election file"))
    return path


def _regions(raw: Any, line: int, label: str, errors: list[tuple[int, str]]) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.append((line, f"{label}: regions must be a list of region code prefixes"))
        return []
    prefixes, problems = region_prefixes(raw)
    errors.extend((line, f"{label}: {problem}") for problem in problems)
    return prefixes


def _candidates(
    raw: Any,
    node: yaml.Node | None,
    line: int,
    label: str,
    key: str,
    errors: list[tuple[int, str]],
) -> list[tuple[int, str]]:
    if not isinstance(raw, list) or not raw or not isinstance(node, yaml.SequenceNode):
        errors.append((_line(node, line), f"{label}: {key} must be a non-empty list"))
        return []
    out: list[tuple[int, str]] = []
    numbers: dict[int, int] = {}
    for item, item_node in zip(raw, node.value, strict=True):
        at = item_node.start_mark.line + 1
        if not isinstance(item, dict):
            errors.append((at, f"{label}: candidate must be {{number: N, name: …}}"))
            continue
        number = ballot_number(item.get("number"))
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


def _upsert(session: Session, contest: _Contest, report: LoadReport) -> str:
    """Insert or update the contest and its ballot list: "inserted", "updated" or "unchanged"."""
    report.count_kind(
        "parties" if contest.kind == PARTIES else "candidates", len(contest.candidates)
    )
    existing = session.get(Contest, contest.code)
    if existing is None:
        session.add(
            Contest(
                code=contest.code,
                name=contest.name,
                position=contest.position,
                region_scope=contest.regions,
                kind=contest.kind,
                required_sections=contest.required,
                candidates=[
                    Candidate(ballot_number=n, name=name) for n, name in contest.candidates
                ],
            )
        )
        session.flush()
        return "inserted"
    same = (
        existing.name == contest.name
        and existing.position == contest.position
        and list(existing.region_scope or []) == contest.regions
        and existing.kind == contest.kind
        and list(existing.required_sections or []) == contest.required
        and [(c.ballot_number, c.name) for c in existing.candidates] == contest.candidates
    )
    if same:
        return "unchanged"
    existing.name = contest.name
    existing.position = contest.position
    existing.region_scope = contest.regions
    existing.kind = contest.kind
    existing.required_sections = contest.required
    # Delete the old list before inserting the new: (contest, ballot number) is unique.
    existing.candidates.clear()
    session.flush()
    existing.candidates.extend(
        Candidate(ballot_number=n, name=name) for n, name in contest.candidates
    )
    session.flush()
    return "updated"
