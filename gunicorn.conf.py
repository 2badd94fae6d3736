"""Gunicorn settings for the `web` process (read from the working directory)."""

import os

bind = os.environ.get("WEB_BIND", f"127.0.0.1:{os.environ.get('PORT', '5000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None  # "" turns it off
wsgi_app = "webhooks:create_app()"


def post_worker_init(worker: object) -> None:
    """The app is loaded and the worker's environment will not change: read the settings
    once rather than per request (relay.config.freeze_settings_for_process)."""
    from relay.config import freeze_settings_for_process

    freeze_settings_for_process()
