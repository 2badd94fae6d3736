"""The console's photos: each shown upright in the viewer (/console/media/<id>/<i>/upright),
on a review item with boxes on the numbers in question and opened zoomed on the first."""

from __future__ import annotations

from typing import Any

from flask import abort, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from relay.db import session_scope
from relay.models import InboundMessage, ReviewItem
from web.auth import login_required
from web.console import blueprint
from web.i18n import t
from web.photo_viewer import upright_response, viewer


def _stored(items: list[Any], index: int) -> str | None:
    if index >= len(items) or not isinstance(items[index], dict) or not items[index].get("key"):
        return None
    return str(items[index]["key"])


def photo_viewers(
    db: Session,
    inbound_id: int | None,
    marks: dict[str, str] | None = None,
    focus: str | None = None,
    form: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The photos of one message, for the viewer (`url`: the photo as sent)."""
    inbound = db.get(InboundMessage, inbound_id) if inbound_id is not None else None
    if inbound is None:
        return []
    out = []
    for index, _item in enumerate(inbound.media or []):
        key = _stored(list(inbound.media), index)
        if key is None:
            continue
        original = url_for("console.photo", inbound_id=inbound.id, index=index)
        shown = viewer(
            db, key,
            upright_url=url_for("console.photo_upright", inbound_id=inbound.id, index=index),
            original_url=original,
            alt=t("form_photo"),
            marks=marks,
            focus=focus,
            form=form,
        )
        out.append({"index": index, "url": original, "viewer": shown})
    return out


def review_marks(item: ReviewItem) -> tuple[dict[str, str], str | None]:
    """The fields a review item is about: those that differ from the other tally, then those
    the reader doubts; and the one to open the photo on (the first difference, else the
    first doubt)."""
    detail = item.detail or {}
    marks: dict[str, str] = {}
    doubts = detail.get("doubts")
    if not doubts and item.kind == "low_confidence":
        doubts = detail.get("fields")
    for field in doubts or {}:
        marks[str(field)] = "doubt"
    differs = [str(f) for f in detail.get("differs") or []]
    for field in differs:
        marks[field] = "differs"
    ordered = {f: marks[f] for f in differs} | {f: k for f, k in marks.items() if k == "doubt"}
    return ordered, next(iter(ordered), None)


@blueprint.get("/media/<int:inbound_id>/<int:index>/upright")
@login_required()
def photo_upright(inbound_id: int, index: int) -> ResponseReturnValue:
    with session_scope() as db:
        inbound = db.get(InboundMessage, inbound_id)
        key = _stored(list(inbound.media or []) if inbound else [], index)
    if key is None:
        abort(404)
    return upright_response(key, public=False)
