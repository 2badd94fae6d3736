"""The Flask application: provider webhooks, health check and the CLI (`flask --app webhooks`)."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from relay import logs
from relay.config import load_settings

MAX_REQUEST_BYTES = 1024 * 1024  # webhooks carry text and media URLs, never the media itself


def create_app() -> Flask:
    from web import register as register_web
    from webhooks import cli, cli_audit, cli_data, cli_ocr, health, media_links, receive

    settings = load_settings()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)
    # Behind one reverse proxy (nginx, a tunnel): trust its X-Forwarded-* headers.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)  # type: ignore[method-assign]
    app.register_blueprint(receive.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(media_links.blueprint)
    cli.register(app)
    cli_audit.register(app)
    cli_data.register(app)
    cli_ocr.register(app)
    register_web(app)
    logs.install_masking()
    if not app.debug:
        logs.configure()
    return app
