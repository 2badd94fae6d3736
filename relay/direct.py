"""Core statements run on the driver's cursor, for the few that every text message runs.

On PostgreSQL, SQLAlchemy's path from `connection.execute(statement)` to psycopg's cursor
(the cache key, an execution context, parameter processing, a CursorResult and its
metadata) cost ~0.1 ms of client CPU per statement, about twice psycopg's own work
(bench/turn_profile.py, py-spy on bench/workers.py's worker). A DirectStatement is built with
Core like any other and compiled by SQLAlchemy once per set of columns given; each run then
does only what SQLAlchemy would do for it: the columns' Python-side defaults, the types'
bind processors (JSON), the engine's `before_cursor_execute` listeners, and on an error its
exception translation and the invalidation of a lost connection.

Only for statements that need nothing else: no expanding (IN) or literal parameters, no
executemany, results read as plain values (no result processors; psycopg gives JSON and
timestamps back as SQLAlchemy would). Elsewhere (SQLite) the statement goes through
`connection.execute` as before: pysqlite's results need SQLAlchemy's processors (timestamps
are stored as text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_DIRECT_DIALECTS = frozenset({"postgresql"})


class DirectStatement:
    """A Core statement (INSERT, UPDATE or SELECT) run through `run`."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def run(self, connection: Connection, params: Mapping[str, Any] | None = None) -> Result:
        """Execute with `params` (one row) in `connection`'s transaction."""
        params = params or {}
        if connection.dialect.name not in _DIRECT_DIALECTS:
            result = connection.execute(self.statement, params)
            return Result(result.rowcount, result.first() if result.returns_rows else None)
        key = (connection.dialect.name, tuple(params))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.statement, connection, tuple(params))
        return compiled.execute(connection, params)


class _Compiled:
    def __init__(self, statement: ClauseElement, connection: Connection, keys: tuple[str, ...]):
        compiled = statement.compile(dialect=connection.dialect, column_keys=list(keys))
        assert isinstance(compiled, SQLCompiler)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a DirectStatement takes no expanding or literal parameters")
        if compiled.positional or compiled.schema_translate_map:
            raise ValueError("a DirectStatement runs on a pyformat driver, unmapped schemas")
        self.compiled = compiled
        self.sql = compiled.string
        self.processors = dict(compiled._bind_processors)
        self.escaped = dict(compiled.escaped_bind_names)
        self.defaults = [
            (column.key, column.default)
            for column in (*compiled.insert_prefetch, *compiled.update_prefetch)
        ]

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> Result:
        values = self.compiled.construct_params(params, escape_names=False)
        for name, default in self.defaults:  # what SQLAlchemy's execution context computes
            values[name] = default.arg(None) if default.is_callable else default.arg
        processors, escaped = self.processors, self.escaped
        sent = {
            escaped.get(name, name): (processors[name](value) if name in processors else value)
            for name, value in values.items()
        }
        cursor = None
        try:
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            if connection._has_events or connection.engine._has_events:
                connection.dispatch.before_cursor_execute(
                    connection, cursor, self.sql, sent, None, False
                )
            cursor.execute(self.sql, sent)
            row = cursor.fetchone() if cursor.description is not None else None
            rowcount = cursor.rowcount
            cursor.close()
        except Exception as error:  # translated (and a lost connection invalidated) as usual
            connection._handle_dbapi_exception(error, self.sql, sent, cursor, None)
            raise
        return Result(rowcount, row)


class Result:
    """What a DirectStatement's run gives back: the rows it changed, and its first row."""

    __slots__ = ("row", "rowcount")

    def __init__(self, rowcount: int, row: Any) -> None:
        self.rowcount = rowcount
        self.row = row

    def scalar_one(self) -> Any:
        if self.row is None:
            raise LookupError("the statement returned no row")
        return self.row[0]
