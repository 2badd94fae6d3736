"""`bin/relay`: TPS Relay's own commands, listed with a line each.

`flask --app webhooks …` keeps working (the Procfile and scripts use it), but its help is
Flask's generic one, it starts with Flask's `routes`/`shell`/`run`, and it has to build the
whole application — settings checks included — before it can even list the commands. This
group lists the commands without building the application; the application is built only
when a command that needs it runs, and a setting it refuses is reported in one line.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo, routes_command, shell_command

from relay.config import InsecureSettings

PROG_NAME = "bin/relay"
HELP = """TPS Relay's command line: the database, the election files and roster, the
simulator, forms and photo reading, operators, results and the audit trail.

It reaches the system `make run` started (bin/relay reads .env and var/runtime.env).
`bin/relay COMMAND --help` describes each command and its subcommands."""


def _own_commands() -> dict[str, click.Command]:
    """Every command group the application registers, collected on a scratch application so
    that listing them builds nothing (no settings, no database)."""
    from web import cli as web_cli
    from webhooks import cli, cli_audit, cli_data, cli_ocr

    scratch = Flask("bin-relay")
    for module in (cli, cli_data, cli_ocr, web_cli, cli_audit):
        module.register(scratch)
    return dict(scratch.cli.commands)  # type: ignore[attr-defined]


def _hidden(command: click.Command) -> click.Command:
    """Flask's developer commands stay callable (`bin/relay shell`) but out of the listing."""
    hidden = copy.copy(command)
    hidden.hidden = True
    return hidden


def _create_app() -> Flask:
    from webhooks import create_app

    return create_app()


class RelayGroup(FlaskGroup):
    """FlaskGroup without Flask's default commands, whose listing needs no application."""

    def __init__(self) -> None:
        super().__init__(
            name="relay",
            help=HELP,
            create_app=_create_app,
            add_default_commands=False,
            add_version_option=False,
            load_dotenv=False,
        )
        self.params = []  # Flask's --app/--env-file/--debug: the application is always ours
        for command in _own_commands().values():
            self.add_command(command)
        self.add_command(_hidden(shell_command))
        self.add_command(_hidden(routes_command))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, name)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        extra.setdefault("obj", ScriptInfo(create_app=self.create_app, load_dotenv_defaults=False))
        return super().make_context(info_name, args, parent=parent, **extra)


relay = RelayGroup()


def main(argv: list[str] | None = None) -> None:
    try:
        relay.main(args=argv, prog_name=PROG_NAME)
    except InsecureSettings as exc:
        click.echo(f"{PROG_NAME}: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
