"""The human side of TPS Relay: operators' console, public dashboard, JSON API, simulator.

`register(app)` adds the blueprints, the CLI commands (`operators …`, `results …`) and the
security settings every page shares (session cookie, CSP, CSRF helper, language).
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from web import api, cli, common, console, dashboard, simulator

    common.configure(app)
    for blueprint in (
        common.blueprint,
        console.blueprint,
        dashboard.blueprint,
        api.blueprint,
        simulator.blueprint,
    ):
        app.register_blueprint(blueprint)
    cli.register(app)
