"""Console operators: accounts with hashed passwords and roles, server-side sessions, login
throttling.

A session cookie carries a random token; the database keeps only its SHA-256, so a leaked
table does not leak usable sessions. Sessions end after `ABSOLUTE_LIFETIME` whatever
happens, and after `IDLE_LIFETIME` without a request, and at once when the operator is
deactivated.

Guessing is slowed per (client address, name), never per name alone: an attacker failing
from other addresses cannot lock the rightful operator out of their own. After
`FREE_FAILURES` failures an address waits `BACKOFF_BASE` seconds before its next try for that
name, doubling with every further failure up to `MAX_BACKOFF`. When a name collects
`NAME_ALERT` failures from all addresses (guessing spread over many), every address that
has failed for it backs off from its first failure, starting at about a minute; an address
with no failures for the name is still let in at once. An address failing for many names
(`MAX_FAILURES_PER_IP`) backs off for all of them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from relay.audit import record
from relay.models import LoginFailure, Operator, OperatorSession, as_utc

ABSOLUTE_LIFETIME = timedelta(hours=8)
IDLE_LIFETIME = timedelta(hours=1)
TOUCH_EVERY = timedelta(minutes=1)  # write last_seen_at at most this often
FAILURE_WINDOW = timedelta(hours=1)  # failures older than this are forgotten
FREE_FAILURES = 3  # per address and name, before the backoff starts
BACKOFF_BASE = 2.0  # seconds; doubles with each further failure
MAX_BACKOFF = 15 * 60.0
NAME_ALERT = 10  # failures of one name from all addresses that end the free failures for it
ALERT_EXTRA = 5  # then the backoff starts this many doublings higher (about a minute)
MAX_FAILURES_PER_IP = 20  # an address failing for many names backs off for all of them
MIN_PASSWORD_LENGTH = 10
ROLES = ("operator", "supervisor", "admin")
APPROVER_ROLES = frozenset({"supervisor", "admin"})
_dummy_hash: list[str] = []


class OperatorExists(ValueError):
    pass


class UnknownOperator(LookupError):
    pass


class WeakPassword(ValueError):
    pass


class OperatorDeactivated(ValueError):
    """The operator was deactivated; only `operators activate` brings the account back."""


@dataclass(frozen=True)
class FailedLogins:
    """Failed logins for an operator's name since their previous login."""

    count: int
    last_at: datetime | None
    last_ip: str | None


def _now() -> datetime:
    return datetime.now(UTC)


def _dummy() -> str:
    """Checked when the name is unknown, so a wrong name costs as much as a wrong password."""
    if not _dummy_hash:
        _dummy_hash.append(generate_password_hash("not-a-real-password"))
    return _dummy_hash[0]


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def one_time_password() -> str:
    return secrets.token_urlsafe(12)


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"a role is one of {', '.join(ROLES)}")
    return role


def can_approve(role: str) -> bool:
    """Whether an operator of this role may approve another's change to a confirmed tally."""
    return role in APPROVER_ROLES


def by_name(session: Session, name: str) -> Operator:
    operator = session.scalar(select(Operator).where(Operator.name == name))
    if operator is None:
        raise UnknownOperator(name)
    return operator


def add(
    session: Session, name: str, role: str = "operator", actor: str = "cli"
) -> tuple[Operator, str]:
    """Create an operator; returns it and the one-time password to hand over."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValueError("an operator name has 1 to 100 characters")
    _check_role(role)
    if session.scalar(select(Operator).where(Operator.name == name)) is not None:
        raise OperatorExists(name)
    password = one_time_password()
    operator = Operator(name=name, password_hash=generate_password_hash(password), role=role)
    session.add(operator)
    session.flush()
    record(session, actor, "operator_added", "operator", operator.id, {"name": name, "role": role})
    return operator, password


def _end_sessions(session: Session, operator: Operator) -> None:
    session.execute(delete(OperatorSession).where(OperatorSession.operator_id == operator.id))


def reset(session: Session, name: str, actor: str = "cli") -> str:
    """A new one-time password for `name`; ends the operator's sessions.

    A deactivated operator stays deactivated: a reset is not a way back in.
    """
    operator = by_name(session, name)
    if not operator.active:
        raise OperatorDeactivated(name)
    password = one_time_password()
    operator.password_hash = generate_password_hash(password)
    operator.must_change_password = True
    _end_sessions(session, operator)
    record(session, actor, "operator_reset", "operator", operator.id, {"name": name})
    return password


def set_role(session: Session, name: str, role: str, actor: str = "cli") -> Operator:
    operator = by_name(session, name)
    before = operator.role
    operator.role = _check_role(role)
    record(
        session,
        actor,
        "operator_role_set",
        "operator",
        operator.id,
        {"name": name, "before": before, "after": role},
    )
    return operator


def deactivate(session: Session, name: str, actor: str = "cli") -> Operator:
    """The operator can no longer log in; their sessions end now."""
    operator = by_name(session, name)
    operator.active = False
    _end_sessions(session, operator)
    record(session, actor, "operator_deactivated", "operator", operator.id, {"name": name})
    return operator


def activate(session: Session, name: str, actor: str = "cli") -> Operator:
    operator = by_name(session, name)
    operator.active = True
    record(session, actor, "operator_activated", "operator", operator.id, {"name": name})
    return operator


def set_password(session: Session, operator: Operator, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"at least {MIN_PASSWORD_LENGTH} characters")
    if check_password_hash(operator.password_hash, password):
        raise WeakPassword("the new password must differ from the one-time password")
    operator.password_hash = generate_password_hash(password)
    operator.must_change_password = False
    record(session, f"operator:{operator.name}", "password_changed", "operator", operator.id)


def _backoff(over: int) -> float:
    """Seconds to wait after `over` failures beyond the free ones (0 for none)."""
    if over <= 0:
        return 0.0
    return min(MAX_BACKOFF, BACKOFF_BASE * 2.0 ** min(over - 1, 32))


def _failures(session: Session, *conditions: object) -> tuple[int, datetime | None]:
    """How many failures match, and the latest one, within the window."""
    since = _now() - FAILURE_WINDOW
    count, last = session.execute(
        select(func.count(), func.max(LoginFailure.at)).where(LoginFailure.at >= since, *conditions)
    ).one()
    return int(count or 0), as_utc(last) if last is not None else None


def retry_after(session: Session, ip: str, name: str) -> int:
    """Seconds before this address may try this name again; 0 when it may try now."""
    ip, name = ip[:64], name.strip()[:100]
    now = _now()
    own, own_last = _failures(session, LoginFailure.ip == ip, LoginFailure.name == name)
    waits = [0.0]
    if own and own_last is not None:
        by_name, _ = _failures(session, LoginFailure.name == name)
        over = own - FREE_FAILURES + 1 if by_name < NAME_ALERT else own + ALERT_EXTRA
        waits.append(_backoff(over) - (now - own_last).total_seconds())
    by_ip, ip_last = _failures(session, LoginFailure.ip == ip)
    if by_ip >= MAX_FAILURES_PER_IP and ip_last is not None:
        waits.append(_backoff(by_ip - MAX_FAILURES_PER_IP + 1) - (now - ip_last).total_seconds())
    wait = max(waits)
    return int(wait) + 1 if wait > 0 else 0


def throttled(session: Session, ip: str, name: str) -> bool:
    """True when this address must wait before trying this name again."""
    return retry_after(session, ip, name) > 0


def authenticate(session: Session, name: str, password: str, ip: str) -> Operator | None:
    """The active operator with this name and password, or None (and the failure counted)."""
    name = name.strip()
    operator = session.scalar(select(Operator).where(Operator.name == name))
    valid = check_password_hash(operator.password_hash if operator else _dummy(), password)
    if operator is None or not valid or not operator.active:
        now = _now()
        session.add(LoginFailure(ip=ip[:64], name=name[:100], at=now))
        session.execute(delete(LoginFailure).where(LoginFailure.at < now - FAILURE_WINDOW))
        if operator is not None:
            session.execute(
                update(Operator)
                .where(Operator.id == operator.id)
                .values(
                    failed_logins=Operator.failed_logins + 1,
                    last_failed_login_at=now,
                    last_failed_login_ip=ip[:64],
                )
            )
        return None
    operator.last_login_at = _now()
    return operator


def take_failed_logins(session: Session, operator: Operator) -> FailedLogins | None:
    """The failures for this name since the last login (None if there were none); resets them."""
    if not operator.failed_logins:
        return None
    seen = FailedLogins(
        operator.failed_logins,
        as_utc(operator.last_failed_login_at) if operator.last_failed_login_at else None,
        operator.last_failed_login_ip,
    )
    operator.failed_logins = 0
    return seen


@dataclass(frozen=True)
class ActiveSession:
    operator_id: int
    operator_name: str
    must_change_password: bool
    csrf_token: str
    session_id: str
    role: str = "operator"


def open_session(
    session: Session, operator: Operator, ip: str, failed: FailedLogins | None = None
) -> str:
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
    detail: dict[str, object] = {"ip": ip}
    if failed is not None:
        detail["failed_since_last_login"] = failed.count
    record(session, f"operator:{operator.name}", "login", "operator", operator.id, detail)
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
        now - as_utc(row.created_at) > ABSOLUTE_LIFETIME
        or now - as_utc(row.last_seen_at) > IDLE_LIFETIME
    )
    if expired or operator is None or not operator.active:
        session.delete(row)
        return None
    if now - as_utc(row.last_seen_at) > TOUCH_EVERY:
        row.last_seen_at = now
    return ActiveSession(
        operator.id,
        operator.name,
        operator.must_change_password,
        row.csrf_token,
        row.id,
        operator.role,
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
