"""The console lists refresh themselves (web/static/console.js polls every
CONSOLE_REFRESH_SECONDS while the operator is not typing): each list page carries an ETag of
its HTML, so a poll that finds nothing new costs a 304 and no body."""

from __future__ import annotations

import hashlib

from flask import Response, request

from relay.config import load_settings


def poll_seconds() -> int:
    return max(load_settings().console_refresh_seconds, 0)


def conditional(html: str) -> Response:
    """The page, or 304 Not Modified when the poller already holds this very HTML."""
    tag = hashlib.sha256(html.encode()).hexdigest()[:32]
    if tag in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(html, mimetype="text/html")
    response.set_etag(tag, weak=False)
    return response
