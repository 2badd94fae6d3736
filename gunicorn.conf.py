"""Gunicorn settings for the `web` process (read from the working directory)."""

import os

bind = os.environ.get("WEB_BIND", f"127.0.0.1:{os.environ.get('PORT', '5000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None  # "" turns it off
wsgi_app = "webhooks:create_app()"
