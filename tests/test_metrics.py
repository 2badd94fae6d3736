"""GET /metrics on the real pipeline: signed Twilio SMS → store → real RQ worker → reply sent
to the fake Twilio; the figures Prometheus reads come from the record (database and Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from relay.db import session_scope
from relay.models import InboundMessage
from tests.support import drain, post_twilio_sms

OFFICER = "+6281234567801"
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
WRONG_SUM = "PPWP 3576011001003 01=50 02=100 03=30 SAH=181 TS=3"  # 180 ≠ SAH 181


@pytest.fixture(autouse=True)
def fresh_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METRICS_CACHE_SECONDS", "0")


def scrape(client, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.data
    assert response.content_type.startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_follow_messages_through_the_pipeline(client, redis_conn, twilio) -> None:
    assert post_twilio_sms(client, OFFICER, TALLY).status_code == 200
    assert post_twilio_sms(client, "+6281234567803", WRONG_SUM).status_code == 200

    waiting = scrape(client)
    assert value(waiting, "relay_redis_up") == 1
    assert value(waiting, "relay_queue_depth", queue="inbound") == 2
    assert value(waiting, "relay_queue_oldest_job_age_seconds", queue="inbound") >= 0
    assert value(waiting, "relay_inbound_messages_total", channel="twilio") == 2
    assert value(waiting, "relay_inbound_messages_by_status", channel="twilio",
                 status="received") == 2

    drain(redis_conn)
    done = scrape(client)
    assert value(done, "relay_queue_depth", queue="inbound") == 0
    assert value(done, "relay_queue_oldest_job_age_seconds", queue="inbound") == 0
    assert value(done, "relay_inbound_messages_by_status", channel="twilio",
                 status="processed") == 2
    sent = value(done, "relay_outbound_messages_by_status", channel="twilio", status="sent")
    assert sent == 2 == len(twilio.sent_messages())
    # Every reply sent is in both latency histograms, and within the last bucket.
    for histogram in ("relay_send_latency_seconds", "relay_reply_latency_seconds"):
        assert value(done, f"{histogram}_count", channel="twilio") == sent
        assert value(done, f"{histogram}_bucket", channel="twilio", le="+Inf") == sent
        assert value(done, f"{histogram}_bucket", channel="twilio", le="1800.0") == sent
        assert value(done, f"{histogram}_sum", channel="twilio") >= 0
    # The refused tally named its rule; the good one waits for YA.
    rules = {
        labels: count for (name, labels), count in done.items()
        if name == "relay_rule_failures_total"
    }
    assert sum(rules.values()) == 1, rules
    assert value(done, "relay_tallies", contest="PPWP", status="pending", reason="",
                 source="text") == 1
    assert value(done, "relay_stuck_messages", state="inbound_waiting") == 0


def test_metrics_count_messages_stuck_past_five_minutes(client, redis_conn) -> None:
    with session_scope() as session:
        session.add(
            InboundMessage(
                channel="twilio",
                provider_id="SM-stuck",
                sender=OFFICER,
                text=TALLY,
                payload="{}",
                received_at=datetime.now(UTC) - timedelta(minutes=10),
            )
        )
        session.add(
            InboundMessage(channel="twilio", provider_id="SM-new", sender=OFFICER, text="YA",
                           payload="{}")
        )
    samples = scrape(client)
    assert value(samples, "relay_stuck_messages", state="inbound_waiting") == 1
    assert value(samples, "relay_inbound_messages_total", channel="twilio") == 2


def test_metrics_token_is_asked_for_when_set(client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METRICS_TOKEN", "s3cret-scraper")
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    samples = scrape(client, Authorization="Bearer s3cret-scraper")
    assert value(samples, "relay_redis_up") == 1


def test_metrics_without_redis_still_give_the_database_figures(
    client, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert post_twilio_sms(client, OFFICER, TALLY).status_code == 200
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    samples = scrape(client)
    assert value(samples, "relay_redis_up") == 0
    assert value(samples, "relay_inbound_messages_total", channel="twilio") == 1


def test_metrics_count_photo_outcomes(client, redis_conn, telegram, media_dir) -> None:
    from tests.test_photo_flow import send_photo

    send_photo(client, redis_conn, telegram, "ppwp_clean.jpg", 9300)
    send_photo(client, redis_conn, telegram, "ppwp_blurred.jpg", 9310)
    samples = scrape(client)
    outcomes = {
        dict(labels)["kind"]: count for (name, labels), count in samples.items()
        if name == "relay_ocr_outcomes_total"
    }
    assert outcomes["read"] == 1
    assert sum(outcomes.values()) == 2 and len(outcomes) == 2, outcomes
    assert value(samples, "relay_tallies", contest="PPWP", status="pending", reason="",
                 source="photo") == 1
