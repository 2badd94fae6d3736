"""Upright renderings of the public photos: /tps/<code>/photo/…/upright and
/tps/<code>/evidence/<id>/upright (the same checks as the originals: a published, confirmed,
real tally of that TPS)."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from relay.db import session_scope
from relay.models import InboundMessage, Submission, TallyEvidence
from web.dashboard import blueprint
from web.photo_viewer import upright_response


def published(submission: Submission | None, code: str) -> bool:
    return (
        submission is not None
        and submission.tps_code == code
        and submission.status == "confirmed"
        and not submission.training
    )


def tally_photo_key(code: str, submission_id: int, index: int) -> str | None:
    """The media key of photo `index` of the published tally, or None."""
    with session_scope() as db:
        submission = db.get(Submission, submission_id)
        if not published(submission, code):
            return None
        inbound = db.get(InboundMessage, submission.inbound_id)  # type: ignore[union-attr]
        items = list(inbound.media or []) if inbound else []
    if index >= len(items) or not isinstance(items[index], dict) or not items[index].get("key"):
        return None
    return str(items[index]["key"])


def evidence_key(code: str, evidence_id: int) -> str | None:
    with session_scope() as db:
        found = db.get(TallyEvidence, evidence_id)
        submission = db.get(Submission, found.submission_id) if found else None
        if found is None or not published(submission, code):
            return None
        return found.media_key


@blueprint.get("/tps/<code>/photo/<int:submission_id>/<int:index>/upright")
def tps_photo_upright(code: str, submission_id: int, index: int) -> ResponseReturnValue:
    key = tally_photo_key(code, submission_id, index)
    if key is None:
        abort(404)
    return upright_response(key, public=True)


@blueprint.get("/tps/<code>/evidence/<int:evidence_id>/upright")
def tps_evidence_upright(code: str, evidence_id: int) -> ResponseReturnValue:
    key = evidence_key(code, evidence_id)
    if key is None:
        abort(404)
    return upright_response(key, public=True)


def public_viewers(db: Session, code: str, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The photo viewers of one contest on the public TPS page: the photo the tally was read
    from (if any), then the evidence photos sent after it was confirmed."""
    from flask import url_for

    from web.i18n import t
    from web.photo_viewer import viewer

    confirmed = entry["confirmed"]
    if confirmed is None:
        return []
    inbound = db.get(InboundMessage, confirmed.inbound_id)
    items = list(inbound.media or []) if inbound else []
    out = []
    for index in entry["photos"]:
        args = {"code": code, "submission_id": confirmed.id, "index": index}
        out.append(viewer(
            db, str(items[index]["key"]),
            upright_url=url_for("dashboard.tps_photo_upright", **args),
            original_url=url_for("dashboard.tps_photo", **args),
            alt=t("form_photo"),
            caption=t("pv_tally_photo"),
        ))
    for e in entry["evidence"]:
        args = {"code": code, "evidence_id": e.id}
        out.append(viewer(
            db, e.media_key,
            upright_url=url_for("dashboard.tps_evidence_upright", **args),
            original_url=url_for("dashboard.tps_evidence", **args),
            alt=t("evidence_photo", page=e.page),
            caption=f"{t('evidence')}: {t('evidence_photo', page=e.page)}",
        ))
    return out
