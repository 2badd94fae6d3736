"""GET /healthz: 200 when the database and Redis answer, 503 naming what failed."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from jobs.queues import redis_connection
from relay.db import get_engine

blueprint = Blueprint("health", __name__)


def _check_database() -> str:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any driver error means "not healthy"
        return f"error: {type(exc).__name__}"


def _check_redis() -> str:
    try:
        redis_connection().ping()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if healthy else "unhealthy", checks=checks), 200 if healthy else 503
