"""What every page shares: base template and static files, language, CSRF, security headers.

- Jinja autoescapes every template (all are .html); no template marks anything `safe`.
- The Content-Security-Policy allows scripts and styles only from our own files, so an
  injected `<script>` or inline handler would not run even if escaping ever failed.
- CSRF: a random token in the signed, HttpOnly, SameSite=Lax session cookie; every POST
  of the console and the simulator must echo it (form field `csrf_token` or header
  `X-CSRF-Token`), compared in constant time.
- Console and simulator responses are `Cache-Control: no-store` (officers' numbers, tickets);
  a request that came over HTTPS (directly, or X-Forwarded-Proto from the reverse proxy) gets
  `Strict-Transport-Security`, so the browser never again tries the console over http.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Request, abort, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.typing import ResponseReturnValue

from relay import media
from relay.models import as_utc
from web.i18n import LANGUAGES, current_language, t
from web.rule_words import rule_words

blueprint = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
)

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
WIB = timezone(timedelta(hours=7), "WIB")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


def content_security_policy() -> str:
    """CSP, letting images also come from the photo store when its signed links point there
    (S3: the photo routes redirect to presigned URLs)."""
    origin = media.link_origin()
    return CSP.replace("img-src 'self' data:", f"img-src 'self' data: {origin}") if origin else CSP


class _SessionInterface(SecureCookieSessionInterface):
    """Mark the cookie Secure whenever the request came over HTTPS (ProxyFix tells)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Without a cookie (every webhook) there is nothing to verify: skip building the
        # signing serializer, a tenth of a webhook's time in Flask.
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def new_csrf_token(value: str | None = None) -> None:
    session["csrf"] = value or secrets.token_urlsafe(32)


def check_csrf() -> None:
    """Abort with 400 unless the request echoes this browser's CSRF token."""
    expected = session.get("csrf")
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not expected or not hmac.compare_digest(str(expected), str(given)):
        abort(400, description="missing or wrong CSRF token")


def safe_next(target: str | None, default: str) -> str:
    """Only redirect to a path on this site (no scheme, no host)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def local_time(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    return as_utc(moment).astimezone(WIB).strftime("%Y-%m-%d %H:%M WIB")


def waiting_for(since: datetime | None) -> str:
    """`menunggu 12 mnt` / `waiting 1 h 05 min`: how long an officer has waited, in words."""
    from web.console.ticket_filters import waited
    from web.i18n import t

    spent = waited(since)
    if spent is None:
        return ""
    hours, minutes = spent
    if hours:
        return t("waiting_hours", h=hours, m=f"{minutes:02d}")
    return t("waiting_minutes", m=minutes)


def number(value: Any) -> str:
    """Thousands separated for the page's language: 1.234.567 (id), 1,234,567 (en)."""
    try:
        text = f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)
    return text.replace(",", ".") if current_language() == "id" else text


def percent(value: Any, digits: int = 2) -> str:
    """A share for the page's language, without the sign: 39,74 (id), 39.74 (en)."""
    try:
        text = f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)
    if current_language() == "id":  # 1,234.5 → 1.234,5
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


HSTS = "max-age=31536000"
PRIVATE_PREFIXES = ("/console", "/simulator")


def _security_headers(response):  # type: ignore[no-untyped-def]
    headers = response.headers
    if request.is_secure:  # browsers ignore it over http; behind a proxy, X-Forwarded-Proto
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.path.startswith(PRIVATE_PREFIXES):
        # Operators' pages hold officers' numbers and tickets: no browser or proxy keeps them.
        headers["Cache-Control"] = "no-store"
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    return response


def configure(app: Flask) -> None:
    app.session_interface = _SessionInterface()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="relay_session",
    )
    app.jinja_env.autoescape = True
    app.jinja_env.globals.update(
        t=t,
        csrf_token=csrf_token,
        current_language=current_language,
        languages=LANGUAGES,
        local_time=local_time,
        waiting_for=waiting_for,
        number=number,
        percent=percent,
        rule_words=rule_words,
    )
    app.jinja_env.filters["rule_words"] = rule_words
    app.after_request(_security_headers)

    @app.context_processor
    def _operator() -> dict[str, Any]:
        from relay.config import load_settings
        from web.auth import current_operator

        return {
            "operator": current_operator(),
            "refresh_seconds": load_settings().public_refresh_seconds,
        }


@blueprint.get("/lang/<code>")
def set_language(code: str) -> ResponseReturnValue:
    if code not in LANGUAGES:
        abort(404)
    response = redirect(safe_next(request.args.get("next"), url_for("dashboard.index")))
    response.set_cookie(
        "lang",
        code,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response
