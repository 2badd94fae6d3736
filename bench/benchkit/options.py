"""Command-line options the benchmarks share."""

from __future__ import annotations

import argparse

# Benchmarks that start a whole system (benchkit.system.running_system).
THROWAWAY = (
    "a PostgreSQL server (postgresql+psycopg://…): a throwaway database is made there; "
    "default: SQLite in a temporary directory"
)
# Benchmarks that load into the database they are given.
MIGRATED = "a migrated, empty database (default: SQLite in a temporary directory)"


def add_database_url(parser: argparse.ArgumentParser, help: str = THROWAWAY) -> None:
    """`--database-url URL`, None when not given."""
    parser.add_argument("--database-url", help=help)
