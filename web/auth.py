"""Who is logged in to the console: the session token lives in the signed session cookie,
the session itself (expiry, logout) in the database (relay.operators)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import current_app, g, jsonify, redirect, request, session, url_for

from relay import operators
from relay.db import session_scope
from relay.operators import ActiveSession

SESSION_KEY = "console"
PASSWORD_ENDPOINTS = frozenset({"console.password", "console.logout"})


def current_operator() -> ActiveSession | None:
    if "operator" not in g:
        token = session.get(SESSION_KEY) or ""
        active = None
        if token:
            with session_scope() as db:
                active = operators.load_session(db, str(token))
            if active is None:
                session.pop(SESSION_KEY, None)
        g.operator = active
    return g.operator


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
TRUSTED_PROXIES_KEY = "RELAY_TRUSTED_PROXIES"


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """`TRUSTED_PROXIES` entries (addresses or CIDRs) as networks; a bad entry is an error."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR") from None
    return tuple(networks)


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str, forwarded_for: str, proxies: tuple[Network, ...]) -> str:
    """The client's address: the direct peer, unless the peer is a trusted proxy; then the
    right-most X-Forwarded-For entry that is not a trusted proxy (entries further left were
    written by the client and prove nothing)."""
    if not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


def client_ip() -> str:
    """The address login throttling counts: X-Forwarded-For only via `TRUSTED_PROXIES`."""
    proxies = current_app.config.get(TRUSTED_PROXIES_KEY, ())
    peer = request.remote_addr or "unknown"
    return client_address(peer, request.headers.get("X-Forwarded-For", ""), proxies)[:64]


def login_required(json: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Pages redirect to the login form; JSON endpoints answer 401."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            active = current_operator()
            if active is None:
                if json:
                    return jsonify(error="login required"), 401
                return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
            if active.must_change_password and request.endpoint not in PASSWORD_ENDPOINTS:
                if json:
                    return jsonify(error="password change required"), 403
                return redirect(url_for("console.password"))
            return view(*args, **kwargs)

        return wrapper

    return decorate
