"""`roster import`: officers from `phone,name,role,tps_code,language`, streamed in batches.

- phone: any common Indonesian form (08…, +628…, 628…), stored as E.164; one officer per phone,
  and a phone met again later in the file replaces the earlier row (with a note).
- role `kpps`: `tps_code` is the 13-digit TPS the officer reports.
- role `pps`: `tps_code` is the 10-digit village code, or any 13-digit TPS code of the village;
  the officer may report every TPS of that village (stored: village_code, tps_code NULL).
- language `id` or `en`; empty means `id`.
TPS and villages must already be loaded (`regions load`); they are checked with one query per
batch, never per row.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

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
from relay.models import Officer, Region, Tps
from relay.phone import InvalidPhone, to_e164

COLUMNS = ("phone", "name", "role", "tps_code")
OPTIONAL = ("language",)
LANGUAGES = ("id", "en")
FIELDS = ("name", "role", "tps_code", "village_code", "language")

_officers = Officer.__table__
_tps = Tps.__table__
_regions = Region.__table__


def import_roster(
    path: str | os.PathLike[str],
    url: str | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> LoadReport:
    """Upsert every good row by phone; each batch commits, so a re-run resumes safely."""
    report = LoadReport()
    engine = get_engine(url)
    now = datetime.now(UTC)
    with CsvSource(path, COLUMNS, OPTIONAL) as source, engine.connect() as conn:
        seen = SeenKeys(conn)
        conn.commit()
        batch: list[tuple[int, dict[str, Any]]] = []
        try:
            for line, fields, problem in source.rows():
                report.rows += 1
                row = _parse(fields) if problem is None else problem
                if isinstance(row, str):
                    report.add_error(line, row)
                    continue
                batch.append((line, row))
                if len(batch) >= batch_size:
                    _flush(conn, seen, batch, report, now)
                    batch = []
                    if progress:
                        progress(report.rows, source.fraction)
            _flush(conn, seen, batch, report, now)
            if progress:
                progress(report.rows, 1.0)
        finally:
            conn.rollback()
            seen.drop()
            conn.commit()
    return report.finish()


def _parse(fields: list[str]) -> dict[str, Any] | str:
    """The row with its code checked for shape (existence is checked per batch), or why not."""
    raw_phone, name, raw_role, raw_code, raw_language = fields
    try:
        phone = to_e164(raw_phone)
    except InvalidPhone:
        return f"phone {raw_phone!r} is not a phone number" if raw_phone else "phone missing"
    if (reason := check_name(name, 200)) is not None:
        return reason
    role = raw_role.lower()
    if role not in ("kpps", "pps"):
        return f"role {raw_role!r} must be kpps or pps" if raw_role else "role missing (kpps/pps)"
    code = normalise_code(raw_code)
    if not is_digits(code) or len(code) not in ((13,) if role == "kpps" else (10, 13)):
        if role == "kpps":
            return f"tps_code {raw_code!r} must be a 13-digit TPS code for a kpps officer"
        return (
            f"tps_code {raw_code!r} must be a 10-digit village code or a 13-digit TPS code "
            "for a pps officer"
        )
    language = raw_language.lower() or "id"
    if language not in LANGUAGES:
        return f"language {raw_language!r} must be id or en"
    return {"phone": phone, "name": name, "role": role, "code": code, "language": language}


def _flush(
    conn: Connection,
    seen: SeenKeys,
    batch: list[tuple[int, dict[str, Any]]],
    report: LoadReport,
    now: datetime,
) -> None:
    if not batch:
        return
    tps = set(
        fetch_existing(
            conn, _tps, "code", (), {r["code"] for _, r in batch if len(r["code"]) == 13}
        )
    )
    villages = set(
        fetch_existing(
            conn,
            _regions,
            "code",
            (),
            {r["code"] for _, r in batch if len(r["code"]) == 10},
            _regions.c.level == "village",
        )
    )
    # Later rows win: keep the last good row per phone, in file order.
    rows: dict[str, tuple[int, dict[str, Any]]] = {}
    for line, row in batch:
        code = row["code"]
        if len(code) == 13 and code not in tps:
            report.add_error(line, f"TPS {code} is not loaded (run regions load first)")
            continue
        if len(code) == 10 and code not in villages:
            report.add_error(line, f"village {code} is not loaded (run regions load first)")
            continue
        row["tps_code"] = code if row["role"] == "kpps" else None
        row["village_code"] = code[:10]
        if (earlier := rows.pop(row["phone"], None)) is not None:
            report.add_note(
                line, f"phone {row['phone']} also on line {earlier[0]}: this later row replaces it"
            )
        rows[row["phone"]] = (line, row)
    earlier_batches = seen.lines(rows)
    existing = fetch_existing(conn, _officers, "phone", FIELDS, rows)
    write = []
    for phone, (line, row) in rows.items():
        values = tuple(row[f] for f in FIELDS)
        old = existing.get(phone)
        if phone in earlier_batches:
            # Counted once already, when its earlier row was loaded.
            report.add_note(
                line,
                f"phone {phone} also on line {earlier_batches[phone]}: this later row replaces it",
            )
        else:
            report.count_kind(row["role"])
            if old is None:
                report.inserted += 1
            elif old == values:
                report.unchanged += 1
            else:
                report.updated += 1
        if old != values:
            write.append(
                {
                    "phone": phone,
                    **dict(zip(FIELDS, values, strict=True)),
                    "reachable": True,
                    "created_at": now,
                }
            )
    upsert(conn, _officers, "phone", FIELDS, write)
    seen.add(
        [
            {"k": phone, "line": line}
            for phone, (line, _) in rows.items()
            if phone not in earlier_batches
        ]
    )
    conn.commit()
