"""The send path's transport (channels.twilio_http.PooledHttpClient) under the real twilio
client says to Twilio exactly what the client's own requests-based TwilioHttpClient says, and
reads its answers the same way (checked side by side against the fake Twilio)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from channels.twilio_http import PooledHttpClient
from tests.fakes.http_fake import RecordedRequest
from tests.fakes.twilio_server import FakeTwilio

SID = "AC" + "0" * 31 + "7"
TOKEN = "transport-token"
FROM = "whatsapp:+14155238886"
# What a transport chooses on its own and Twilio ignores: the connection's framing.
TRANSPORT_HEADERS = {"host", "connection", "content-length", "accept-encoding"}


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, TOKEN) as fake:
        yield fake


def _clients(url: str) -> tuple[Client, Client]:
    """(the twilio library's own transport, ours), both pointed at `url`."""
    stock = Client(SID, TOKEN, http_client=TwilioHttpClient(timeout=5))
    stock.api.base_url = url
    return stock, Client(SID, TOKEN, http_client=PooledHttpClient(url, timeout=5))


def _as_sent(request: RecordedRequest) -> tuple[Any, ...]:
    headers = {k.lower(): v for k, v in request.headers.items()}
    kept = {k: v for k, v in headers.items() if k not in TRANSPORT_HEADERS}
    return request.method, request.path, request.query, kept, request.body


def test_same_request_bytes_as_the_twilio_clients_own_transport(twilio: FakeTwilio) -> None:
    stock, pooled = _clients(twilio.url)
    fields = {
        "to": "whatsapp:+6281234567890",
        "from_": FROM,
        "body": "PPWP TPS 3576011001002 diterima: 01=120 02=98 SAH=218 TS=4 · ✓ ñ & =",
        "status_callback": "https://relay.example/webhooks/twilio/status",
        "media_url": ["https://relay.example/m/a.jpg?x=1&y=2", "https://relay.example/m/b.jpg"],
    }
    made = [client.messages.create(**fields) for client in (stock, pooled)]
    first, second = twilio.requests
    assert _as_sent(first) == _as_sent(second)
    assert first.header("Authorization", "").startswith("Basic ")
    assert first.form is not None and first.form["MediaUrl"] == fields["media_url"]
    assert [m.status for m in made] == ["queued", "queued"] and made[1].sid.startswith("MM")
    assert made[0].date_created is not None and made[1].date_created is not None


def test_template_variables_and_a_get_with_a_query(twilio: FakeTwilio) -> None:
    stock, pooled = _clients(twilio.url)
    twilio.add_content_template("HX" + "1" * 32, "Kode {{1}}")
    for client in (stock, pooled):
        client.messages.create(
            to="whatsapp:+6281234567891",
            from_=FROM,
            content_sid="HX" + "1" * 32,
            content_variables='{"1": "kode ABC123"}',
        )
        with pytest.raises(TwilioException):  # the fake lists nothing: its 405 read alike
            client.messages.list(to="+6281234567891", limit=2)
    sent = [_as_sent(request) for request in twilio.requests]
    assert sent[0] == sent[2] and sent[1] == sent[3]
    assert sent[1][0] == "GET" and sent[1][2]["To"] == ["+6281234567891"]


def test_errors_read_the_same_and_retry_after_is_kept(twilio: FakeTwilio) -> None:
    stock, pooled = _clients(twilio.url)
    caught = []
    for client in (stock, pooled):
        twilio.fail_next(
            1,
            429,
            {"code": 20429, "message": "Too Many Requests", "status": 429},
            headers={"Retry-After": "7"},
        )
        with pytest.raises(TwilioRestException) as raised:
            client.messages.create(to="+6281234567892", from_="+15005550006", body="x")
        caught.append((raised.value.status, raised.value.code, raised.value.msg))
        if client is pooled:  # channels.twilio reads a 429's wait from here
            assert isinstance(client.http_client, PooledHttpClient)
            assert client.http_client.last_headers["Retry-After"] == "7"
        with pytest.raises(TwilioRestException) as refused:  # the fake's "not a valid number"
            client.messages.create(to="+15005550001", from_="+15005550006", body="x")
        caught.append((refused.value.status, refused.value.code, refused.value.msg))
    assert caught[:2] == caught[2:]
    assert caught[0][:2] == (429, 20429) and caught[1][:2] == (400, 21211)


def test_one_pool_per_host_kept_across_sends(twilio: FakeTwilio) -> None:
    _, pooled = _clients(twilio.url)
    for i in range(3):
        pooled.messages.create(to=f"+62812345678{i:02d}", from_="+15005550006", body="x")
    http = pooled.http_client
    assert isinstance(http, PooledHttpClient)
    assert len(http.pool.pools) == 1 and len(twilio.sent_messages()) == 3


def test_the_environments_proxy_as_requests_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTPS_PROXY (with credentials in its URL) and NO_PROXY, as the requests transport
    honoured them: the same proxy, the same Proxy-Authorization, bypassed where NO_PROXY says."""
    import urllib3
    from requests.adapters import HTTPAdapter

    proxy = "http://relay%40ops:s%3Acret@127.0.0.1:3128"
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    pool = PooledHttpClient("https://api.twilio.com").pool
    assert isinstance(pool, urllib3.ProxyManager) and pool.proxy is not None
    assert pool.proxy.host == "127.0.0.1" and pool.proxy.port == 3128
    assert pool.proxy_headers == HTTPAdapter().proxy_headers(proxy)
    monkeypatch.setenv("NO_PROXY", "api.twilio.com")
    assert not isinstance(PooledHttpClient("https://api.twilio.com").pool, urllib3.ProxyManager)


def test_a_media_download_honours_the_environments_proxy(
    twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The photo download reads the proxy from the environment once per origin (not per
    photo), and still goes through it: here the proxy is the fake Twilio itself, and the
    media URL's host exists nowhere else."""
    from channels.http_media import download

    jpeg = b"\xff\xd8\xff\xe0" + b"0" * 100
    url = twilio.add_media(jpeg, "image/jpeg").replace(
        twilio.url, "http://media-through-proxy.invalid"
    )
    monkeypatch.setenv("HTTP_PROXY", twilio.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    for _ in range(2):
        media = download(url, 1 << 20, auth=(SID, TOKEN))
        assert (media.content, media.content_type) == (jpeg, "image/jpeg")
    [first, second] = twilio.requests
    assert first.path == second.path == url.removeprefix("http://media-through-proxy.invalid")
