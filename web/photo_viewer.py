"""The photo viewer's server side: an upright rendering served as JPEG, and what a page needs
to show a photo with zoom (web/templates/web/photo_viewer.html, web/static/photo-viewer.js).

Routes of the public pages (web.dashboard.photos) and the console (web.console.photos) find
which stored photo a URL names and check who may see it; this module only renders and describes.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort
from sqlalchemy.orm import Session

from ocr.photo import PhotoError
from relay import photo_view
from relay.media_store import MediaMissing, MediaUnavailable


def upright_response(key: str, *, public: bool) -> Response:
    """The upright JPEG of stored photo `key`; 404 when it is missing or no photo, 503 while
    the photo store does not answer."""
    try:
        rendered = photo_view.upright_of(key)
    except MediaUnavailable:
        abort(503)
    except (PhotoError, MediaMissing, OSError, ValueError):
        abort(404)
    response = Response(rendered.jpeg, mimetype="image/jpeg")
    # The key names the content: the rendering of a key never changes.
    response.headers["Cache-Control"] = (
        "public, max-age=300" if public else "private, max-age=3600"
    )
    response.headers["X-Photo-Rectified"] = "1" if rendered.meta.get("rectified") else "0"
    return response


def viewer(
    session: Session,
    key: str,
    *,
    upright_url: str,
    original_url: str,
    alt: str,
    caption: str = "",
    marks: dict[str, str] | None = None,
    focus: str | None = None,
    form: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """What the viewer macro shows for one photo. `marks`: field key → "doubt" or "differs"
    (each gets a box drawn on the page and a "zoom on" button); `focus`: the field the viewer
    opens zoomed on; `form`: the (contest, TPS) the photo was filed under."""
    meta = photo_view.meta_of(key)
    if meta is None:  # not renderable here (bytes our decoder refuses): shown as sent
        upright_url, meta = original_url, {}
    boxes = photo_view.field_boxes(session, meta, form)
    marked = [
        {"field": field, "kind": kind, "box": boxes[field]}
        for field, kind in (marks or {}).items()
        if field in boxes
    ]
    return {
        "upright_url": upright_url,
        "original_url": original_url,
        "alt": alt,
        "caption": caption,
        "width": meta.get("width"),
        "height": meta.get("height"),
        "rectified": bool(meta.get("rectified")),
        "rotation": int(meta.get("rotation") or 0),
        "marks": marked,
        "focus": focus if focus in boxes else None,
    }
