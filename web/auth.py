"""Who is logged in to the console: the session token lives in the signed session cookie,
the session itself (expiry, logout) in the database (relay.operators)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, jsonify, redirect, request, session, url_for

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


def client_ip() -> str:
    return (request.remote_addr or "unknown")[:64]


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
