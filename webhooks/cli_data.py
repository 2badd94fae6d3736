"""Data-loading commands: `election load`, `regions load`, `roster import`.

Each prints the load's counts and the refused rows (`line N: reason`). Exit status 0 means the
file was read, even if some rows were refused; 1 means it could not be read or parsed at all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from relay.loaders.progress import ProgressPrinter, terminal_progress
from relay.loaders.report import LoadError, LoadReport

MAX_PRINTED = 50

election_cli = AppGroup("election", help="Contests and candidates.")
regions_cli = AppGroup("regions", help="Region hierarchy and TPS.")
roster_cli = AppGroup("roster", help="KPPS/PPS officers.")

_file_argument = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))


@election_cli.command("load")
@_file_argument
def election_load(file: Path) -> None:
    """Load contests and candidates from FILE (YAML); safe to re-run."""
    from relay.loaders.election import load_election

    _run(file, lambda url: load_election(file, url))


@regions_cli.command("load")
@_file_argument
def regions_load(file: Path) -> None:
    """Load regions and TPS from FILE (CSV: code,name,parent,level,registered_voters)."""
    from relay.loaders.regions import load_regions

    progress = terminal_progress("regions")
    _run(file, lambda url: load_regions(file, url, progress), progress)
    _refresh_region_stats()


def _refresh_region_stats() -> None:
    """The dashboard's progress counts (TPS per region) follow the regions just loaded."""
    from relay.db import session_scope
    from relay.results import rebuild_region_stats

    with session_scope(current_app.config.get("DATABASE_URL")) as session:
        rebuild_region_stats(session)


@roster_cli.command("import")
@_file_argument
def roster_import(file: Path) -> None:
    """Import officers from FILE (CSV: phone,name,role,tps_code,language); safe to re-run."""
    from relay.loaders.roster import import_roster

    progress = terminal_progress("roster")
    _run(file, lambda url: import_roster(file, url, progress), progress)


def _run(
    file: Path, load: Callable[[str | None], LoadReport], progress: ProgressPrinter | None = None
) -> None:
    url = current_app.config.get("DATABASE_URL")  # None: DATABASE_URL from the environment
    try:
        report = load(url)
    except LoadError as exc:
        _close(progress)
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:
        _close(progress)
        click.echo(
            f"database error: {exc.__class__.__name__}: {str(exc).splitlines()[0]}\n"
            "(is the schema up to date? run `db upgrade`)",
            err=True,
        )
        sys.exit(1)
    _close(progress)
    click.echo(f"{file}: {report.summary()}")
    _print_lines(report.errors, report.error_count, "error", "")
    _print_lines(report.notes, report.note_count, "note", "note: ")


def _close(progress: ProgressPrinter | None) -> None:
    if progress is not None:
        progress.close()


def _print_lines(items: list[tuple[int, str]], total: int, noun: str, prefix: str) -> None:
    for line, text in items[:MAX_PRINTED]:
        click.echo(f"line {line}: {prefix}{text}")
    if total > MAX_PRINTED:
        more = total - MAX_PRINTED
        click.echo(f"… and {more:,} more {noun}{'' if more == 1 else 's'}")


def register(app: Flask) -> None:
    """Add the data-loading command groups to `app.cli`."""
    for group in (election_cli, regions_cli, roster_cli):
        app.cli.add_command(group)
