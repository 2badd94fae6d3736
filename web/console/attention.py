"""/console/attention: stored messages (and replies) whose job kept failing.

The sweeper drives a message again after each failed job (jobs.sweeper) and, after
REDRIVE_LIMIT failed jobs, marks it failed: it is listed here with its last error until an
operator drives it again ("retry now"), which is audited with the operator's name.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from jobs.queues import (
    RedisNotConfigured,
    enqueue_inbound,
    enqueue_media,
    enqueue_outbound,
    enqueue_photo_reading,
    redis_connection,
)
from jobs.redrive import cause, discard
from relay.audit import record
from relay.db import session_scope
from relay.models import InboundMessage, OutboundMessage
from web.auth import current_operator, login_required
from web.console import blueprint
from web.i18n import t

LIMIT = 200
# The job a message waits for, by stage: its conversation, its photos' download, their reading.
ENQUEUE: dict[str, Callable[[int], bool]] = {
    "inbound": enqueue_inbound,
    "media": enqueue_media,
    "photo": enqueue_photo_reading,
}
FAILED_FOLLOW_UPS = {"media_failed": "media", "photo_failed": "photo"}



def failed_stage(row: InboundMessage) -> str | None:
    """Which of the message's jobs kept failing, if one did."""
    if row.status == "failed":
        return "inbound"
    return FAILED_FOLLOW_UPS.get(row.follow_up or "")


def _operator_name() -> str:
    active = current_operator()
    assert active is not None
    return active.operator_name


@blueprint.get("/attention")
@login_required()
def attention() -> ResponseReturnValue:
    with session_scope() as db:
        messages = db.scalars(
            select(InboundMessage)
            .where(
                or_(
                    InboundMessage.status == "failed",
                    InboundMessage.follow_up.in_(FAILED_FOLLOW_UPS),
                )
            )
            .order_by(InboundMessage.received_at)
            .limit(LIMIT)
        ).all()
        replies = db.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.status == "failed", OutboundMessage.error_kind == "crashed")
            .order_by(OutboundMessage.created_at)
            .limit(LIMIT)
        ).all()
        return render_template(
            "console/attention.html",
            messages=messages,
            replies=replies,
            cause=cause,
            failed_stage=failed_stage,
        )


@blueprint.post("/attention/<int:inbound_id>/retry")
@login_required()
def retry_inbound(inbound_id: int) -> ResponseReturnValue:
    with session_scope() as db:
        row = db.get(InboundMessage, inbound_id)
        if row is None:
            abort(404)
        stage = failed_stage(row)
        if stage is None:
            abort(404)
        _audit(db, "inbound_redriven", "inbound", row.id, row.job_failures, row.error, stage)
        if stage == "inbound":
            row.status = "received"
        else:
            row.follow_up = stage
        row.job_failures, row.retry_at = 0, None
    _drive(f"{stage}-{inbound_id}", lambda: ENQUEUE[stage](inbound_id))
    flash_retried(inbound_id)
    return redirect(url_for("console.attention"))


@blueprint.post("/attention/replies/<int:outbound_id>/retry")
@login_required()
def retry_outbound(outbound_id: int) -> ResponseReturnValue:
    with session_scope() as db:
        row = db.get(OutboundMessage, outbound_id)
        if row is None or row.status != "failed" or row.error_kind != "crashed":
            abort(404)
        _audit(
            db,
            "outbound_redriven",
            "outbound",
            row.id,
            row.job_failures,
            row.last_error,
            "outbound",
        )
        row.status, row.job_failures, row.retry_at, row.error_kind = "queued", 0, None, None
    _drive(f"outbound-{outbound_id}", lambda: enqueue_outbound(outbound_id))
    flash_retried(outbound_id)
    return redirect(url_for("console.attention"))


def _audit(
    db: Session,
    action: str,
    entity: str,
    row_id: int,
    failures: int,
    error: str | None,
    stage: str,
) -> None:
    detail = {"stage": stage, "job_failures": failures, "error": cause(error)[:500]}
    record(db, f"operator:{_operator_name()}", action, entity, row_id, detail)


def _drive(job_id: str, enqueue: Callable[[], bool]) -> None:
    """Clear a dead job of that id and queue a new one; with Redis unreachable the sweeper
    queues it (the row waits again)."""
    try:
        discard(redis_connection(), job_id)
    except (RedisError, RedisNotConfigured, OSError):
        pass  # enqueue() logs it; the row waits again, so the sweeper queues it later
    enqueue()


def flash_retried(row_id: int) -> None:
    flash(t("attention_retried", id=row_id))
