"""CLI: `operators add NAME` (prints a one-time password), `operators reset NAME`,
`operators list`, `results rebuild` (recompute the dashboard's totals) and `results verify`
(compare every stored total with its confirmed tallies; exit 1 on drift)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

operators_cli = AppGroup("operators", help="Help-desk and review operators of the console.")
results_cli = AppGroup("results", help="The dashboard's pre-aggregated results.")


@operators_cli.command("add")
@click.argument("name")
def operators_add(name: str) -> None:
    """Create operator NAME and print a one-time password (changed at first login)."""
    from relay import operators
    from relay.db import session_scope

    try:
        with session_scope() as session:
            _, password = operators.add(session, name)
    except operators.OperatorExists:
        raise click.ClickException(
            f"operator {name!r} exists; `operators reset {name}` gives a new password"
        ) from None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="NAME") from None
    click.echo(f"operator {name} created; one-time password (shown once): {password}")


@operators_cli.command("reset")
@click.argument("name")
def operators_reset(name: str) -> None:
    """Give operator NAME a new one-time password and end their sessions."""
    from relay import operators
    from relay.db import session_scope

    try:
        with session_scope() as session:
            password = operators.reset(session, name)
    except operators.UnknownOperator:
        raise click.ClickException(f"no operator named {name!r}") from None
    click.echo(f"operator {name}: new one-time password (shown once): {password}")


@operators_cli.command("list")
def operators_list() -> None:
    """List operators and when they last logged in."""
    from relay.db import session_scope
    from relay.models import Operator

    with session_scope() as session:
        for operator in session.scalars(select(Operator).order_by(Operator.name)):
            state = "active" if operator.active else "disabled"
            last = operator.last_login_at.isoformat() if operator.last_login_at else "never"
            click.echo(f"{operator.name}\t{state}\tlast login: {last}")


@results_cli.command("rebuild")
def results_rebuild() -> None:
    """Recount TPS per region and recompute every total from the confirmed tallies."""
    from relay import results
    from relay.db import session_scope

    with session_scope() as session:
        count = results.rebuild(session)
    click.echo(f"results rebuilt from {count} confirmed tallies")


@results_cli.command("verify")
def results_verify() -> None:
    """Compare every stored total with the sum of its confirmed tallies; exit 1 on drift."""
    from relay import results
    from relay.db import session_scope

    with session_scope() as session:
        drifts = results.verify(session)
    for drift in drifts:
        click.echo(f"drift: {drift}")
    if drifts:
        click.echo(f"{len(drifts)} totals differ from their tallies; `results rebuild` repairs")
        raise SystemExit(1)
    click.echo("results verified: every total equals the sum of its confirmed tallies")


def register(app: Flask) -> None:
    for group in (operators_cli, results_cli):
        app.cli.add_command(group)
