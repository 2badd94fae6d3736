"""Operational CLI commands: database, simulator, sweeper, demo data."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from relay.config import ROOT

db_cli = AppGroup("db", help="Database schema.")
simulate_cli = AppGroup("simulate", help="Send as a roster officer through the simulator.")
jobs_cli = AppGroup("jobs", help="Background job maintenance.")
demo_cli = AppGroup("demo", help="Demo election, regions and roster.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version (as MIGRATION_DATABASE_URL), then
    grant DATABASE_URL's role what the app needs if it is another role (PostgreSQL)."""
    from relay.migrate import upgrade

    grants = upgrade()
    click.echo("database schema is up to date")
    if grants:
        click.echo(f"app role {grants.summary()}")


def cli_operator() -> str:
    """Who sends from the command line, for the audit: `cli:<login name>`."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@simulate_cli.command("sms")
@click.option("--from", "phone", required=True, help="The officer's phone (08…, +628…).")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for replies.")
@click.argument("text", nargs=-1, required=True)
def simulate_sms(phone: str, timeout: float, text: tuple[str, ...]) -> None:
    """Send TEXT as an SMS from PHONE and print the replies as they arrive."""
    from relay.inbox import StorageError
    from relay.phone import InvalidPhone
    from relay.simulator import SimulatorDisabled, send_text, wait_for_replies

    message = " ".join(text)
    try:
        inbound_id = send_text(phone, message, operator=cli_operator())
    except SimulatorDisabled as exc:
        raise click.ClickException(f"{exc} (SIMULATOR_ENABLED)") from None
    except InvalidPhone:
        raise click.BadParameter(f"{phone!r} is not a phone number", param_hint="--from") from None
    except StorageError as exc:
        raise click.ClickException(f"not sent, the database is unreachable: {exc}") from None
    click.echo(f"> {message}")
    try:
        for reply in wait_for_replies(inbound_id, timeout):
            click.echo(f"< {reply.text}")
    except TimeoutError:
        click.echo(f"no reply within {timeout:.0f} s: is the worker running (make run)?", err=True)
        sys.exit(1)


@simulate_cli.command("photo")
@click.option("--from", "phone", required=True, help="The officer's phone (08…, +628…).")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for replies.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def simulate_photo(phone: str, timeout: float, file: str) -> None:
    """Send FILE as a photo from PHONE and print the replies, the reading included."""
    import mimetypes
    from pathlib import Path

    from jobs.photo import READ_SEQUENCE
    from relay import media
    from relay.inbox import StorageError
    from relay.phone import InvalidPhone
    from relay.simulator import SimulatorDisabled, send_photo, wait_for_replies

    content_type = mimetypes.guess_type(file)[0] or "application/octet-stream"
    data = Path(file).read_bytes()
    until = READ_SEQUENCE if media.sniff_type(data) else None  # no reading for a non-photo
    try:
        inbound_id = send_photo(phone, data, content_type, operator=cli_operator())
    except SimulatorDisabled as exc:
        raise click.ClickException(f"{exc} (SIMULATOR_ENABLED)") from None
    except InvalidPhone:
        raise click.BadParameter(f"{phone!r} is not a phone number", param_hint="--from") from None
    except StorageError as exc:
        raise click.ClickException(f"not sent, the database is unreachable: {exc}") from None
    except media.MediaUnavailable as exc:
        raise click.ClickException(f"not sent, the photo store is unreachable: {exc}") from None
    click.echo(f"> [photo {file}]")
    try:
        for reply in wait_for_replies(inbound_id, timeout, until_sequence=until):
            photo = (reply.extras or {}).get("photo")
            page = f"  [annotated page: {media.describe(photo)}]" if photo else ""
            click.echo(f"< {reply.text}{page}")
    except TimeoutError:
        click.echo(
            f"no reading within {timeout:.0f} s: is the worker running (make run)?", err=True
        )
        sys.exit(1)


@jobs_cli.command("sweep")
@click.option("--every", type=float, default=0, help="Repeat every N seconds (0: once).")
@click.option(
    "--min-age",
    type=float,
    default=10.0,
    show_default=True,
    help="Only rows stored at least this many seconds ago.",
)
def jobs_sweep(every: float, min_age: float) -> None:
    """Enqueue stored messages that never reached a queue, drive again those whose job
    failed, and mark failed ("needs attention") those that keep failing."""
    from jobs.sweeper import run_forever, sweep

    if every > 0:
        run_forever(every, min_age)
    click.echo(str(sweep(min_age)))


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo election, regions and roster (safe to re-run)."""
    from relay.loaders.election import load_election
    from relay.loaders.regions import load_regions
    from relay.loaders.roster import import_roster

    demo = ROOT / "demo"
    refused = 0
    for label, report in (
        ("election", load_election(demo / "election.yaml")),
        ("regions", load_regions(demo / "regions.csv")),
        ("roster", import_roster(demo / "roster.csv")),
    ):
        click.echo(f"{label}: {report.summary()}")
        for line, reason in report.errors[:20]:
            click.echo(f"  line {line}: {reason}", err=True)
        refused += report.error_count
    from relay.db import session_scope
    from relay.results import rebuild_region_stats

    with session_scope() as session:
        rebuild_region_stats(session)
    if refused:  # the demo files must load whole
        raise SystemExit(3)


telegram_cli = AppGroup("telegram", help="Telegram bot: webhook and long polling.")


def _telegram_settings():
    from relay.config import load_settings

    settings = load_settings()
    if not settings.telegram_bot_token:
        raise click.ClickException("TELEGRAM_BOT_TOKEN is not set")
    return settings


@telegram_cli.command("webhook")
@click.argument("action", type=click.Choice(["set", "delete", "info"]))
def telegram_webhook(action: str) -> None:
    """Point Telegram at PUBLIC_URL/webhooks/telegram (set), stop it (delete), or show it."""
    from channels.telegram import ALLOWED_UPDATES, run_with_bot

    settings = _telegram_settings()
    url = f"{settings.public_url}/webhooks/telegram"
    if action == "set" and not settings.telegram_webhook_secret:
        raise click.ClickException("TELEGRAM_WEBHOOK_SECRET is not set")

    async def call(bot):
        if action == "set":
            await bot.set_webhook(
                url, secret_token=settings.telegram_webhook_secret, allowed_updates=ALLOWED_UPDATES
            )
            return f"webhook set to {url}"
        if action == "delete":
            await bot.delete_webhook()
            return "webhook deleted (use `telegram poll` or set it again)"
        info = await bot.get_webhook_info()
        return (
            f"url={info.url or '-'} pending={info.pending_update_count} "
            f"last_error={info.last_error_message or '-'}"
        )

    click.echo(run_with_bot(settings, call))


@telegram_cli.command("poll")
@click.option("--once", is_flag=True, help="One getUpdates round, then exit.")
def telegram_poll(once: bool) -> None:
    """Long-poll Telegram (for servers without a public HTTPS address)."""
    import asyncio

    from channels.telegram_poll import poll

    count = asyncio.run(poll(_telegram_settings(), once=once))
    click.echo(f"{count} update(s) stored")


def register(app: Flask) -> None:
    for group in (db_cli, simulate_cli, jobs_cli, demo_cli, telegram_cli):
        app.cli.add_command(group)
