"""PostgreSQL roles: the owner migrates, the app (web, worker, sweeper) gets only what it needs.

The app role may read and write the tables the pipeline changes, but on `audit_log` only
SELECT and INSERT, and it owns nothing: it cannot UPDATE, DELETE or TRUNCATE the audit log,
nor disable its triggers or drop it. `grant_app_role` sets exactly that, idempotently; run it
after every migration (`bin/relay db upgrade` does when DATABASE_URL's user is not
MIGRATION_DATABASE_URL's). See docs/DATABASE-ROLES.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from relay.db import get_engine

# Every connection to the database waits at most this long for a lock, whatever its startup
# parameters (a connection through PgBouncer cannot pass `-c lock_timeout`).
LOCK_TIMEOUT = "10s"

APPEND_ONLY_TABLES = ("audit_log",)
READ_ONLY_TABLES = ("alembic_version",)


class RoleError(RuntimeError):
    pass


@dataclass(frozen=True)
class Grants:
    role: str
    tables: int  # tables granted SELECT, INSERT, UPDATE, DELETE
    append_only: tuple[str, ...]
    read_only: tuple[str, ...]

    def summary(self) -> str:
        return (
            f"{self.role}: read/write on {self.tables} tables, SELECT/INSERT only on "
            f"{', '.join(self.append_only)}, SELECT only on {', '.join(self.read_only)}; "
            "owns nothing"
        )


def url_role(url: str) -> str | None:
    """The user a PostgreSQL URL connects as (None for SQLite or no user)."""
    parsed = make_url(url)
    return parsed.username if parsed.get_backend_name() == "postgresql" else None


def grant_app_role(owner_url: str, role: str) -> Grants:
    """Give `role` the app's privileges on the database of `owner_url` (its tables' owner)."""
    engine = get_engine(owner_url)
    if engine.dialect.name != "postgresql":
        raise RoleError("database roles exist only on PostgreSQL")
    with engine.begin() as conn:
        _check_role(conn, role)
        quote = conn.dialect.identifier_preparer.quote
        quoted = quote(role)
        schema = quote(conn.scalar(text("SELECT current_schema()")))
        tables = list(
            conn.scalars(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                    "ORDER BY tablename"
                )
            )
        )
        database = quote(conn.scalar(text("SELECT current_database()")))
        statements = [
            f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {quoted}",
            f"GRANT USAGE ON SCHEMA {schema} TO {quoted}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {quoted}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {quoted}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {quoted}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}",
            f"ALTER DATABASE {database} SET lock_timeout = '{LOCK_TIMEOUT}'",
        ]
        append_only = tuple(t for t in APPEND_ONLY_TABLES if t in tables)
        read_only = tuple(t for t in READ_ONLY_TABLES if t in tables)
        statements += [f"REVOKE UPDATE, DELETE ON {t} FROM {quoted}" for t in append_only]
        statements += [f"REVOKE INSERT, UPDATE, DELETE ON {t} FROM {quoted}" for t in read_only]
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()  # no owner connection stays open in this process
    return Grants(role, len(tables) - len(append_only) - len(read_only), append_only, read_only)


def _check_role(conn: Connection, role: str) -> None:
    found = conn.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        raise RoleError(f"role {role!r} does not exist: CREATE ROLE {role} LOGIN PASSWORD '…'")
    if found.rolsuper:
        raise RoleError(f"role {role!r} is a superuser: the app must run as an ordinary role")
    owned = conn.scalar(
        text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() "
            "AND pg_has_role(:role, tableowner, 'MEMBER')"
        ),
        {"role": role},
    )
    if owned:
        raise RoleError(
            f"role {role!r} owns (or is a member of the owner of) {owned} table(s): the app "
            "must not own the tables — migrate with MIGRATION_DATABASE_URL as the owner"
        )


def owner_problem(url: str) -> str | None:
    """Why the role of `url` (the app's) is not safe for the app, or None: PostgreSQL only."""
    engine = get_engine(url)
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT r.rolsuper, pg_has_role(current_user, t.tableowner, 'MEMBER') AS owns "
                "FROM pg_roles r, pg_tables t WHERE r.rolname = current_user "
                "AND t.schemaname = current_schema() AND t.tablename = 'audit_log'"
            )
        ).first()
    if row is None:
        return None
    if row.rolsuper:
        return "the app connects as a superuser: it could disable the audit log's triggers"
    if row.owns:
        return "the app connects as the tables' owner: it could disable the audit log's triggers"
    return None
