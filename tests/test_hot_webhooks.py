"""webhooks.hot: the providers' ordinary deliveries served in front of Flask give Flask's own
answers, store and enqueue as the Flask route does, and hand everything else to Flask.

Each answer is compared with the one the Flask app alone gives (the same app, HotWebhooks
left out) for the same kind of request: status, every header, body."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from flask import request_started
from sqlalchemy import func, select
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import Client

from jobs.queues import INBOUND
from relay.db import session_scope
from relay.models import InboundMessage
from tests.conftest import PUBLIC_URL, TELEGRAM_SECRET, TWILIO_SID, TWILIO_SMS_NUMBER, TWILIO_TOKEN
from tests.fakes import telegram_updates as tu
from tests.fakes.twilio_signing import realistic_sms_payload, sign
from tests.support import make_database_unreachable
from webhooks.hot import HOT_MAX_BYTES, HotWebhooks, parse_form

OFFICER = "+6281234567801"
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
TWILIO_URL = PUBLIC_URL + "/webhooks/twilio"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _hot(client) -> HotWebhooks:
    hot = client.application.wsgi_app.app  # ProxyFix(HotWebhooks(Flask's wsgi_app))
    assert isinstance(hot, HotWebhooks)
    return hot


def _flask_only(client) -> Client:
    """The same app without HotWebhooks: ProxyFix straight in front of Flask."""
    flask_wsgi = _hot(client).flask_wsgi
    return Client(ProxyFix(flask_wsgi, x_for=0, x_proto=1, x_host=1, x_port=1))


@contextmanager
def flask_requests(client) -> Iterator[list[str]]:
    """The paths Flask itself served while the block ran."""
    seen: list[str] = []

    def started(_app, **_extra) -> None:
        from flask import request

        seen.append(request.path)

    request_started.connect(started, client.application)
    try:
        yield seen
    finally:
        request_started.disconnect(started, client.application)


def _answer(response) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status_code, sorted(response.headers.items()), response.get_data()


def _count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(InboundMessage)) or 0


def _twilio(form: dict[str, str], url: str = TWILIO_URL, **headers: str) -> dict:
    return {
        "data": form,
        "headers": {"X-Twilio-Signature": sign(TWILIO_TOKEN, url, form), **headers},
    }


def _sms(sid: str, body: str = TALLY, sender: str = OFFICER) -> dict[str, str]:
    return realistic_sms_payload(sender, TWILIO_SMS_NUMBER, body, TWILIO_SID, sid)


# --- the hot path: Flask's answers, without Flask ---------------------------------------------


@pytest.mark.parametrize("proto", [None, "https"])
def test_a_twilio_delivery_is_answered_as_flask_answers_it(client, redis_conn, proto) -> None:
    extra = {"X-Forwarded-Proto": proto} if proto else {}
    flask_only = _flask_only(client)
    with flask_requests(client) as seen:
        hot = client.post("/webhooks/twilio", **_twilio(_sms("SM" + "1" * 32), **extra))
    assert seen == []  # Flask never saw it
    plain = flask_only.post("/webhooks/twilio", **_twilio(_sms("SM" + "2" * 32), **extra))
    assert _answer(hot) == _answer(plain)
    assert hot.status_code == 200 and hot.headers["Content-Type"] == "text/xml"
    assert ("Strict-Transport-Security" in hot.headers) == (proto == "https")
    assert _count() == 2
    queued = redis_conn.lrange(f"rq:queue:{INBOUND}", 0, -1)
    assert len(queued) == 2


def test_a_whatsapp_delivery_and_a_redelivery_are_stored_once(client, redis_conn) -> None:
    form = _sms("SM" + "3" * 32, sender="whatsapp:" + OFFICER)
    with flask_requests(client) as seen:
        first = client.post("/webhooks/twilio", **_twilio(form))
        again = client.post("/webhooks/twilio", **_twilio(form))
    assert seen == []
    assert _answer(first) == _answer(again)
    with session_scope() as session:
        [stored] = session.scalars(select(InboundMessage)).all()
        assert (stored.channel, stored.sender, stored.text) == ("whatsapp", OFFICER, TALLY)
        assert json.loads(stored.payload) == {k: [v] for k, v in form.items()}
    assert redis_conn.llen(f"rq:queue:{INBOUND}") == 1


def test_a_telegram_update_is_answered_as_flask_answers_it(client, telegram) -> None:
    flask_only = _flask_only(client)
    headers = {SECRET_HEADER: TELEGRAM_SECRET}
    with flask_requests(client) as seen:
        hot = client.post(
            "/webhooks/telegram", json=tu.text_update(801, 5001, "halo"), headers=headers
        )
    assert seen == []
    plain = flask_only.post(
        "/webhooks/telegram", json=tu.text_update(802, 5001, "halo"), headers=headers
    )
    assert _answer(hot) == _answer(plain)
    assert hot.status_code == 200
    assert _count() == 2


def test_storage_unavailable_is_flasks_503(
    client, db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flask_only = _flask_only(client)
    make_database_unreachable(db, tmp_path, monkeypatch)
    with flask_requests(client) as seen:
        hot = client.post("/webhooks/twilio", **_twilio(_sms("SM" + "4" * 32)))
    assert seen == []
    plain = flask_only.post("/webhooks/twilio", **_twilio(_sms("SM" + "4" * 32)))
    assert hot.status_code == 503
    assert _answer(hot) == _answer(plain)
    monkeypatch.setenv("DATABASE_URL", db)
    assert _count() == 0


# --- everything else: Flask, as before ---------------------------------------------------------


def _both(client, method: str, path: str, **kwargs) -> tuple[tuple, list[str]]:
    """The answer through the app as served (and the paths Flask saw), checked equal to
    the Flask app's own answer to the same request."""
    with flask_requests(client) as seen:
        served = _answer(client.open(path, method=method, **kwargs))
    assert served == _answer(_flask_only(client).open(path, method=method, **kwargs))
    return served, seen


def test_refused_and_odd_requests_are_flasks_to_answer(client, telegram) -> None:
    form = _sms("SM" + "5" * 32)
    good = _twilio(form)["headers"]
    tg = {SECRET_HEADER: TELEGRAM_SECRET}
    update = json.dumps(tu.text_update(803, 5001, "halo"))
    cases = [
        # (name, method, path, request, status)
        (
            "bad signature",
            "POST",
            "/webhooks/twilio",
            {"data": form, "headers": {"X-Twilio-Signature": "x"}},
            403,
        ),
        ("no signature", "POST", "/webhooks/twilio", {"data": form}, 403),
        (
            "signed for another query",
            "POST",
            "/webhooks/twilio?x=1",
            {"data": form, "headers": good},
            403,
        ),
        ("JSON to Twilio", "POST", "/webhooks/twilio", {"json": form, "headers": good}, 403),
        (
            "not UTF-8",
            "POST",
            "/webhooks/twilio",
            {
                "data": b"Body=\xff\xfe&From=x",
                "content_type": "application/x-www-form-urlencoded",
                "headers": good,
            },
            403,
        ),
        ("GET", "GET", "/webhooks/twilio", {}, 405),
        ("trailing slash", "POST", "/webhooks/twilio/", {"data": form, "headers": good}, 404),
        (
            "wrong secret",
            "POST",
            "/webhooks/telegram",
            {"data": update, "content_type": "application/json", "headers": {SECRET_HEADER: "no"}},
            403,
        ),
        (
            "text/plain update",
            "POST",
            "/webhooks/telegram",
            {"data": update, "content_type": "text/plain", "headers": tg},
            400,
        ),
        (
            "not JSON",
            "POST",
            "/webhooks/telegram",
            {"data": b"{nope", "content_type": "application/json", "headers": tg},
            400,
        ),
        (
            "JSON but no update",
            "POST",
            "/webhooks/telegram",
            {"data": b"[1]", "content_type": "application/json", "headers": tg},
            400,
        ),
        (
            "not UTF-8 JSON",
            "POST",
            "/webhooks/telegram",
            {
                "data": b'{"update_id": 1, "x": "\xff"}',
                "content_type": "application/json",
                "headers": tg,
            },
            400,
        ),
        ("unknown channel", "POST", "/webhooks/nope", {"data": form}, 404),
    ]
    for name, method, path, kwargs, status in cases:
        (served_status, _, _), _ = _both(client, method, path, **kwargs)
        assert served_status == status, name
    assert _count() == 0


def test_a_body_over_the_hot_limit_is_stored_through_flask(client, redis_conn) -> None:
    """Twilio never sends one, but a signed delivery bigger than HOT_MAX_BYTES is still a
    delivery: Flask (MAX_CONTENT_LENGTH 1 MiB) stores it."""
    form = _sms("SM" + "6" * 32, body="x" * (HOT_MAX_BYTES + 1))
    with flask_requests(client) as seen:
        answer = client.post("/webhooks/twilio", **_twilio(form))
    assert answer.status_code == 200 and seen == ["/webhooks/twilio"]
    assert _count() == 1


def test_a_body_shorter_than_announced_is_not_stored(client) -> None:
    form = urlencode(_sms("SM" + "7" * 32)).encode()
    environ_overrides = {"CONTENT_LENGTH": str(len(form) + 10)}
    answer = client.post(
        "/webhooks/twilio",
        data=form,
        content_type="application/x-www-form-urlencoded",
        headers=_twilio(_sms("SM" + "7" * 32))["headers"],
        environ_overrides=environ_overrides,
    )
    assert answer.status_code in (400, 403)
    assert _count() == 0


def test_other_paths_are_flasks(client) -> None:
    (status, _, _), seen = _both(client, "GET", "/healthz")
    assert status == 200 and seen == ["/healthz"]


# --- the form parser against werkzeug's (urllib's parse_qsl) ------------------------------------

ALPHABET = "ab=&+%2Bx%3D%26%zz%e2%82%ac%FF%f0 é€\u202e"


def test_parse_form_reads_every_body_as_werkzeug_does() -> None:
    rng = random.Random(13)
    bodies = [
        urlencode(_sms("SM" + "8" * 32, body="PPWP 01=1 & é€ 🗳️ %+")),
        "",
        "&&",
        "a",
        "a=",
        "=b",
        "a=1&a=2&b",
        *("".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 40))) for _ in range(3000)),
    ]
    import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" error handler)

    for body in bodies:
        expected: dict[str, list[str]] = {}
        for name, value in parse_qsl(body, keep_blank_values=True, errors="werkzeug.url_quote"):
            expected.setdefault(name, []).append(value)
        assert parse_form(body.encode()) == expected, body
