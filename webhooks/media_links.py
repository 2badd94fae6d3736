"""GET /media/<key>?sig=…: a stored image, for providers that fetch attachments by URL
(Twilio WhatsApp); links come from relay.media.public_link."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, request, send_file
from flask.typing import ResponseReturnValue

from relay import media
from relay.config import load_settings

blueprint = Blueprint("media_links", __name__)


@blueprint.get("/media/<path:key>")
def media_file(key: str) -> ResponseReturnValue:
    given = request.args.get("sig", "")
    if not hmac.compare_digest(given, media.link_signature(load_settings(), key)):
        abort(403)
    try:
        path = media.path_of(key)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    content_type = next(
        (t for t, ext in media.EXTENSIONS.items() if path.suffix == ext), "application/octet-stream"
    )
    return send_file(path, mimetype=content_type, max_age=3600)
