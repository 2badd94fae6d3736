"""The audit log cannot be wiped or rewritten quietly: its entries form a hash chain that
`audit verify` walks, naming the first edited, deleted, inserted or reordered entry; the
database refuses UPDATE, DELETE and (PostgreSQL) TRUNCATE; on PostgreSQL the app runs as a
role that owns nothing. Tampering is done as the tables' owner with the triggers lifted, as a
database administrator could."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    column,
    create_engine,
    func,
    insert,
    select,
    table,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import NullPool

from bots import review
from relay.audit import GENESIS, entry_hash, record
from relay.db import get_engine, session_scope
from relay.models import AuditEntry, Submission, Ticket, utcnow
from tests.support import drain, owner_connection, post_gateway

KPPS = "+6281234567801"  # TPS 3576011001001
TALLY = "PPWP 3576011001001 01=120 02=95 03=40 SAH=255 TS=5"
RESENT = "PPWP 3576011001001 01=121 02=95 03=40 SAH=256 TS=5"
SQLITE_TRIGGERS = {
    verb: f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
    for verb in ("UPDATE", "DELETE")
}


def postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


@pytest.fixture
def cli(db: str):
    from webhooks import create_app

    return create_app().test_cli_runner()


def verify(cli, *anchors: str):
    args = ["audit", "verify"]
    for anchor in anchors:
        args += ["--anchor", anchor]
    return cli.invoke(args=args)


def write_entries(count: int) -> None:
    """`count` entries, each in its own transaction, as the pipeline writes them."""
    for i in range(count):
        with session_scope() as session:
            record(session, f"officer:{i}", "tally_received", "submission", i, {"n": i})


def entries() -> list[AuditEntry]:
    with session_scope() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


@contextmanager
def tampering(owner_url: str) -> Iterator[Connection]:
    """A transaction as the tables' owner with the audit log's append-only triggers lifted
    (PostgreSQL: DISABLE TRIGGER, which only the owner or a superuser may do; SQLite: the
    triggers dropped), put back afterwards."""
    if postgres(owner_url):
        with owner_connection(owner_url) as conn:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            yield conn
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        return
    with owner_connection(owner_url) as conn:
        for verb in SQLITE_TRIGGERS:
            conn.execute(text(f"DROP TRIGGER audit_log_no_{verb.lower()}"))
        try:
            yield conn
        finally:
            for create in SQLITE_TRIGGERS.values():
                conn.execute(text(create))


def shift_up(conn: Connection, first: int) -> None:
    """Renumber entries `first`… one up, freeing id `first` (through negative ids)."""
    conn.execute(text("UPDATE audit_log SET id = -id WHERE id >= :first"), {"first": first})
    conn.execute(text("UPDATE audit_log SET id = 1 - id WHERE id < 0"))


def forge(conn: Connection, entry_id: int, prev_hash: str) -> None:
    """Insert a self-consistent forged entry (its own hash right) at `entry_id`."""
    fields = {
        "id": entry_id,
        "at": conn.scalar(select(AuditEntry.at).where(AuditEntry.id == 1)),
        "actor": "officer:99",
        "action": "tally_confirmed",
        "entity": "submission",
        "entity_id": "99",
        "detail": {"receipt": "FORGED"},
        "prev_hash": prev_hash,
    }
    digest = entry_hash(**{("entry_id" if k == "id" else k): v for k, v in fields.items()})
    conn.execute(insert(AuditEntry.__table__).values(**fields, hash=digest))


# --- a real history verifies -------------------------------------------------------------------


def test_verify_passes_on_a_real_history_and_prints_the_head(
    client, redis_conn, gateway, cli
) -> None:
    """Tallies received, superseded, confirmed through the pipeline and changed by an
    operator: the chain is intact, the count is every entry, the head is the last one."""
    for i, message in enumerate((TALLY, RESENT, "YA")):
        assert post_gateway(client, f"g-{i}", KPPS, message).status_code == 200
        drain(redis_conn)
    with session_scope() as session:
        submission = session.scalars(select(Submission).where(Submission.status == "confirmed"))
        review.change_tally(
            session,
            "ani",
            submission.one(),
            {1: 100, 2: 95, 3: 40},
            235,
            5,
            "foto C.Hasil",
            approved=True,
        )
    drain(redis_conn)
    history = entries()
    assert [e.action for e in history][-2:] == ["tally_confirmed", "tally_changed"]
    assert [e.id for e in history] == list(range(1, len(history) + 1))

    result = verify(cli)
    assert result.exit_code == 0, result.output
    assert f"audit log intact: {len(history)} entries" in result.output
    assert f"head #{history[-1].id} {history[-1].hash}" in result.output


# --- each kind of tampering is named -----------------------------------------------------------


def edit(conn: Connection) -> None:
    conn.execute(text("UPDATE audit_log SET actor = 'officer:99' WHERE id = 3"))


def delete(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_log WHERE id = 3"))


def insert_between(conn: Connection) -> None:
    """A backdated entry at #3, the later ones renumbered to make room."""
    shift_up(conn, 3)
    forge(conn, 3, prev_hash="f" * 64)


def swap(conn: Connection) -> None:
    conn.execute(text("UPDATE audit_log SET id = -3 WHERE id = 3"))
    conn.execute(text("UPDATE audit_log SET id = 3 WHERE id = 4"))
    conn.execute(text("UPDATE audit_log SET id = 4 WHERE id = -3"))


@pytest.mark.parametrize(
    ("tamper", "kind"),
    [(edit, "edited"), (delete, "deleted"), (insert_between, "inserted"), (swap, "reordered")],
)
def test_verify_names_the_first_tampered_entry_and_how(cli, owner_db, tamper, kind) -> None:
    write_entries(6)
    assert verify(cli).exit_code == 0
    with tampering(owner_db) as conn:
        tamper(conn)
    result = verify(cli)
    assert result.exit_code == 1, result.output
    assert f"audit log broken at entry #3: {kind}" in result.output


def test_an_inserted_entry_linked_like_a_real_one_is_named(cli, owner_db) -> None:
    """The forger even points the new entry at its predecessor (dropping the index that
    keeps two entries from sharing one): the entry after it still points past it."""
    write_entries(6)
    predecessor = entries()[1].hash
    try:
        with tampering(owner_db) as conn:
            conn.execute(text("DROP INDEX ix_audit_log_prev_hash"))
            shift_up(conn, 3)
            forge(conn, 3, prev_hash=predecessor)
        result = verify(cli)
        assert result.exit_code == 1, result.output
        assert "audit log broken at entry #3: inserted" in result.output
    finally:
        with tampering(owner_db) as conn:
            conn.execute(text("DELETE FROM audit_log"))
            conn.execute(text("DROP INDEX IF EXISTS ix_audit_log_prev_hash"))
            conn.execute(
                text("CREATE UNIQUE INDEX ix_audit_log_prev_hash ON audit_log (prev_hash)")
            )


def rehash_from(owner_db: str, first: int) -> None:
    """An administrator's quiet rewrite: entry `first` edited and every entry from it to
    the end re-hashed, so the chain alone is consistent again (triggers lifted, as the
    tables' owner could)."""
    log = entries()
    with tampering(owner_db) as conn:
        previous = log[first - 2].hash if first > 1 else GENESIS
        for entry in log[first - 1 :]:
            actor = "officer:99" if entry.id == first else entry.actor
            digest = entry_hash(
                entry.id,
                entry.at,
                actor,
                entry.action,
                entry.entity,
                entry.entity_id,
                entry.detail,
                previous,
            )
            # Through unique placeholders: prev_hash and hash are unique columns.
            conn.execute(
                text("UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h WHERE id = :i"),
                {"a": actor, "p": f"tmp-{entry.id}", "h": f"tmp-{entry.id}", "i": entry.id},
            )
            conn.execute(
                text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :i"),
                {"p": previous, "h": digest, "i": entry.id},
            )
            previous = digest


def test_an_anchor_catches_a_cut_off_end_and_a_rehashed_rewrite(cli, owner_db) -> None:
    """What the chain alone cannot show: the last entries deleted, or everything re-hashed
    after an edit. The head noted earlier (`verify` prints it) shows both."""
    write_entries(5)
    head = entries()[-1]
    anchor = f"{head.id}:{head.hash}"
    assert verify(cli, anchor).exit_code == 0

    with tampering(owner_db) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 5"))
    assert verify(cli).exit_code == 0  # the chain alone: a shorter, intact log
    cut = verify(cli, anchor)
    assert cut.exit_code == 1 and "entry #5: deleted" in cut.output, cut.output

    write_entries(1)  # #5 again, a different entry
    rewritten = entries()
    rehash_from(owner_db, 2)  # edit #2 and re-hash the chain from there
    assert verify(cli).exit_code == 0  # consistent again, without an anchor
    caught = verify(cli, f"{rewritten[-1].id}:{rewritten[-1].hash[:16]}")
    assert caught.exit_code == 1 and "entry #5: edited" in caught.output, caught.output


# --- appends are serialized --------------------------------------------------------------------


def test_concurrent_writers_never_fork_the_chain(cli, db) -> None:
    """Eight threads, each with its own sessions, append at once: every entry is chained
    onto a distinct predecessor (a fork would fail the unique prev_hash, or the walk)."""
    threads, per_thread = 8, 10
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with session_scope() as session:
                    record(session, f"officer:{n}", "tally_received", "submission", i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert [e.id for e in entries()] == list(range(1, threads * per_thread + 1))
    result = verify(cli)
    assert result.exit_code == 0, result.output
    assert f"intact: {threads * per_thread} entries" in result.output


def test_an_entry_of_a_rolled_back_transaction_leaves_no_trace_and_no_gap(cli, db) -> None:
    write_entries(2)
    with pytest.raises(RuntimeError), session_scope() as session:
        record(session, "officer:1", "tally_confirmed", "submission", 1)
        raise RuntimeError("the rest of the transaction failed")
    write_entries(1)
    assert [e.id for e in entries()] == [1, 2, 3]
    assert verify(cli).exit_code == 0


def test_an_entry_recorded_before_a_failed_savepoint_is_kept(cli, db) -> None:
    """The confirm path uses SAVEPOINTs (a lost race for the TPS is caught inside one): an
    entry joins the chain at the real COMMIT, never at a SAVEPOINT's release."""
    from relay.models import Operator

    with session_scope() as session:
        session.add(Operator(name="ani", password_hash="x"))
        session.flush()
        record(session, "officer:1", "tally_received", "submission", 1)
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(Operator(name="ani", password_hash="y"))  # fails at the release
        record(session, "officer:1", "tally_confirmed", "submission", 1)
    assert [e.action for e in entries()] == ["tally_received", "tally_confirmed"]
    assert verify(cli).exit_code == 0


# --- the database refuses changes --------------------------------------------------------------


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
def test_update_and_delete_are_refused_to_the_app_and_the_owner(
    db, owner_db, statement: str
) -> None:
    write_entries(2)
    for url in (db, owner_db):
        engine = create_engine(url, poolclass=NullPool)
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(statement))
        engine.dispose()
    assert len(entries()) == 2


def test_truncate_is_refused_to_the_app_the_owner_and_a_superuser(db, owner_db) -> None:
    if not postgres(db):
        pytest.skip("SQLite has no TRUNCATE (DELETE is refused by its trigger)")
    import os

    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("needs TEST_DATABASE_URL, a superuser's URL")
    write_entries(2)
    superuser = make_url(os.environ["TEST_DATABASE_URL"]).set(database=make_url(db).database)
    refusals = {}
    for who, url in (("app", db), ("owner", owner_db), ("superuser", superuser)):
        engine = create_engine(url, poolclass=NullPool)
        with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
        engine.dispose()
        refusals[who] = str(refused.value)
    assert "permission denied" in refusals["app"]  # no TRUNCATE privilege at all
    assert "append-only" in refusals["owner"] and "append-only" in refusals["superuser"]
    assert len(entries()) == 2


def test_the_app_role_cannot_lift_the_triggers_or_drop_the_log(db) -> None:
    if not postgres(db):
        pytest.skip("SQLite has no roles: a file-level attacker is detected by the chain")
    for statement in (
        "ALTER TABLE audit_log DISABLE TRIGGER USER",
        "DROP TABLE audit_log",
        "SET session_replication_role = replica",
    ):
        engine = create_engine(db, poolclass=NullPool)
        with pytest.raises(DBAPIError, match=r"must be owner|permission denied"):
            with engine.begin() as conn:
                conn.execute(text(statement))
        engine.dispose()


def test_grant_app_role_is_idempotent_and_refuses_the_owner(cli, db, owner_db) -> None:
    if not postgres(db):
        pytest.skip("roles exist only on PostgreSQL")
    app, owner = make_url(db).username, make_url(owner_db).username
    upgraded = cli.invoke(args=["db", "upgrade"])  # as MIGRATION_DATABASE_URL, then grants
    assert upgraded.exit_code == 0 and f"app role {app}: " in upgraded.output, upgraded.output
    for _ in range(2):
        granted = cli.invoke(args=["db", "grant-app-role", app])
        assert granted.exit_code == 0, granted.output
        assert "SELECT/INSERT only on audit_log" in granted.output
    with get_engine(db).connect() as conn:
        rights = {
            p: conn.scalar(text(f"SELECT has_table_privilege('audit_log', '{p}')"))
            for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
        }
    assert rights == {
        "SELECT": True,
        "INSERT": True,
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
    }
    refused = cli.invoke(args=["db", "grant-app-role", owner])
    assert refused.exit_code == 1 and "must not own the tables" in refused.output


# --- long actors -------------------------------------------------------------------------------


def test_a_200_character_sender_is_audited_whole_and_longer_actors_are_cut(cli, db) -> None:
    """The actor column holds a 200-character sender with its prefix; anything longer is cut
    to the column with a digest of the whole, so two such actors stay apart, and verifies."""
    sender = "sender:" + "s" * 200
    long_a, long_b = "sender:" + "a" * 300, "sender:" + "a" * 299 + "b"
    for actor in (sender, long_a, long_b):
        with session_scope() as session:
            record(session, actor, "ticket_opened", "ticket", 1)
    stored = [e.actor for e in entries()]
    assert stored[0] == sender
    assert all(len(a) == 255 and a.startswith("sender:aaaa") for a in stored[1:])
    assert stored[1] != stored[2]
    assert verify(cli).exit_code == 0


def test_a_help_request_from_the_longest_gateway_sender_is_audited(
    client, redis_conn, gateway
) -> None:
    sender = "modem-" + "x" * 58  # the widest `from` the gateway accepts (64 characters)
    assert post_gateway(client, "long-1", sender, "BANTUAN kertas habis").status_code == 200
    drain(redis_conn)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
        actor = session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "ticket_opened"))
    assert actor == f"sender:{sender}"


# --- the migration chains what was there -------------------------------------------------------


def test_the_migration_numbers_and_chains_existing_entries(tmp_path) -> None:
    """Entries written before the chain (ids with a gap, as a PostgreSQL sequence leaves after
    a rollback) are numbered 1… in their order and chained; the next record() continues."""
    import os

    from alembic import command
    from alembic.config import Config

    from relay.audit_verify import verify as walk
    from relay.config import ROOT
    from relay.migrate import upgrade
    from tests.support import throwaway_postgres

    server = os.environ.get("TEST_DATABASE_URL", "")

    @contextmanager
    def fresh() -> Iterator[str]:
        if server.startswith("postgresql"):
            with throwaway_postgres(server, "relay_migration") as made:
                yield made.owner_url
        else:
            yield f"sqlite:///{tmp_path / 'legacy.db'}"

    with fresh() as url:
        config = Config(str(ROOT / "alembic.ini"))
        with get_engine(url).begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0002c")
            legacy = table(
                "audit_log",
                *(column(name) for name in ("id", "actor", "action", "entity", "entity_id")),
                column("at", DateTime(timezone=True)),
                column("detail", JSON),
            )
            for legacy_id, actor in ((3, "officer:1"), (4, "officer:2"), (9, "operator:ani")):
                conn.execute(
                    insert(legacy).values(
                        id=legacy_id,
                        at=utcnow(),
                        actor=actor,
                        action="tally_received",
                        entity="submission",
                        entity_id=str(legacy_id),
                        detail={"n": legacy_id},
                    )
                )
        upgrade(url)
        with session_scope(url) as session:
            record(session, "officer:3", "tally_confirmed", "submission", 7)
        with get_engine(url).connect() as conn:
            verdict = walk(conn)
            actors = list(conn.scalars(select(AuditEntry.actor).order_by(AuditEntry.id)))
        get_engine(url).dispose()
    assert verdict.intact and verdict.entries == 4, verdict
    assert actors == ["officer:1", "officer:2", "operator:ani", "officer:3"]


def test_a_race_that_slipped_past_the_lock_fails_loudly(db) -> None:
    """Belt and braces: two entries can never share a predecessor (unique prev_hash)."""
    write_entries(1)
    [first] = entries()
    engine = create_engine(db, poolclass=NullPool)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        fields = {
            "entry_id": 2,
            "at": first.at,
            "actor": "x",
            "action": "a",
            "entity": "e",
            "entity_id": "1",
            "detail": {},
            "prev_hash": GENESIS,
        }
        conn.execute(
            insert(AuditEntry.__table__).values(
                id=2,
                **{k: v for k, v in fields.items() if k != "entry_id"},
                hash=entry_hash(**fields),
            )
        )
    engine.dispose()
