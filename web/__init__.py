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
    app.register_error_handler(404, _not_found)


def _not_found(_error: Exception):  # type: ignore[no-untyped-def]
    """A styled page in the reader's language for people; JSON for the API; plain text for
    the providers' webhooks."""
    from flask import jsonify, render_template, request

    from web.i18n import t

    if request.path.startswith("/api/"):
        return jsonify(error="not found"), 404
    if request.path.startswith("/webhooks/"):
        return "not found\n", 404, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("dashboard/not_found.html", message=t("page_not_found")), 404
