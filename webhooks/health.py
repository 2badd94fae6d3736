"""GET /healthz: what the webhooks can count on, checked within about a second.

200 `{"status": "ok", "checks": {"database": "ok", "redis": "ok"}}` when the database takes
writes and Redis answers. Otherwise 503 with each failing check named:
- `"status": "degraded"`: the database takes writes but Redis does not answer; webhooks
  still store and acknowledge every message, replies wait until Redis is back (the sweeper
  enqueues what was stored meanwhile).
- `"status": "unhealthy"`: the database cannot be written (down, locked, read-only);
  webhooks answer 503 and providers deliver again later.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import Connection, text

from jobs import request_redis
from jobs.queues import redis_connection
from relay.config import load_settings
from relay.db import get_engine

blueprint = Blueprint("health", __name__)

WRITE_WAIT_MS = 500  # how long the write check waits for a lock another connection holds
# A write the database must accept for a webhook to store a message, rolled back: it takes
# the same locks and is refused the same way (read-only transaction, locked table) as a store.
WRITE_PROBE = "UPDATE inbound_messages SET id = id WHERE id = -1"


def _check_database() -> str:
    engine = get_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not healthy"
        return f"error: unreachable ({type(exc).__name__})"
    try:
        with engine.connect() as conn:
            _check_write(conn)
    except Exception as exc:
        return f"error: writes refused ({type(exc).__name__})"
    return "ok"


def _check_write(conn: Connection) -> None:
    sqlite = conn.dialect.name == "sqlite"
    try:
        with conn.begin() as transaction:
            if sqlite:  # the pool's connections wait 10 s for a lock: this check waits less
                conn.exec_driver_sql(f"PRAGMA busy_timeout={WRITE_WAIT_MS}")
            else:
                conn.execute(text(f"SET LOCAL lock_timeout = {WRITE_WAIT_MS}"))
                conn.execute(text(f"SET LOCAL statement_timeout = {2 * WRITE_WAIT_MS}"))
            conn.execute(text(WRITE_PROBE))
            transaction.rollback()
    finally:
        if sqlite:
            conn.exec_driver_sql("PRAGMA busy_timeout=10000")
            conn.rollback()


def _check_redis() -> str:
    url = load_settings().redis_url
    if url and request_redis.remembered_unhealthy(url):
        return "error: unreachable (failed in the last seconds)"
    try:
        redis_connection().ping()  # in a request: 0.25 s at most, no retries
        return "ok"
    except Exception as exc:
        if url:
            request_redis.failed(url, exc)
        return f"error: {type(exc).__name__}"


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    checks = {"database": _check_database(), "redis": _check_redis()}
    if all(value == "ok" for value in checks.values()):
        return jsonify(status="ok", checks=checks), 200
    status = "degraded" if checks["database"] == "ok" else "unhealthy"
    return jsonify(status=status, checks=checks), 503
