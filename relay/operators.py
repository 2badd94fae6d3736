"""Console operators: accounts with hashed passwords, server-side sessions, login throttling.

A session cookie carries a random token; the database keeps only its SHA-256, so a leaked
table does not leak usable sessions. Sessions end after `ABSOLUTE_LIFETIME` whatever
happens, and after `IDLE_LIFETIME` without a request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from relay.audit import record
from relay.models import LoginFailure, Operator, OperatorSession

ABSOLUTE_LIFETIME = timedelta(hours=8)
IDLE_LIFETIME = timedelta(hours=1)
TOUCH_EVERY = timedelta(minutes=1)  # write last_seen_at at most this often
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_IP = 20
MAX_FAILURES_PER_NAME = 5
MIN_PASSWORD_LENGTH = 10
_dummy_hash: list[str] = []


class OperatorExists(ValueError):
    pass


class UnknownOperator(LookupError):
    pass


class WeakPassword(ValueError):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _dummy() -> str:
    """Checked when the name is unknown, so a wrong name costs as much as a wrong password."""
    if not _dummy_hash:
        _dummy_hash.append(generate_password_hash("not-a-real-password"))
    return _dummy_hash[0]


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def one_time_password() -> str:
    return secrets.token_urlsafe(12)


def add(session: Session, name: str) -> tuple[Operator, str]:
    """Create an operator; returns it and the one-time password to hand over."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("an operator name has 1 to 100 characters")
    if session.scalar(select(Operator).where(Operator.name == name)) is not None:
        raise OperatorExists(name)
    password = one_time_password()
    operator = Operator(name=name, password_hash=generate_password_hash(password))
    session.add(operator)
    session.flush()
    record(session, "cli", "operator_added", "operator", operator.id, {"name": name})
    return operator, password


def reset(session: Session, name: str) -> str:
    """A new one-time password for `name`; ends the operator's sessions."""
    operator = session.scalar(select(Operator).where(Operator.name == name))
    if operator is None:
        raise UnknownOperator(name)
    password = one_time_password()
    operator.password_hash = generate_password_hash(password)
    operator.must_change_password = True
    operator.active = True
    session.execute(delete(OperatorSession).where(OperatorSession.operator_id == operator.id))
    record(session, "cli", "operator_reset", "operator", operator.id, {"name": name})
    return password


def set_password(session: Session, operator: Operator, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"at least {MIN_PASSWORD_LENGTH} characters")
    if check_password_hash(operator.password_hash, password):
        raise WeakPassword("the new password must differ from the one-time password")
    operator.password_hash = generate_password_hash(password)
    operator.must_change_password = False
    record(session, f"operator:{operator.name}", "password_changed", "operator", operator.id)


def throttled(session: Session, ip: str, name: str) -> bool:
    """True when this address or this name failed too often lately."""
    since = _now() - FAILURE_WINDOW
    by_ip = session.scalar(
        select(func.count()).where(LoginFailure.ip == ip, LoginFailure.at >= since)
    )
    by_name = session.scalar(
        select(func.count()).where(LoginFailure.name == name[:100], LoginFailure.at >= since)
    )
    return (by_ip or 0) >= MAX_FAILURES_PER_IP or (by_name or 0) >= MAX_FAILURES_PER_NAME


def authenticate(session: Session, name: str, password: str, ip: str) -> Operator | None:
    """The active operator with this name and password, or None (and the failure counted)."""
    operator = session.scalar(select(Operator).where(Operator.name == name.strip()))
    valid = check_password_hash(operator.password_hash if operator else _dummy(), password)
    if operator is None or not valid or not operator.active:
        session.add(LoginFailure(ip=ip[:64], name=name.strip()[:100]))
        session.execute(delete(LoginFailure).where(LoginFailure.at < _now() - FAILURE_WINDOW))
        return None
    operator.last_login_at = _now()
    return operator


@dataclass(frozen=True)
class ActiveSession:
    operator_id: int
    operator_name: str
    must_change_password: bool
    csrf_token: str
    session_id: str


def open_session(session: Session, operator: Operator, ip: str) -> str:
    """Start a console session; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        OperatorSession(
            id=_hash_token(token),
            operator_id=operator.id,
            csrf_token=secrets.token_urlsafe(32),
            ip=ip[:64],
        )
    )
    record(session, f"operator:{operator.name}", "login", "operator", operator.id, {"ip": ip})
    return token


def load_session(session: Session, token: str) -> ActiveSession | None:
    """The live session for a cookie token; expired ones are deleted."""
    if not token:
        return None
    row = session.get(OperatorSession, _hash_token(token))
    if row is None:
        return None
    now = _now()
    operator = session.get(Operator, row.operator_id)
    expired = (
        now - _aware(row.created_at) > ABSOLUTE_LIFETIME
        or now - _aware(row.last_seen_at) > IDLE_LIFETIME
    )
    if expired or operator is None or not operator.active:
        session.delete(row)
        return None
    if now - _aware(row.last_seen_at) > TOUCH_EVERY:
        row.last_seen_at = now
    return ActiveSession(
        operator.id, operator.name, operator.must_change_password, row.csrf_token, row.id
    )


def close_session(session: Session, token: str) -> None:
    session.execute(delete(OperatorSession).where(OperatorSession.id == _hash_token(token)))


def close_expired(session: Session) -> int:
    """Delete sessions past either lifetime (called now and then, e.g. at login)."""
    now = _now()
    result = session.execute(
        delete(OperatorSession).where(
            (OperatorSession.created_at < now - ABSOLUTE_LIFETIME)
            | (OperatorSession.last_seen_at < now - IDLE_LIFETIME)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
