"""Helpers for the console, dashboard and help-desk tests: operators, login, CSRF tokens."""

from __future__ import annotations

import re

from relay import operators
from relay.db import session_scope
from relay.models import Operator

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_operator(name: str = "ani", password: str = PASSWORD) -> None:
    """An operator who has already replaced the one-time password with `password`."""
    with session_scope() as session:
        operator, _ = operators.add(session, name)
        operators.set_password(session, operator, password)


def csrf_from(html: str | bytes) -> str:
    text = html.decode() if isinstance(html, bytes) else html
    match = _CSRF.search(text)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client, name: str = "ani", password: str = PASSWORD):
    page = client.get("/console/login")
    return client.post(
        "/console/login",
        data={"name": name, "password": password, "csrf_token": csrf_from(page.data)},
    )


def logged_in(client, name: str = "ani"):
    make_operator(name)
    response = login(client, name)
    assert response.status_code == 302, response.data
    return client


def post_form(client, url: str, data: dict[str, str], page: str | None = None):
    """POST like the browser does: with the CSRF token of a page of the same session."""
    token = csrf_from(client.get(page or "/console/").data)
    return client.post(url, data={**data, "csrf_token": token})


def operator_row(name: str) -> Operator:
    from sqlalchemy import select

    with session_scope() as session:
        return session.scalars(select(Operator).where(Operator.name == name)).one()
