"""`regions load`: the region hierarchy and the TPS, from one CSV streamed in batches.

`code,name,parent,level,registered_voters` — a row's kind follows from its code length:
2 province, 4 regency/city, 6 district, 10 village, 13 TPS (village code + TPS number).
Codes may carry dots or dashes (`35.76.01.1001`). `parent` is redundant (the code prefix) and
may be left empty; when given it must match. `level` may be empty; when given it must match the
code (English or Indonesian names). `registered_voters` is required on TPS rows (1..1000) and
ignored on region rows. A parent must be in the database or on an earlier line.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Connection, select

from relay.db import get_engine
from relay.loaders import (
    BATCH_SIZE,
    CsvSource,
    LoadReport,
    SeenKeys,
    check_name,
    fetch_existing,
    is_digits,
    normalise_code,
    upsert,
)
from relay.loaders.progress import Progress
from relay.models import Region, Tps

COLUMNS = ("code", "name")
OPTIONAL = ("parent", "level", "registered_voters")
MAX_VOTERS = 1000

KIND_BY_LENGTH = {2: "province", 4: "regency", 6: "district", 10: "village", 13: "tps"}
PARENT_LENGTH = {4: 2, 6: 4, 10: 6, 13: 10}
LEVEL_NAMES = {
    "province": "province",
    "provinsi": "province",
    "prov": "province",
    "regency": "regency",
    "city": "regency",
    "kabupaten": "regency",
    "kota": "regency",
    "kab": "regency",
    "kab/kota": "regency",
    "kabupaten/kota": "regency",
    "district": "district",
    "kecamatan": "district",
    "kec": "district",
    "village": "village",
    "desa": "village",
    "kelurahan": "village",
    "kel": "village",
    "desa/kelurahan": "village",
    "tps": "tps",
}

_regions = Region.__table__
_tps = Tps.__table__


def load_regions(
    path: str | os.PathLike[str],
    url: str | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> LoadReport:
    """Upsert every good row of the file; each batch commits, so a re-run resumes safely."""
    report = LoadReport()
    engine = get_engine(url)
    with CsvSource(path, COLUMNS, OPTIONAL) as source, engine.connect() as conn:
        # Region codes (not TPS) known to exist: ~91k nationally, fine to hold.
        known: set[str] = set(conn.scalars(select(_regions.c.code)))
        seen = SeenKeys(conn)
        conn.commit()
        batch = _Batch()
        try:
            for line, fields, problem in source.rows():
                report.rows += 1
                row = _parse(fields, known) if problem is None else problem
                if isinstance(row, str):
                    report.add_error(line, row)
                    continue
                code = row["code"]
                first = batch.lines.get(code)
                if first is not None:
                    report.add_error(line, f"duplicate code {code} (first on line {first})")
                    continue
                batch.add(line, row)
                if row["kind"] != "tps":
                    known.add(code)
                if len(batch.lines) >= batch_size:
                    _flush(conn, seen, batch, report)
                    batch = _Batch()
                    if progress:
                        progress(report.rows, source.fraction)
            _flush(conn, seen, batch, report)
            if progress:
                progress(report.rows, 1.0)
        finally:
            conn.rollback()
            seen.drop()
            conn.commit()
    return report.finish()


class _Batch:
    def __init__(self) -> None:
        self.lines: dict[str, int] = {}
        self.regions: list[dict[str, Any]] = []
        self.tps: list[dict[str, Any]] = []

    def add(self, line: int, row: dict[str, Any]) -> None:
        self.lines[row["code"]] = line
        (self.tps if row["kind"] == "tps" else self.regions).append(row)


def _parse(fields: list[str], known: set[str]) -> dict[str, Any] | str:
    """The row ready to store, or why it cannot be."""
    raw_code, name, raw_parent, raw_level, raw_voters = fields
    code = normalise_code(raw_code)
    kind = KIND_BY_LENGTH.get(len(code)) if is_digits(code) else None
    if kind is None:
        return (
            f"code {raw_code!r} must have 2, 4, 6, 10 or 13 digits "
            "(province, regency, district, village, TPS)"
        )
    if (reason := check_name(name, 200)) is not None:
        return reason
    if raw_level:
        level = LEVEL_NAMES.get(raw_level.lower())
        if level != kind:
            return f"level {raw_level!r} does not match a {len(code)}-digit code ({kind})"
    parent = normalise_code(raw_parent)
    if kind == "province":
        if parent:
            return f"parent {raw_parent!r} given for a province (provinces have none)"
    else:
        expected = code[: PARENT_LENGTH[len(code)]]
        if parent and parent != expected:
            return f"parent {raw_parent!r} is not the code's prefix {expected}"
        parent = expected
        if parent not in known:
            return f"unknown parent {parent} (not in the database nor earlier in the file)"
    if kind != "tps":
        return {
            "kind": kind,
            "code": code,
            "name": name,
            "level": kind,
            "parent_code": parent or None,
        }
    if not raw_voters:
        return "registered_voters missing (required for a TPS)"
    try:
        voters = int(raw_voters)
    except ValueError:
        return f"registered_voters {raw_voters!r} is not a whole number"
    if not 1 <= voters <= MAX_VOTERS:
        return f"registered_voters {voters} outside 1..{MAX_VOTERS}"
    return {
        "kind": kind,
        "code": code,
        "name": name,
        "village_code": parent,
        "registered_voters": voters,
    }


def _flush(conn: Connection, seen: SeenKeys, batch: _Batch, report: LoadReport) -> None:
    """Drop codes loaded by an earlier batch, count, upsert what is new or changed, commit."""
    if not batch.lines:
        return
    earlier = seen.lines(batch.lines)
    for code, first in earlier.items():
        report.add_error(batch.lines[code], f"duplicate code {code} (first on line {first})")
    regions = [r for r in batch.regions if r["code"] not in earlier]
    tps = [r for r in batch.tps if r["code"] not in earlier]
    region_cols = ("name", "level", "parent_code")
    tps_cols = ("name", "village_code", "registered_voters")
    upsert(
        conn, _regions, "code", region_cols, _changed(conn, _regions, region_cols, regions, report)
    )
    upsert(conn, _tps, "code", tps_cols, _changed(conn, _tps, tps_cols, tps, report))
    seen.add(
        [{"k": code, "line": line} for code, line in batch.lines.items() if code not in earlier]
    )
    conn.commit()


def _changed(
    conn: Connection,
    table: Any,
    cols: tuple[str, ...],
    rows: list[dict[str, Any]],
    report: LoadReport,
) -> list[dict[str, Any]]:
    """Count rows as inserted/updated/unchanged; return the ones to write, as table rows."""
    existing = fetch_existing(conn, table, "code", cols, (r["code"] for r in rows))
    out = []
    for row in rows:
        report.count_kind(row["kind"])
        values = tuple(row[c] for c in cols)
        old = existing.get(row["code"])
        if old == values:
            report.unchanged += 1
            continue
        if old is None:
            report.inserted += 1
        else:
            report.updated += 1
        out.append({"code": row["code"], **dict(zip(cols, values, strict=True))})
    return out
