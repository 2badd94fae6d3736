"""Bulk loaders for the election file, the region/TPS file and the officer roster.

Each returns a `LoadReport`; rows it refuses are reported by file line and never stop the load.
This module holds what the CSV loaders share: streaming rows with their line numbers, code
normalisation, and dialect-specific bulk upserts (no ORM objects: a national roster has
millions of rows).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import (
    ARRAY,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    cast,
    func,
    select,
    text,
)

from relay.loaders.report import LoadError, LoadReport

__all__ = [
    "BATCH_SIZE",
    "CsvSource",
    "LoadError",
    "LoadReport",
    "SeenKeys",
    "check_name",
    "fetch_existing",
    "insert_rows",
    "is_digits",
    "normalise_code",
    "upsert",
]

BATCH_SIZE = 5_000
_SEPARATORS = str.maketrans("", "", ".- \t")


def normalise_code(raw: str) -> str:
    """`35.76.01.1001-001` → `3576011001001`: the dots and dashes people type are dropped."""
    return raw.strip().translate(_SEPARATORS)


def is_digits(code: str) -> bool:
    return code.isascii() and code.isdigit()


def check_name(name: str, limit: int) -> str | None:
    """The reason a name cannot be stored, or None."""
    if not name:
        return "empty name"
    if "\ufffd" in name:
        return 'name is not valid UTF-8 text (save the file as "CSV UTF-8")'
    if len(name) > limit:
        return f"name longer than {limit} characters"
    return None


class CsvSource:
    """Streams the data rows of a CSV file as (line number, fields in `columns` order).

    Lines starting with `#` are comments; blank lines are skipped; a header names the columns
    (any order, extra columns ignored). `;` is accepted as the delimiter when the header uses
    it, as spreadsheets in an Indonesian locale save. Line numbers count every physical line.
    """

    def __init__(
        self, path: str | os.PathLike[str], required: Sequence[str], optional: Sequence[str] = ()
    ) -> None:
        self.path = Path(path)
        self.columns = (*required, *optional)
        self._required = required
        self.line = 0
        self._chars = 0
        try:
            self._size = max(self.path.stat().st_size, 1)
            self._file: TextIO = self.path.open(encoding="utf-8-sig", errors="replace", newline="")
        except OSError as exc:
            raise LoadError(f"cannot read {path}: {exc.strerror or exc}") from exc

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._file.close()

    @property
    def fraction(self) -> float:
        """Share of the file read so far (characters over bytes: close enough for a bar)."""
        return min(self._chars / self._size, 1.0)

    def _lines(self) -> Iterator[str]:
        for line in self._file:
            self.line += 1
            self._chars += len(line)
            if not line.startswith("#"):
                yield line

    def rows(self) -> Iterator[tuple[int, list[str], str | None]]:
        """(line, fields, None) per data row, or (line, [], reason) for a row that is not CSV."""
        lines = self._lines()
        header_line = next((line for line in lines if line.strip()), None)
        if header_line is None:
            raise LoadError(f"{self.path}: no header line (expected {','.join(self.columns)})")
        delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
        header = [h.strip().lower() for h in next(csv.reader([header_line], delimiter=delimiter))]
        missing = [c for c in self._required if c not in header]
        if missing:
            raise LoadError(
                f"{self.path}: line {self.line}: header lacks "
                f"{', '.join(missing)} (expected {','.join(self.columns)})"
            )
        index = [header.index(c) if c in header else None for c in self.columns]
        width = len(header)
        reader = csv.reader(lines, delimiter=delimiter)
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield self.line, [], f"not CSV: {exc}"
                continue
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if len(fields) > width:
                yield (
                    self.line,
                    [],
                    (
                        f"{len(fields)} fields but the header has {width} "
                        "(quote names that contain the delimiter)"
                    ),
                )
                continue
            yield (
                self.line,
                [fields[i].strip() if i is not None and i < len(fields) else "" for i in index],
                None,
            )


def _insert_for(conn: Connection) -> Any:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the project supports these two
        raise LoadError(f"bulk loading is not supported on {dialect}")
    return insert


def insert_rows(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    key: str | Sequence[str] | None = None,
    update: Sequence[str] = (),
) -> None:
    """INSERT `rows` (dicts with the same columns); with `key` (a column or the columns of a
    composite key), ON CONFLICT (key) DO UPDATE the `update` columns (the rows must then have
    distinct keys).

    SQLite runs one prepared statement per row in the driver; PostgreSQL gets one statement
    per batch that unnests an array per column (row by row it is several times slower there).
    """
    if not rows:
        return
    insert = _insert_for(conn)
    names = list(rows[0])
    if conn.dialect.name == "postgresql":
        arrays = []
        for n in names:
            array_type = ARRAY(table.c[n].type)
            values = [row[n] for row in rows]
            arrays.append(cast(bindparam(f"{n}_values", values, type_=array_type), array_type))
        source = func.unnest(*arrays).table_valued(*names).render_derived()
        stmt = insert(table).from_select(names, select(*(source.c[n] for n in names)))
    else:
        stmt = insert(table).values({n: bindparam(n) for n in names})
    if key is not None:
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c[k] for k in ([key] if isinstance(key, str) else key)],
            set_={c: stmt.excluded[c] for c in update},
        )
    if conn.dialect.name == "postgresql":
        conn.execute(stmt)
    else:
        _driver_executemany(conn, table, stmt, names, rows)


def upsert(
    conn: Connection, table: Table, key: str, update: Sequence[str], rows: list[dict[str, Any]]
) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE the `update` columns, for every row."""
    insert_rows(conn, table, rows, key, update)


def _driver_executemany(
    conn: Connection, table: Table, stmt: Any, names: list[str], rows: list[dict[str, Any]]
) -> None:
    """Run `stmt` once per row, compiled once: going to the driver directly skips SQLAlchemy's
    per-row parameter handling, which costs more than SQLite's own work at a million rows."""
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect)
    if compiled.positional:
        names = list(compiled.positiontup)
    convert = [
        (n, _same_value_once(table.c[n].type.dialect_impl(dialect).bind_processor(dialect)))
        for n in names
    ]
    if compiled.positional:
        params: list[Any] = [tuple(p(row[n]) if p else row[n] for n, p in convert) for row in rows]
    else:
        params = [{n: p(row[n]) if p else row[n] for n, p in convert} for row in rows]
    conn.exec_driver_sql(compiled.string, params)


def _same_value_once(
    processor: Callable[[Any], Any] | None,
) -> Callable[[Any], Any] | None:
    """The processor, remembering its last answer: loads repeat values (one timestamp)."""
    if processor is None:
        return None
    last: list[Any] = [object(), None]

    def run(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, processor(value)
        return last[1]

    return run


def _among(conn: Connection, column: Any, keys: list[str]) -> Any:
    """`column IN keys` with one parameter, however many keys (no 5,000-placeholder SQL)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam("keys", keys, type_=ARRAY(String)))
    values = func.json_each(bindparam("keys", json.dumps(keys))).table_valued("value")
    return column.in_(select(values.c.value))


def fetch_existing(
    conn: Connection,
    table: Table,
    key: str,
    columns: Sequence[str],
    keys: Iterable[str],
    *where: Any,
) -> dict[str, tuple[Any, ...]]:
    """{key: (columns…)} for the rows of `table` among `keys`, in one query."""
    keys = list(keys)
    if not keys:
        return {}
    key_col = table.c[key]
    query = select(key_col, *(table.c[c] for c in columns)).where(
        _among(conn, key_col, keys), *where
    )
    if conn.dialect.name != "postgresql":
        return {row[0]: tuple(row[1:]) for row in conn.execute(query)}
    # Probe the index for each key, planned for these keys: a plan cached while the table was
    # small, or the planner's disk-based costing, picks a sequential scan, and a whole-table
    # scan per batch makes a national load quadratic. (On an error the rollback undoes the SETs.)
    conn.exec_driver_sql("SET plan_cache_mode = force_custom_plan; SET enable_seqscan = off")
    found = {row[0]: tuple(row[1:]) for row in conn.execute(query)}
    conn.exec_driver_sql("RESET plan_cache_mode; RESET enable_seqscan")
    return found


class SeenKeys:
    """Keys met earlier in this file, with their line, kept in a temporary table.

    A national file has millions of phones or TPS codes, too many for a Python set if memory is
    to stay flat; the table lives on the load's connection and is dropped at the end.
    """

    table = Table(
        "loader_seen",
        MetaData(),
        Column("k", String(48), primary_key=True),
        Column("line", Integer, nullable=False),
    )

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        # One width for every loader (48: a candidate's dapil|party|number key): PostgreSQL
        # refuses a cached plan whose result type changed when a pooled connection meets a
        # loader_seen of another width.
        conn.execute(
            text(
                "CREATE TEMPORARY TABLE IF NOT EXISTS loader_seen "
                "(k VARCHAR(48) PRIMARY KEY, line INTEGER NOT NULL)"
            )
        )
        conn.execute(text("DELETE FROM loader_seen"))

    def lines(self, keys: Iterable[str]) -> dict[str, int]:
        found = fetch_existing(self._conn, self.table, "k", ["line"], keys)
        return {k: v[0] for k, v in found.items()}

    def add(self, items: list[dict[str, Any]]) -> None:
        """`items`: [{"k": key, "line": n}], none of them already present."""
        insert_rows(self._conn, self.table, items)

    def drop(self) -> None:
        schema = "pg_temp" if self._conn.dialect.name == "postgresql" else "temp"
        self._conn.execute(text(f"DROP TABLE IF EXISTS {schema}.loader_seen"))
