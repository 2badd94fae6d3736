"""`audit verify` (walk the audit log's hash chain), `audit watch` (an outside observer's
check of a server's published head) and `db grant-app-role` (PostgreSQL)."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from webhooks.cli import db_cli

audit_cli = AppGroup(
    "audit", help="The audit log: verify its hash chain, watch a server's published head."
)


def _anchor(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list:
    from relay.audit_verify import Anchor

    try:
        return [Anchor.parse(value) for value in values]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _anchors_file(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> list:
    from relay import audit_anchors

    if value is None:
        return []
    try:
        return audit_anchors.read(value)
    except audit_anchors.AnchorsFileError as exc:
        raise click.BadParameter(str(exc)) from None


@audit_cli.command("verify")
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    callback=_anchor,
    metavar="ID:HASH",
    help="An entry's hash noted earlier (e.g. a head printed by verify); repeatable. Catches "
    "entries cut off the end and a log re-hashed from the anchor back.",
)
@click.option(
    "--anchors",
    "anchors_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    callback=_anchors_file,
    metavar="FILE",
    help="Every anchor in FILE, one ID:HASH a line (as `audit watch` writes it, e.g. a file "
    "an observer sent); checked with any --anchor.",
)
def audit_verify(anchors: list, anchors_file: list) -> None:
    """Check every entry's hash and link; exit 1 naming the first broken entry and how
    (edited, deleted, inserted, reordered). Then check every published tally against the
    record (relay.published); exit 1 naming each one that differs."""
    from relay.audit_verify import verify
    from relay.db import get_engine
    from relay.db_roles import owner_problem

    anchors = [*anchors, *anchors_file]
    url = current_app.config.get("DATABASE_URL") or _database_url()
    with get_engine(url).connect() as conn:
        verdict = verify(conn, anchors)
    if verdict.broken:
        click.echo(verdict.broken.line())
        click.echo(f"{verdict.entries} entries before it are intact", err=True)
        sys.exit(1)
    click.echo(
        f"audit log intact: {verdict.entries} entries"
        + (f", {len(anchors)} anchor(s) matched" if anchors else "")
    )
    if verdict.entries:
        click.echo(f"head #{verdict.head_id} {verdict.head_hash}")
        click.echo(
            "note or publish it; later: "
            f"audit verify --anchor {verdict.head_id}:{verdict.head_hash}"
        )
    problem = owner_problem(url)
    if problem:
        click.echo(f"warning: {problem} (docs/DATABASE-ROLES.md)", err=True)
    mismatches, approvals = _published_mismatches(url)
    for mismatch in mismatches:
        click.echo(f"published tally not on the record: {mismatch}")
    for approval in approvals:
        click.echo(f"approval not on the record: {approval}")
    if mismatches or approvals:
        click.echo(
            f"{len(mismatches)} published tallies and {len(approvals)} approvals differ from "
            "the audit log: changed outside the application (docs/SECURITY.md)"
        )
        sys.exit(1)
    click.echo("published tallies: each as the log last recorded it, each change proposed "
               "and approved by two people")  # fmt: skip


class _WatchFailed(click.ClickException):
    """The server could not be asked: exit 2, as for a usage error, not 1 (a broken log)."""

    exit_code = 2


@audit_cli.command("watch", with_appcontext=False)
@click.argument("url")
@click.option(
    "--anchors",
    "anchors_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Where the anchors are kept, one ID:HASH and the time a line "
    "(default: audit-anchors-HOST.txt in the current directory).",
)
def audit_watch(url: str, anchors_path: Path | None) -> None:
    """As an outside observer: note the audit head URL's server publishes (append it to
    FILE) and check every anchor already in FILE against that server's entries. Exit 0 when
    all hold; 1 naming every anchor whose entry is gone (entries cut off the end) or has
    another hash (the log rewritten); 2 when the server cannot be asked. Needs no settings
    and no database; run it e.g. hourly on election night."""
    from relay import audit_anchors
    from relay.audit_watch import Server, WatchError, base_url

    try:
        root = base_url(url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from None
    path = anchors_path or Path(f"audit-anchors-{_file_safe(urlsplit(root).netloc)}.txt")
    try:
        earlier = audit_anchors.read(path)
        server = Server(root)
        head = server.head()
        broken = server.check(earlier, head.entry_id)
        noted = head.entry_id > 0 and head not in earlier
        if noted:
            audit_anchors.append(path, head, f"audit anchors of {root} (bin/relay audit watch)")
    except (WatchError, audit_anchors.AnchorsFileError) as exc:
        raise _WatchFailed(str(exc)) from None
    if head.entry_id == 0:
        click.echo(f"the audit log at {root} is empty: nothing to note yet")
    else:
        click.echo(
            f"audit head #{head.entry_id} {head.hash} "
            + (f"noted in {path}" if noted else f"already in {path}")
        )
    for anchor in broken:
        click.echo(anchor.line())
    if broken:
        click.echo(
            f"{len(broken)} of {len(set(earlier))} anchors no longer hold: the audit log at "
            f"{root} was cut off or rewritten (docs/SECURITY.md)"
        )
        sys.exit(1)
    click.echo(f"{len(set(earlier))} earlier anchor(s) hold")


def _file_safe(text: str) -> str:
    """A host (and port) as part of a file name: 127.0.0.1_8000."""
    return "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in text)


def _published_mismatches(url: str) -> tuple[list, list]:
    from sqlalchemy.orm import Session

    from relay import published
    from relay.db import get_engine

    with Session(get_engine(url)) as session:
        mismatches = list(published.check(session))  # one snapshot for both
        return mismatches, list(published.unproposed_approvals(session))


def _database_url() -> str:
    from relay.config import load_settings

    return load_settings().database_url


@db_cli.command("grant-app-role")
@click.argument("role")
def db_grant_app_role(role: str) -> None:
    """Give ROLE (the app's database role) exactly what web, worker and sweeper need, as
    MIGRATION_DATABASE_URL (the tables' owner); idempotent, run after each migration."""
    from relay.config import load_settings
    from relay.db_roles import RoleError, grant_app_role

    try:
        grants = grant_app_role(load_settings().migration_database_url, role)
    except RoleError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"granted {grants.summary()}")


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
