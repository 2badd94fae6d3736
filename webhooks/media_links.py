"""GET /media/<key>?exp=…&sig=…: a photo in the local store, for whoever holds an unexpired
link signed with SECRET_KEY (relay.media.signed_link): the console and public pages redirect
here, and providers that fetch attachments by URL (Twilio WhatsApp) are handed one. With
photos in S3 the links are presigned S3 URLs instead and this route has nothing to serve."""

from __future__ import annotations

from flask import Blueprint, abort, request, send_file
from flask.typing import ResponseReturnValue

from relay import media
from relay.media_store import LocalStore, MediaMissing

blueprint = Blueprint("media_links", __name__)


@blueprint.get("/media/<path:key>")
def media_file(key: str) -> ResponseReturnValue:
    local = media.store()
    if not isinstance(local, LocalStore):
        abort(404)
    if not local.verify(key, request.args.get("exp", ""), request.args.get("sig", "")):
        abort(403)
    try:
        path = local.path(key)
    except MediaMissing:
        abort(404)
    if not path.is_file():
        abort(404)
    content_type = next(
        (t for t, ext in media.EXTENSIONS.items() if path.suffix == ext), "application/octet-stream"
    )
    response = send_file(path, mimetype=content_type)
    response.headers["Cache-Control"] = "private, max-age=300"  # the link expires anyway
    return response
