"""The console's and public pages' photo routes check who may see a photo, then redirect to
a signed link that expires (relay.media.signed_link): the bytes come from the store (S3
presigned URL, or /media/… for the local store), never through a web worker."""

from __future__ import annotations

from flask import abort, redirect
from flask.typing import ResponseReturnValue

from relay import media
from relay.media_store import MediaMissing

# A shared cache may keep the public redirect this long: well within the link's lifetime.
PUBLIC_REDIRECT_MAX_AGE = 60


def redirect_to_photo(key: str, public: bool = False) -> ResponseReturnValue:
    """302 to the photo's signed link; 404 when the store has no such object."""
    try:
        if not media.exists(key):
            abort(404)
    except MediaMissing:
        abort(404)
    response = redirect(media.signed_link(key), code=302)
    if public:
        ttl = min(PUBLIC_REDIRECT_MAX_AGE, media.link_ttl() // 4)
        response.headers["Cache-Control"] = f"public, max-age={ttl}"
    else:
        response.headers["Cache-Control"] = "no-store"
    return response
