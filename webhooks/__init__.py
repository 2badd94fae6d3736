"""The Flask application: provider webhooks, health check and the CLI (`flask --app webhooks`)."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from relay import logs
from relay.config import load_settings, refuse_insecure

MAX_REQUEST_BYTES = 1024 * 1024  # webhooks carry text and media URLs, never the media itself


def create_app() -> Flask:
    from web import register as register_web
    from web.auth import TRUSTED_PROXIES_KEY, parse_networks
    from webhooks import (
        cli,
        cli_audit,
        cli_data,
        cli_ocr,
        delivery_status,
        health,
        hot,
        media_links,
        metrics_endpoint,
        receive,
    )

    settings = load_settings()
    refuse_insecure(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        **{TRUSTED_PROXIES_KEY: parse_networks(settings.trusted_proxies)},
    )
    # Behind one reverse proxy (nginx, a tunnel): its X-Forwarded-Proto/Host/Port give the URL
    # providers signed. X-Forwarded-For is left alone here: the client's address is believed
    # only from the proxies in TRUSTED_PROXIES (web.auth.client_ip).
    hot.install(app)  # the providers' deliveries served without Flask's request machinery
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=1, x_host=1, x_port=1)  # type: ignore[method-assign]
    app.register_blueprint(receive.blueprint)
    app.register_blueprint(delivery_status.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(media_links.blueprint)
    app.register_blueprint(metrics_endpoint.blueprint)
    cli.register(app)
    cli_audit.register(app)
    cli_data.register(app)
    cli_ocr.register(app)
    register_web(app)
    logs.install_masking()
    if not app.debug:
        logs.configure()
    return app
