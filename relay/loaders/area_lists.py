"""Areas of a regional candidate contest and each area's own candidate list, for `election load`.

DPD candidates differ per province, governor pairs per province, regent pairs per regency and
mayor pairs per city: candidate 01 in Aceh is not candidate 01 in Bali. The election file names
a CSV file for such a contest (`areas: dpd_areas.csv`), one row per candidate, as KPU publishes
the lists (DCT DPD per province, pasangan calon per region):

    area,area_name,regions,number,name
    35,Jawa Timur,35,1,Nama Calon

`regions` are region code prefixes (2, 4, 6 or 10 digits) separated by spaces or `|`; every
row of an area must repeat the same area name and regions. An optional `contest` column must
name the contest. Areas are stored as the contest's `Dapil` rows, candidates in
`area_candidates`; areas may not overlap and must lie inside the contest's regions (when the
file gives them; otherwise the contest is held exactly in its areas). A bad row is reported
by file and line and skipped; an area with a refused region line refuses its rows. What the
file says is the truth for the contest: areas and candidates absent from it are removed on a
re-run, except in areas with a refused row (a typo must not delete a candidate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, delete, select

from relay.loaders import CsvSource, LoadReport, check_name
from relay.loaders.party_lists import (
    DAPIL_CODE,
    MAX_NUMBER,
    DapilEntry,
    ballot_number,
    check_dapils,
    region_prefixes,
    store_dapils,
)
from relay.models import AreaCandidate

COLUMNS = ("area", "area_name", "regions", "number", "name")
_REGION_SEPARATORS = re.compile(r"[\s|]+")

_candidates = AreaCandidate.__table__


@dataclass
class AreaRow:
    """One candidate row of an area file."""

    line: int
    area: str
    number: int | None
    name: str


@dataclass
class AreaLists:
    """What an area file says about one regional contest, read and checked row by row."""

    areas: list[DapilEntry] = field(default_factory=list)  # first good row of each area
    rows: list[AreaRow] = field(default_factory=list)  # candidate rows with no problem
    refused_areas: dict[str, int] = field(default_factory=dict)  # area refused → its line
    partial: set[str] = field(default_factory=set)  # areas with a refused row
    accepted: list[DapilEntry] = field(default_factory=list)  # after check_areas

    def scope(self) -> list[str]:
        """The contest's regions when the file gives none: the accepted areas' prefixes."""
        return sorted({p for area in self.accepted for p in area.regions})


def read_area_file(path: Path, contest: str, label: str, report: LoadReport) -> AreaLists:
    """Read every row of `path`; each refused row is reported as `file: label: reason`."""
    where = f"{path.name}: "
    lists = AreaLists()
    first: dict[str, DapilEntry] = {}
    numbers: dict[tuple[str, int], int] = {}
    with CsvSource(path, COLUMNS, ("contest",)) as source:
        for line, fields, problem in source.rows():
            if problem is not None:
                report.add_error(line, f"{where}{problem}")
                continue
            area, area_name, regions, number_raw, name, row_contest = (f.strip() for f in fields)
            problems = _row_problems(
                area, area_name, regions, number_raw, name, row_contest, contest, first
            )
            number = ballot_number(number_raw)
            if not problems and number is not None:
                earlier = numbers.get((area, number))
                if earlier is not None:
                    problems.append(
                        f"area {area}: duplicate candidate number {number} "
                        f"(first on line {earlier})"
                    )
            if problems:
                for reason in problems:
                    report.add_error(line, f"{where}{label}: {reason}")
                lists.partial.add(area)
                continue
            if area not in first:
                prefixes, _ = region_prefixes(_REGION_SEPARATORS.split(regions))
                first[area] = DapilEntry(line, where, area, area_name, prefixes)
                lists.areas.append(first[area])
            numbers[(area, number)] = line  # type: ignore[index]
            lists.rows.append(AreaRow(line, area, number, name))
    return lists


def _row_problems(
    area: str,
    area_name: str,
    regions: str,
    number_raw: str,
    name: str,
    row_contest: str,
    contest: str,
    first: dict[str, DapilEntry],
) -> list[str]:
    problems: list[str] = []
    if row_contest and row_contest != contest:
        problems.append(f"row for contest {row_contest!r} in this contest's file")
    if not DAPIL_CODE.fullmatch(area):
        problems.append(f"area code must be 1-20 letters, digits, '.', '_' or '-', got {area!r}")
    if (reason := check_name(area_name, 200)) is not None:
        problems.append(f"area {area}: area_name: {reason}")
    parts = [p for p in _REGION_SEPARATORS.split(regions) if p]
    prefixes, bad = region_prefixes(parts)
    if not parts:
        problems.append(f"area {area}: regions must list region code prefixes")
    problems.extend(f"area {area}: {problem}" for problem in bad)
    known = first.get(area)
    if known is not None and not bad and (prefixes, area_name) != (known.regions, known.name):
        problems.append(
            f"area {area}: area_name and regions must be those of line {known.line} "
            f"({known.name}; {' '.join(known.regions)})"
        )
    number = ballot_number(number_raw)
    if number is None or number > MAX_NUMBER:
        problems.append(
            f"area {area}: candidate number must be a whole number 1..{MAX_NUMBER}, "
            f"got {number_raw!r}"
        )
    if (reason := check_name(name, 300)) is not None:
        problems.append(f"area {area}: candidate {number_raw}: {reason}")
    return problems


def check_areas(
    lists: AreaLists, contest_regions: list[str], label: str, report: LoadReport
) -> None:
    """Keep the areas that are inside the contest's regions and overlap no other area; the
    rows of a refused area are refused with it (each reported)."""
    lists.accepted = check_dapils(lists.areas, contest_regions, label, report)
    accepted = {a.code for a in lists.accepted}
    for area in lists.areas:
        if area.code not in accepted:
            lists.refused_areas.setdefault(area.code, area.line)
            lists.partial.add(area.code)
    kept: list[AreaRow] = []
    for row in lists.rows:
        if row.area in accepted:
            kept.append(row)
        elif row.line != lists.refused_areas[row.area]:  # that line has the area's reasons
            report.add_error(
                row.line,
                f"{lists.areas[0].where}{label}: area {row.area} was refused "
                f"(line {lists.refused_areas[row.area]})",
            )
    lists.rows = kept


def store_areas(
    conn: Connection, contest: str, line: int, lists: AreaLists, report: LoadReport
) -> bool:
    """Make the contest's areas and their lists those of the file; True when anything changed."""
    refused = set(lists.refused_areas) | lists.partial
    changed = store_dapils(conn, contest, line, lists.accepted, refused, report, kind="areas")
    existing = {
        (area, number): name
        for area, number, name in conn.execute(
            select(_candidates.c.area_code, _candidates.c.ballot_number, _candidates.c.name).where(
                _candidates.c.contest_code == contest
            )
        )
    }
    wanted = {(row.area, row.number): row.name for row in lists.rows}
    stale = [key for key in existing if key not in wanted and key[0] not in lists.partial]
    for area, number in stale:
        conn.execute(
            delete(_candidates).where(
                _candidates.c.contest_code == contest,
                _candidates.c.area_code == area,
                _candidates.c.ballot_number == number,
            )
        )
    for (area, number), name in wanted.items():
        if existing.get((area, number)) == name:
            continue
        if (area, number) in existing:
            conn.execute(
                _candidates.update()
                .where(
                    _candidates.c.contest_code == contest,
                    _candidates.c.area_code == area,
                    _candidates.c.ballot_number == number,
                )
                .values(name=name)
            )
        else:
            conn.execute(
                _candidates.insert().values(
                    contest_code=contest, area_code=area, ballot_number=number, name=name
                )
            )
        changed = True
    if stale:
        report.add_note(
            line, f"contest {contest}: {len(stale)} area candidates no longer in the file removed"
        )
    report.count_kind("area candidates", len(lists.rows))
    return changed or bool(stale)


def clear_areas(conn: Connection, contest: str) -> bool:
    """A contest without an area file has no area lists (one list for the whole contest)."""
    return bool(
        conn.execute(delete(_candidates).where(_candidates.c.contest_code == contest)).rowcount
    )


__all__ = ["COLUMNS", "AreaLists", "AreaRow", "check_areas", "clear_areas", "read_area_file",
           "store_areas"]
