"""Data-loading commands: `election load`, `regions load`, `roster import`.

Each prints the load's counts and the refused rows (`line N: reason`). The good rows are stored
either way. Exit status: 0 every row loaded; 1 the file could not be read or parsed at all (nothing
loaded); 3 some rows were refused (`--skip-bad-rows`: exit 0 anyway, the refused rows still
printed), so a script or CI step stops on a file that needs fixing.
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
from relay.loaders.report import LoadError, LoadReport, errors_written_to

MAX_PRINTED = 50
EXIT_UNREADABLE = 1
EXIT_ROWS_REFUSED = 3

election_cli = AppGroup("election", help="Contests and candidates.")
regions_cli = AppGroup("regions", help="Region hierarchy and TPS.")
roster_cli = AppGroup("roster", help="KPPS/PPS officers.")

_file_argument = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
_skip_option = click.option(
    "--skip-bad-rows",
    is_flag=True,
    help="Exit 0 even when some rows were refused (they are still reported).",
)
_errors_file_option = click.option(
    "--errors-file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write every refused row to this CSV file (line,error), not only the first "
    f"{MAX_PRINTED} printed.",
)


@election_cli.command("load")
@_file_argument
@_skip_option
@_errors_file_option
def election_load(file: Path, skip_bad_rows: bool, errors_file: Path | None) -> None:
    """Load contests, parties, candidates, dapils and candidate lists from FILE (YAML, with
    the CSV files it names); safe to re-run."""
    from relay.loaders.election import load_election

    _run(file, lambda url: load_election(file, url), skip_bad_rows, errors_file=errors_file)


@regions_cli.command("load")
@_file_argument
@_skip_option
@_errors_file_option
def regions_load(file: Path, skip_bad_rows: bool, errors_file: Path | None) -> None:
    """Load regions and TPS from FILE (CSV: code,name,parent,level,registered_voters)."""
    from relay.loaders.regions import load_regions

    progress = terminal_progress("regions")
    report = _run(
        file, lambda url: load_regions(file, url, progress), True, progress, errors_file
    )
    _refresh_region_stats()
    _exit_for(report, skip_bad_rows)


def _refresh_region_stats() -> None:
    """The dashboard's progress counts (TPS per region) follow the regions just loaded."""
    from relay.db import session_scope
    from relay.results import rebuild_region_stats

    with session_scope(current_app.config.get("DATABASE_URL")) as session:
        rebuild_region_stats(session)


@roster_cli.command("import")
@_file_argument
@_skip_option
@_errors_file_option
def roster_import(file: Path, skip_bad_rows: bool, errors_file: Path | None) -> None:
    """Import officers from FILE (CSV: phone,name,role,tps_code,language); safe to re-run."""
    from relay.loaders.roster import import_roster

    progress = terminal_progress("roster")
    _run(
        file, lambda url: import_roster(file, url, progress), skip_bad_rows, progress, errors_file
    )


def _run(
    file: Path,
    load: Callable[[str | None], LoadReport],
    skip_bad_rows: bool,
    progress: ProgressPrinter | None = None,
    errors_file: Path | None = None,
) -> LoadReport:
    """Run the load, print its report; exit 1 when the file is unreadable, and (unless
    `skip_bad_rows`) 3 when rows were refused."""
    url = current_app.config.get("DATABASE_URL")  # None: DATABASE_URL from the environment
    try:
        report = _load_writing_errors(load, url, errors_file)
    except LoadError as exc:
        _close(progress)
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    except SQLAlchemyError as exc:
        _close(progress)
        click.echo(
            f"database error: {exc.__class__.__name__}: {str(exc).splitlines()[0]}\n"
            "(is the schema up to date? run `db upgrade`)",
            err=True,
        )
        sys.exit(EXIT_UNREADABLE)
    _close(progress)
    click.echo(f"{file}: {report.summary()}")
    if errors_file is not None:
        click.echo(f"every refused row: {errors_file}")
    _print_lines(report.errors, report.error_count, "error", "")
    _print_lines(report.notes, report.note_count, "note", "note: ")
    _exit_for(report, skip_bad_rows)
    return report


def _load_writing_errors(
    load: Callable[[str | None], LoadReport], url: str | None, errors_file: Path | None
) -> LoadReport:
    if errors_file is None:
        return load(url)
    try:
        stream = errors_file.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise LoadError(f"cannot write {errors_file}: {exc.strerror}") from exc
    with stream, errors_written_to(stream):
        return load(url)


def _exit_for(report: LoadReport, skip_bad_rows: bool) -> None:
    if report.error_count and not skip_bad_rows:
        click.echo(
            f"{report.error_count:,} refused: exit {EXIT_ROWS_REFUSED} "
            "(fix the file and re-run, or pass --skip-bad-rows)",
            err=True,
        )
        sys.exit(EXIT_ROWS_REFUSED)


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
