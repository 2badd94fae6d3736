"""Electoral districts (dapil) and each party's ordered candidate list per dapil, for the party
contests (DPR, DPRD) of `election load`.

Both come inline from the election YAML or from companion CSV files for national size:
- dapils: `code,name,regions` (regions: region code prefixes separated by spaces or `|`);
- candidates: `dapil,party,number,name`.
An optional `contest` column must then name the contest the file is attached to. Candidate rows
are streamed and upserted in batches (a national DPRD file has hundreds of thousands); a bad row
is reported by file and line and skipped, the good ones load. What the file says is the truth
for the contest: dapils and candidates absent from it are removed on a re-run, except those whose
row was refused (a typo must not delete a candidate).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, String, and_, cast, delete, select

from relay.loaders import (
    BATCH_SIZE,
    CsvSource,
    LoadReport,
    SeenKeys,
    _insert_for,
    check_name,
    insert_rows,
    is_digits,
    normalise_code,
)
from relay.models import Dapil, PartyCandidate

DAPIL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}")
PREFIX_LENGTHS = (2, 4, 6, 10)
_REGION_SEPARATORS = re.compile(r"[\s|]+")
MAX_NUMBER = 999  # party and candidate numbers

_dapils = Dapil.__table__
_candidates = PartyCandidate.__table__


@dataclass
class DapilEntry:
    line: int
    where: str  # "" for the election file, else the companion file's name and ": "
    code: str
    name: str
    regions: list[str]


@dataclass
class CandidateRow:
    line: int
    where: str
    dapil: str
    party: int | None
    number: int | None
    name: str
    problems: list[str] = field(default_factory=list)
    broken: bool = False  # not a row at all (not CSV): nothing else to check


@dataclass
class ContestLists:
    """What the file says about one party contest's dapils and candidate lists."""

    dapils: list[DapilEntry] = field(default_factory=list)
    inline_candidates: list[CandidateRow] = field(default_factory=list)
    dapil_files: list[Path] = field(default_factory=list)
    candidate_files: list[Path] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # dapil code → its refused line

    @property
    def given(self) -> bool:
        """The file gives dapils or lists (else the contest has one nationwide party list)."""
        return bool(
            self.dapils
            or self.refused
            or self.dapil_files
            or self.candidate_files
            or self.inline_candidates
        )


def ballot_number(raw: Any) -> int | None:
    """1, or "01" (YAML reads 08 and 09 as text, not numbers)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str) and is_digits(raw.strip()):
        raw = int(raw.strip())
    return raw if isinstance(raw, int) and raw >= 1 else None


def region_prefixes(raw: Iterable[Any]) -> tuple[list[str], list[str]]:
    """(good prefixes, problems) for region codes written as in the regions file."""
    good: list[str] = []
    problems: list[str] = []
    for value in raw:
        prefix = normalise_code(str(value)) if isinstance(value, str | int) else ""
        if not is_digits(prefix) or len(prefix) not in PREFIX_LENGTHS:
            problems.append(f"region {value!r} must be a 2, 4, 6 or 10-digit region code")
        else:
            good.append(prefix)
    return good, problems


# --------------------------------------------------------------------------- inline YAML


def inline_dapils(
    raw: list[Any], node: yaml.SequenceNode, label: str, report: LoadReport, lists: ContestLists
) -> None:
    """Read `dapils:` written in the election file: each a mapping with code, name, regions
    and optionally `candidates: {party: [name, …]}` (list position = candidate number)."""
    for item, item_node in zip(raw, node.value, strict=True):
        line = item_node.start_mark.line + 1
        if not isinstance(item, dict):
            report.add_error(line, f"{label}: dapil must be a mapping with code, name, regions")
            continue
        regions = item.get("regions")
        entry = _dapil_entry(
            line,
            "",
            str(item.get("code") or ""),
            str(item.get("name") or ""),
            regions if isinstance(regions, list) else None,
            label,
            report,
        )
        if entry is None:
            lists.refused.setdefault(str(item.get("code") or "").strip(), line)
            continue
        lists.dapils.append(entry)
        _inline_candidates(
            item.get("candidates"), _child(item_node, "candidates"), entry, label, report, lists
        )


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    found = None
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == key:
                found = value_node
    return found


def _inline_candidates(
    raw: Any,
    node: yaml.Node | None,
    dapil: DapilEntry,
    label: str,
    report: LoadReport,
    lists: ContestLists,
) -> None:
    if raw is None:
        return
    if not isinstance(raw, dict) or not isinstance(node, yaml.MappingNode):
        report.add_error(
            _line(node, dapil.line),
            f"{label}: dapil {dapil.code}: candidates must map each party number to its list",
        )
        return
    if len(raw) != len(node.value):
        report.add_error(
            _line(node, dapil.line), f"{label}: dapil {dapil.code}: a party is listed twice"
        )
        return
    for (party_raw, names), (key_node, names_node) in zip(raw.items(), node.value, strict=True):
        party = ballot_number(party_raw)
        if not isinstance(names, list) or not isinstance(names_node, yaml.SequenceNode):
            report.add_error(
                _line(names_node, dapil.line),
                f"{label}: dapil {dapil.code}: party {key_node.value}: expected a list of names",
            )
            continue
        for position, (name, name_node) in enumerate(
            zip(names, names_node.value, strict=True), start=1
        ):
            number: int | None = position
            if isinstance(name, dict):
                number = ballot_number(name.get("number"))
                name = name.get("name")
            row = CandidateRow(
                name_node.start_mark.line + 1,
                "",
                dapil.code,
                party,
                number,
                name.strip() if isinstance(name, str) else "",
            )
            if party is None:
                row.problems.append(f"party must be a whole number ≥ 1, got {key_node.value!r}")
            lists.inline_candidates.append(row)


def _line(node: yaml.Node | None, fallback: int) -> int:
    return node.start_mark.line + 1 if node is not None else fallback


def _dapil_entry(
    line: int,
    where: str,
    code: str,
    name: str,
    regions: list[Any] | None,
    label: str,
    report: LoadReport,
) -> DapilEntry | None:
    code, name = code.strip(), name.strip()
    problems = []
    if not DAPIL_CODE.fullmatch(code):
        problems.append(f"dapil code must be 1-20 letters, digits, '.', '_' or '-', got {code!r}")
    if (reason := check_name(name, 200)) is not None:
        problems.append(f"dapil {code}: {reason}")
    prefixes: list[str] = []
    if not regions:
        problems.append(f"dapil {code}: regions must be a non-empty list of region codes")
    else:
        prefixes, bad = region_prefixes(regions)
        problems.extend(f"dapil {code}: {p}" for p in bad)
    for problem in problems:
        report.add_error(line, f"{where}{label}: {problem}")
    return None if problems else DapilEntry(line, where, code, name, prefixes)


# --------------------------------------------------------------------------- companion CSV


def read_dapil_file(
    path: Path, contest: str, label: str, report: LoadReport, lists: ContestLists
) -> None:
    """Add the dapils of a `code,name,regions[,contest]` file (small: one row per dapil)."""
    where = f"{path.name}: "
    with CsvSource(path, ("code", "name", "regions"), ("contest",)) as source:
        for line, fields, problem in source.rows():
            if problem is not None:
                report.add_error(line, f"{where}{problem}")
                continue
            code, name, regions, row_contest = fields
            if row_contest and row_contest != contest:
                report.add_error(
                    line, f"{where}{label}: row for contest {row_contest!r} in this contest's file"
                )
                continue
            parts = [p for p in _REGION_SEPARATORS.split(regions) if p]
            entry = _dapil_entry(line, where, code, name, parts, label, report)
            if entry is None:
                lists.refused.setdefault(code.strip(), line)
            else:
                lists.dapils.append(entry)


def _candidate_file_rows(path: Path, contest: str) -> Iterator[CandidateRow]:
    where = f"{path.name}: "
    with CsvSource(path, ("dapil", "party", "number", "name"), ("contest",)) as source:
        for line, fields, problem in source.rows():
            if problem is not None:
                yield CandidateRow(line, where, "", None, None, "", [problem], broken=True)
                continue
            dapil, party_raw, number_raw, name, row_contest = fields
            row = CandidateRow(
                line, where, dapil, ballot_number(party_raw), ballot_number(number_raw), name
            )
            if row_contest and row_contest != contest:
                row.problems.append(f"row for contest {row_contest!r} in this contest's file")
            if row.party is None:
                row.problems.append(f"party must be a whole number ≥ 1, got {party_raw!r}")
            yield row


# --------------------------------------------------------------------------- checks and storage


def check_dapils(
    dapils: list[DapilEntry], contest_regions: list[str], label: str, report: LoadReport
) -> list[DapilEntry]:
    """The dapils that are distinct, inside the contest's regions and do not overlap each other
    (every TPS must fall in exactly one dapil); each refused one is reported."""
    good: list[DapilEntry] = []
    codes: dict[str, int] = {}
    owner: dict[str, DapilEntry] = {}  # region prefix → the dapil holding it
    for dapil in dapils:
        problems = []
        if dapil.code in codes:
            problems.append(
                f"dapil {dapil.code}: duplicate code (first on line {codes[dapil.code]})"
            )
        for prefix in dapil.regions:
            if contest_regions and not any(prefix.startswith(r) for r in contest_regions):
                problems.append(
                    f"dapil {dapil.code}: region {prefix} is outside the contest's regions "
                    f"({', '.join(contest_regions)})"
                )
            other = _overlapping(prefix, owner)
            if other is not None:
                region, holder = other
                same = holder is dapil
                problems.append(
                    f"dapil {dapil.code}: region {prefix} overlaps "
                    + (
                        f"its own region {region}"
                        if same
                        else f"region {region} of dapil {holder.code} (line {holder.line})"
                    )
                )
            owner[prefix] = dapil
        if problems:
            for problem in problems:
                report.add_error(dapil.line, f"{dapil.where}{label}: {problem}")
            for prefix in dapil.regions:
                if owner.get(prefix) is dapil:
                    del owner[prefix]
            continue
        codes[dapil.code] = dapil.line
        good.append(dapil)
    return good


def _overlapping(prefix: str, owner: dict[str, DapilEntry]) -> tuple[str, DapilEntry] | None:
    """A region already held that contains `prefix` or lies inside it."""
    for length in PREFIX_LENGTHS:
        if length <= len(prefix) and prefix[:length] in owner:
            return prefix[:length], owner[prefix[:length]]
    for region, holder in owner.items():
        if region.startswith(prefix):
            return region, holder
    return None


def store_dapils(
    conn: Connection,
    contest: str,
    line: int,
    dapils: list[DapilEntry],
    refused: set[str],
    report: LoadReport,
    kind: str = "dapils",
) -> bool:
    """Make the contest's dapils those given (a refused one keeps its stored version until
    its row is fixed); True when anything changed."""
    existing = {
        row.code: (row.name, list(row.regions or []))
        for row in conn.execute(
            select(_dapils.c.code, _dapils.c.name, _dapils.c.regions).where(
                _dapils.c.contest_code == contest
            )
        )
    }
    wanted = {d.code: (d.name, d.regions) for d in dapils}
    changed = [
        {"contest_code": contest, "code": code, "name": name, "regions": regions}
        for code, (name, regions) in wanted.items()
        if existing.get(code) != (name, regions)
    ]
    gone = [code for code in existing if code not in wanted and code not in refused]
    if changed:  # few rows, with a JSON column: a plain executemany (no array unnesting)
        stmt = _insert_for(conn)(_dapils)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_dapils.c.contest_code, _dapils.c.code],
            set_={"name": stmt.excluded.name, "regions": stmt.excluded.regions},
        )
        conn.execute(stmt, changed)
    if gone:
        conn.execute(
            delete(_dapils).where(_dapils.c.contest_code == contest, _dapils.c.code.in_(gone))
        )
        conn.execute(
            delete(_candidates).where(
                _candidates.c.contest_code == contest, _candidates.c.dapil_code.in_(gone)
            )
        )
        report.add_note(
            line,
            f"contest {contest}: {kind} no longer in the file removed: " + ", ".join(sorted(gone)),
        )
    report.count_kind(kind, len(dapils))
    return bool(changed or gone)


@dataclass
class _Candidates:
    """Streams candidate rows into the database for one contest."""

    conn: Connection
    contest: str
    label: str
    parties: set[int]
    dapils: dict[str, int]  # accepted dapil code → its line
    refused_dapils: dict[str, int]
    report: LoadReport
    batch_size: int = BATCH_SIZE
    changed: int = 0
    accepted: int = 0
    _batch: list[CandidateRow] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.seen = SeenKeys(self.conn)

    def add(self, row: CandidateRow) -> None:
        self._batch.append(row)
        if len(self._batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        keyed = [(r, _key(r)) for r in batch]
        earlier = self.seen.lines(k for _, k in keyed if k is not None)
        in_batch: dict[str, int] = {}
        good: dict[str, CandidateRow] = {}
        for row, key in keyed:
            self._check(row)
            if key is not None:
                first = earlier.get(key) or in_batch.get(key)
                if first is not None:
                    row.problems.append(
                        f"duplicate candidate number {row.number} for party {row.party} in dapil "
                        f"{row.dapil} (first on line {first})"
                    )
                    key = None
                else:
                    in_batch[key] = row.line
            if row.problems:
                for problem in row.problems:
                    self.report.add_error(row.line, f"{row.where}{self.label}: {problem}")
            elif key is not None:
                good[key] = row
        self.seen.add([{"k": k, "line": line} for k, line in in_batch.items()])
        self._store(list(good.values()))

    def _check(self, row: CandidateRow) -> None:
        if row.broken:
            return
        if row.dapil in self.refused_dapils:
            row.problems.append(
                f"dapil {row.dapil} was refused (line {self.refused_dapils[row.dapil]})"
            )
        elif row.dapil not in self.dapils and not row.problems:
            row.problems.append(f"unknown dapil {row.dapil!r}")
        if row.party is not None and row.party not in self.parties:
            row.problems.append(
                f"unknown party {row.party} (the contest's parties: "
                f"{', '.join(str(p) for p in sorted(self.parties))})"
            )
        if row.number is None or row.number > MAX_NUMBER:
            row.problems.append(f"candidate number must be a whole number 1..{MAX_NUMBER}")
        if row.party is not None and row.party > MAX_NUMBER:
            row.problems.append(f"party must be a whole number 1..{MAX_NUMBER}")
        if (reason := check_name(row.name, 300)) is not None:
            row.problems.append(f"candidate {row.party}.{row.number}: {reason}")

    def _store(self, rows: list[CandidateRow]) -> None:
        self.accepted += len(rows)
        if not rows:
            return
        pairs = {(r.dapil, r.party) for r in rows}
        existing = {
            (d, p, n): name
            for d, p, n, name in self.conn.execute(
                select(
                    _candidates.c.dapil_code,
                    _candidates.c.party_number,
                    _candidates.c.candidate_number,
                    _candidates.c.name,
                ).where(
                    _candidates.c.contest_code == self.contest,
                    _candidates.c.dapil_code.in_({d for d, _ in pairs}),
                )
            )
        }
        changed = [
            {
                "contest_code": self.contest,
                "dapil_code": r.dapil,
                "party_number": r.party,
                "candidate_number": r.number,
                "name": r.name,
            }
            for r in rows
            if existing.get((r.dapil, r.party, r.number)) != r.name
        ]
        self.changed += len(changed)
        insert_rows(
            self.conn,
            _candidates,
            changed,
            ("contest_code", "dapil_code", "party_number", "candidate_number"),
            ("name",),
        )

    def remove_absent(self) -> int:
        """Delete the contest's candidates this file did not mention (refused rows count as
        mentioned, so a typo does not delete a candidate)."""
        key = (
            _candidates.c.dapil_code
            + "|"
            + cast(_candidates.c.party_number, String)
            + "|"
            + cast(_candidates.c.candidate_number, String)
        )
        seen = SeenKeys.table
        # NOT EXISTS: an anti-join on loader_seen's key (NOT IN becomes a scan per row).
        mentioned = select(seen.c.k).where(seen.c.k == key).exists()
        result = self.conn.execute(
            delete(_candidates).where(and_(_candidates.c.contest_code == self.contest, ~mentioned))
        )
        self.seen.drop()
        return result.rowcount or 0


def _key(row: CandidateRow) -> str | None:
    """`dapil|party|number`, at most 20 + 2 + 6 characters (SeenKeys holds 48)."""
    if row.party is None or row.number is None or not row.dapil or row.broken:
        return None
    if row.party > MAX_NUMBER or row.number > MAX_NUMBER or len(row.dapil) > 20:
        return None
    return f"{row.dapil}|{row.party}|{row.number}"


def store_candidates(
    conn: Connection,
    contest: str,
    line: int,
    label: str,
    parties: set[int],
    lists: ContestLists,
    dapils: list[DapilEntry],
    report: LoadReport,
    batch_size: int = BATCH_SIZE,
) -> bool:
    """Stream the inline and file candidate rows of a contest into `party_candidates`;
    True when anything changed."""
    accepted = {d.code: d.line for d in dapils}
    refused = {d.code: d.line for d in lists.dapils if d.code not in accepted}
    refused.update((c, line) for c, line in lists.refused.items() if c not in accepted)
    sink = _Candidates(conn, contest, label, parties, accepted, refused, report, batch_size)
    for row in lists.inline_candidates:
        sink.add(row)
    for path in lists.candidate_files:
        for row in _candidate_file_rows(path, contest):
            sink.add(row)
    sink.flush()
    removed = sink.remove_absent()
    if removed:
        report.add_note(
            line, f"contest {contest}: {removed:,} candidates no longer in the file removed"
        )
    report.count_kind("list candidates", sink.accepted)
    return bool(sink.changed or removed)


def clear_lists(conn: Connection, contest: str) -> bool:
    """A contest without dapils in the file has none (one nationwide party list)."""
    dapils = conn.execute(delete(_dapils).where(_dapils.c.contest_code == contest)).rowcount
    candidates = conn.execute(
        delete(_candidates).where(_candidates.c.contest_code == contest)
    ).rowcount
    return bool(dapils or candidates)


__all__ = [
    "CandidateRow",
    "ContestLists",
    "DapilEntry",
    "ballot_number",
    "check_dapils",
    "clear_lists",
    "inline_dapils",
    "read_dapil_file",
    "region_prefixes",
    "store_candidates",
    "store_dapils",
]
