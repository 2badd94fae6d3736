"""CLI: `operators add NAME [--role ROLE]` (prints a one-time password), `operators reset
NAME`, `operators role NAME ROLE`, `operators deactivate|activate NAME`, `operators list`,
`results rebuild` (recompute the dashboard's totals) and `results verify` (compare every
stored total with its confirmed tallies; exit 1 on drift)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

operators_cli = AppGroup("operators", help="Help-desk and review operators of the console.")
results_cli = AppGroup("results", help="The dashboard's pre-aggregated results.")


ROLE_CHOICE = click.Choice(["operator", "supervisor", "admin"])


@operators_cli.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=ROLE_CHOICE,
    default="operator",
    show_default=True,
    help="supervisor: approves changes to confirmed tallies; admin: also manages operators.",
)
def operators_add(name: str, role: str) -> None:
    """Create operator NAME and print a one-time password (changed at first login)."""
    from relay import operators
    from relay.db import session_scope

    try:
        with session_scope() as session:
            _, password = operators.add(session, name, role)
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
    except operators.OperatorDeactivated:
        raise click.ClickException(
            f"operator {name!r} is deactivated; a reset does not bring it back "
            f"(an admin decides: `operators activate {name}`)"
        ) from None
    click.echo(f"operator {name}: new one-time password (shown once): {password}")


def _change_operator(name: str, change: str, *args: str) -> None:
    from relay import operators
    from relay.db import session_scope

    try:
        with session_scope() as session:
            getattr(operators, change)(session, name, *args)
    except operators.UnknownOperator:
        raise click.ClickException(f"no operator named {name!r}") from None


@operators_cli.command("role")
@click.argument("name")
@click.argument("role", type=ROLE_CHOICE)
def operators_role(name: str, role: str) -> None:
    """Give operator NAME the role ROLE (operator, supervisor or admin)."""
    _change_operator(name, "set_role", role)
    click.echo(f"operator {name}: role {role}")


@operators_cli.command("deactivate")
@click.argument("name")
def operators_deactivate(name: str) -> None:
    """Operator NAME can no longer log in; their sessions end now."""
    _change_operator(name, "deactivate")
    click.echo(f"operator {name}: deactivated, sessions ended")


@operators_cli.command("activate")
@click.argument("name")
def operators_activate(name: str) -> None:
    """Let a deactivated operator NAME log in again (with their password as it was)."""
    _change_operator(name, "activate")
    click.echo(f"operator {name}: active")


@operators_cli.command("list")
def operators_list() -> None:
    """List operators: active or deactivated, role, last login."""
    from relay.db import session_scope
    from relay.models import Operator

    with session_scope() as session:
        for operator in session.scalars(select(Operator).order_by(Operator.name)):
            state = "active" if operator.active else "deactivated"
            last = operator.last_login_at.isoformat() if operator.last_login_at else "never"
            click.echo(f"{operator.name}\t{state}\t{operator.role}\tlast login: {last}")


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
