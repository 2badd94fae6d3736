"""The transport under the real `twilio` client: its HttpClient hook, on urllib3 directly.

The twilio library still builds every request (URL, form fields, headers, HTTP Basic
credentials) and reads every answer (TwilioRestException from an error's JSON): only the
last step, putting the bytes on the wire, is done here instead of by `requests`. requests
prepared each send anew (hooks, cookies, the environment's settings, a merge of four header
dicts) for ~45% of a send's CPU; it runs on urllib3, which this calls the same way: a pool
kept per process, TLS verified against the same CA bundle, the same proxy from the
environment, no retries and no redirects (as TwilioHttpClient), the body form-encoded as
requests encodes it.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import certifi
import urllib3
from requests.utils import get_auth_from_url, get_environ_proxies
from twilio.http import HttpClient
from twilio.http.response import Response

_logger = logging.getLogger("twilio.http_client")
FORM = "application/x-www-form-urlencoded"


class PooledHttpClient(HttpClient):
    """Sends every Twilio request to `base_url` (api.twilio.com, a regional edge, a proxy or a
    test server) and keeps the last response's headers, so a 429's Retry-After is not lost.
    Network failures raise urllib3's exceptions (urllib3.exceptions.HTTPError)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(_logger, False, timeout)
        self._base = urlsplit(base_url)
        self.last_headers: dict[str, str] = {}
        # What requests would read from the environment for this URL (HTTPS_PROXY, NO_PROXY,
        # REQUESTS_CA_BUNDLE), read once.
        proxies = get_environ_proxies(base_url)
        proxy = proxies.get(self._base.scheme) or proxies.get("all")
        environ = os.environ
        ca_bundle = (
            environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or certifi.where()
        )
        pool_args: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED", "ca_certs": ca_bundle}
        if proxy:  # credentials in the proxy's URL go as requests sends them
            username, password = get_auth_from_url(proxy)
            if username:
                pool_args["proxy_headers"] = {"Proxy-Authorization": basic_auth(username, password)}
            self.pool: urllib3.PoolManager = urllib3.ProxyManager(proxy, **pool_args)
        else:
            self.pool = urllib3.PoolManager(**pool_args)

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        parts = urlsplit(url)
        query = parts.query
        if params:
            query = "&".join(filter(None, (query, form_encoded(params))))
        target = urlunsplit((self._base.scheme, self._base.netloc, parts.path, query, ""))
        sent = dict(headers or {})
        body: bytes | None = None
        content_type = sent.get("Content-Type", "")
        if content_type in ("application/json", "application/scim+json"):
            if data is not None:
                body = json.dumps(data).encode("utf-8")
        elif data:
            body = form_encoded(data).encode("ascii")
            sent.setdefault("Content-Type", FORM)
        if auth is not None:
            sent["Authorization"] = basic_auth(*auth)
        sent.setdefault("Accept-Encoding", "gzip, deflate")
        read = timeout if timeout is not None else self.timeout
        response = self.pool.request(
            method.upper(),
            target,
            body=body,
            headers=sent,
            timeout=urllib3.Timeout(connect=read, read=read),  # as requests applies one number
            retries=False,
            redirect=allow_redirects,
        )
        self.last_headers = dict(response.headers)
        charset = _charset(response.headers.get("Content-Type", ""))
        text = response.data.decode(charset, "replace")
        return Response(response.status, text, self.last_headers)


def form_encoded(data: dict[str, object]) -> str:
    """As requests encodes a dict body: a list value repeats its key, None is left out."""
    pairs = []
    for key, value in data.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is not None:
                pairs.append((key, item))
    return urlencode(pairs)


def basic_auth(username: str, password: str) -> str:
    """The Authorization header of HTTP Basic, as requests makes it (latin-1 credentials)."""
    raw = f"{username}:{password}".encode("latin-1")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip("\"'")
    return "utf-8"
