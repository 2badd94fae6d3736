"""What `/metrics` tells Prometheus, read from the record itself at scrape time.

The database and Redis are shared by every process on every machine, so the figures are the
whole system's whichever web process is scraped, and nothing is lost when a worker (or the
horse it forked for a job) exits: no per-process files, no counters that vanish on restart.
The normal path of a message pays nothing for this; only the rarer events the record does not
keep (a tally refused by a rule, a photo's outcome) add one HINCRBY (`count_event`).

A scrape runs a handful of aggregate queries; a process answers from what it computed within
the last METRICS_CACHE_SECONDS, so many scrapers (or many web processes scraped) cost one set of
queries per process per window.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Engine, case, extract, func, select
from sqlalchemy.orm import Session

from relay.models import (
    INBOUND_PENDING,
    InboundMessage,
    OutboundMessage,
    ReviewItem,
    Submission,
)

log = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=5)  # the sweeper re-drives within a minute or two
LATENCY_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
EVENTS_KEY = "relay:metrics:{event}"  # a Redis hash per event: label → count
EVENTS = {
    "rule_failures": ("relay_rule_failures", "Tallies refused or held by a C.Hasil rule, by rule"),
    "ocr_outcomes": ("relay_ocr_outcomes", "Photos read, by outcome (read or the refusal code)"),
}


def count_event(event: str, labels: Iterable[str]) -> None:
    """One HINCRBY per label, pipelined; a metric is never worth failing the job for."""
    from jobs.queues import RedisNotConfigured, redis_connection

    try:
        pipe = redis_connection().pipeline(transaction=False)
        for label in labels:
            pipe.hincrby(EVENTS_KEY.format(event=event), label, 1)
        pipe.execute()
    except (RedisError, RedisNotConfigured, OSError) as exc:
        log.debug("metric %s not counted: %s", event, exc)


class RelayCollector(Collector):
    """The gauges, counters and histograms of one scrape (see the module docstring)."""

    def __init__(self, engine: Engine, redis: Redis | None, queues: Iterable[str]) -> None:
        self.engine = engine
        self.redis = redis
        self.queues = tuple(queues)

    def collect(self) -> Iterator[Metric]:
        now = datetime.now(UTC)
        with Session(self.engine) as session:
            yield from self._messages(session, InboundMessage, "inbound")
            yield from self._messages(session, OutboundMessage, "outbound")
            yield from self._latency(session)
            yield self._stuck(session, now)
            yield from self._tallies(session)
        if self.redis is not None:
            yield from self._redis_metrics(now)

    def _messages(self, session: Session, model: type, direction: str) -> Iterator[Metric]:
        rows = session.execute(
            select(model.channel, model.status, func.count()).group_by(
                model.channel, model.status
            )
        ).all()
        total = CounterMetricFamily(
            f"relay_{direction}_messages",
            f"{direction.capitalize()} messages stored, by channel",
            labels=["channel"],
        )
        by_status = GaugeMetricFamily(
            f"relay_{direction}_messages_by_status",
            f"{direction.capitalize()} messages by channel and current status",
            labels=["channel", "status"],
        )
        per_channel: dict[str, int] = {}
        for channel, status, count in rows:
            per_channel[channel] = per_channel.get(channel, 0) + count
            by_status.add_metric([channel, status], count)
        for channel, count in sorted(per_channel.items()):
            total.add_metric([channel], count)
        yield total
        yield by_status

    def _latency(self, session: Session) -> Iterator[Metric]:
        """Two histograms over every reply sent: queued → accepted by the provider (the
        sender's share), and the officer's message received → its reply sent (what the
        officer waits)."""
        sent = OutboundMessage.sent_at
        queued = _seconds_between(session, OutboundMessage.created_at, sent)
        answered = _seconds_between(session, InboundMessage.received_at, sent)
        yield _histogram(
            session,
            "relay_send_latency_seconds",
            "Seconds from a reply queued to the provider accepting it, by channel",
            select(OutboundMessage.channel, queued.label("s")).where(
                OutboundMessage.status == "sent", sent.is_not(None)
            ),
        )
        yield _histogram(
            session,
            "relay_reply_latency_seconds",
            "Seconds from an officer's message received to the reply sent, by channel",
            select(OutboundMessage.channel, answered.label("s"))
            .join(InboundMessage, InboundMessage.id == OutboundMessage.inbound_id)
            .where(OutboundMessage.status == "sent", sent.is_not(None)),
        )

    def _stuck(self, session: Session, now: datetime) -> Metric:
        before = now - STUCK_AFTER
        inbound = session.scalar(
            select(func.count()).where(
                InboundMessage.status.in_(INBOUND_PENDING), InboundMessage.received_at < before
            )
        )
        outbound = session.scalar(
            select(func.count()).where(
                OutboundMessage.status == "queued", OutboundMessage.created_at < before
            )
        )
        failed = session.scalar(
            select(func.count()).where(InboundMessage.status == "failed")
        )
        stuck = GaugeMetricFamily(
            "relay_stuck_messages",
            "Messages waiting longer than 5 minutes (inbound not processed, outbound not sent), "
            "and inbound messages whose jobs kept failing (needs_attention)",
            labels=["state"],
        )
        stuck.add_metric(["inbound_waiting"], inbound or 0)
        stuck.add_metric(["outbound_waiting"], outbound or 0)
        stuck.add_metric(["needs_attention"], failed or 0)
        return stuck

    def _tallies(self, session: Session) -> Iterator[Metric]:
        tallies = GaugeMetricFamily(
            "relay_tallies",
            "Tallies (not training) by contest, status, reason and source (text or photo)",
            labels=["contest", "status", "reason", "source"],
        )
        rows = session.execute(
            select(
                Submission.contest_code,
                Submission.status,
                Submission.reason,
                Submission.source,
                func.count(),
            )
            .where(Submission.training.is_(False))
            .group_by(
                Submission.contest_code, Submission.status, Submission.reason, Submission.source
            )
        ).all()
        for contest, status, reason, source, count in rows:
            tallies.add_metric([contest, status, reason or "", source], count)
        yield tallies
        review = GaugeMetricFamily(
            "relay_review_items_open", "Review items waiting for a human, by kind", labels=["kind"]
        )
        for kind, count in session.execute(
            select(ReviewItem.kind, func.count())
            .where(ReviewItem.status == "open")
            .group_by(ReviewItem.kind)
        ):
            review.add_metric([kind], count)
        yield review

    def _redis_metrics(self, now: datetime) -> Iterator[Metric]:
        depth = GaugeMetricFamily("relay_queue_depth", "Jobs waiting, by queue", labels=["queue"])
        age = GaugeMetricFamily(
            "relay_queue_oldest_job_age_seconds",
            "Seconds the oldest waiting job has waited, by queue (0 when empty)",
            labels=["queue"],
        )
        up = GaugeMetricFamily("relay_redis_up", "1 when Redis answered this scrape")
        try:
            pipe = self.redis.pipeline(transaction=False)
            for name in self.queues:
                pipe.llen(f"rq:queue:{name}")
                pipe.lindex(f"rq:queue:{name}", 0)
            answers = pipe.execute()
            heads = answers[1::2]
            pipe = self.redis.pipeline(transaction=False)
            for head in heads:
                pipe.hget(f"rq:job:{head.decode()}", "enqueued_at") if head else pipe.echo("")
            enqueued = pipe.execute()
            events = self.redis.pipeline(transaction=False)
            for event in EVENTS:
                events.hgetall(EVENTS_KEY.format(event=event))
            event_counts = events.execute()
        except (RedisError, OSError) as exc:
            log.warning("metrics: Redis did not answer: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for name, length, when in zip(self.queues, answers[0::2], enqueued, strict=True):
            depth.add_metric([name], length)
            age.add_metric([name], _age(when, now) if length else 0.0)
        yield depth
        yield age
        for (metric, documentation), counts in zip(EVENTS.values(), event_counts, strict=True):
            family = CounterMetricFamily(metric, documentation, labels=["kind"])
            for label, count in sorted(counts.items()):
                family.add_metric([label.decode()], int(count))
            yield family


def _seconds_between(session: Session, start, end):  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return extract("epoch", end - start)


def _histogram(session: Session, name: str, documentation: str, rows_query) -> Metric:  # type: ignore[no-untyped-def]
    """Cumulative buckets counted by the database (one pass, no rows fetched)."""
    rows = rows_query.subquery()
    columns = [
        func.sum(case((rows.c.s <= bound, 1), else_=0)) for bound in LATENCY_BUCKETS
    ]
    result = session.execute(
        select(rows.c.channel, func.count(), func.coalesce(func.sum(rows.c.s), 0.0), *columns)
        .group_by(rows.c.channel)
    ).all()
    family = HistogramMetricFamily(name, documentation, labels=["channel"])
    for channel, count, total, *cumulative in result:
        buckets = [(repr(bound), int(n or 0)) for bound, n in zip(LATENCY_BUCKETS, cumulative,
                                                                   strict=True)]
        buckets.append(("+Inf", int(count)))
        family.add_metric([channel], buckets, float(total))
    return family


def _age(enqueued_at: bytes | None, now: datetime) -> float:
    """RQ writes `enqueued_at` as UTC ISO text (with or without a trailing Z)."""
    if not enqueued_at:
        return 0.0
    text = enqueued_at.decode().rstrip("Z")
    try:
        when = datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return 0.0
    return max((now - when).total_seconds(), 0.0)


class CachedExposition:
    """The text of the last scrape, reused for `seconds` (one computation at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at = -1e9
        self._text = b""

    def get(self, collector: Collector, seconds: float) -> bytes:
        with self._lock:
            if time.monotonic() - self._at >= seconds:
                registry = CollectorRegistry(auto_describe=False)
                registry.register(collector)
                self._text = generate_latest(registry)
                self._at = time.monotonic()
            return self._text
