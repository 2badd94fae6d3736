"""GET /metrics: the whole system's figures for Prometheus (relay.metrics)."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST

from jobs.queues import QUEUE_NAMES, RedisNotConfigured, redis_connection
from relay.config import load_settings
from relay.db import get_engine
from relay.metrics import CachedExposition, RelayCollector

blueprint = Blueprint("metrics", __name__)
_exposition = CachedExposition()


@blueprint.get("/metrics")
def metrics() -> Response:
    settings = load_settings()
    token = settings.metrics_token
    given = request.headers.get("Authorization", "")
    if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response(
            "metrics need Authorization: Bearer <METRICS_TOKEN>\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    try:
        redis = redis_connection()
    except RedisNotConfigured:
        redis = None
    collector = RelayCollector(get_engine(), redis, QUEUE_NAMES)
    text = _exposition.get(collector, settings.metrics_cache_seconds)
    return Response(text, mimetype=CONTENT_TYPE_LATEST)
