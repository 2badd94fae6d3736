"""`audit verify` (walk the audit log's hash chain) and `db grant-app-role` (PostgreSQL)."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from webhooks.cli import db_cli

audit_cli = AppGroup("audit", help="The audit log: verify its hash chain.")


def _anchor(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list:
    from relay.audit_verify import Anchor

    try:
        return [Anchor.parse(value) for value in values]
    except ValueError as exc:
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
def audit_verify(anchors: list) -> None:
    """Check every entry's hash and link; exit 1 naming the first broken entry and how
    (edited, deleted, inserted, reordered). Then check every published tally against the
    record (relay.published); exit 1 naming each one that differs."""
    from relay.audit_verify import verify
    from relay.db import get_engine
    from relay.db_roles import owner_problem

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
