"""A stamp that changes with every write to the election catalogue (contests, their
candidates, dapils/areas and their lists), so a worker may keep the catalogue in memory and
know, from one small read per job, when it must read it again (relay.catalogue)

Triggers, not the loaders, change it: every writer (the loaders' ORM and Core statements, a
script, a test's fixture, SQL typed at the console) is caught, in the writer's transaction.
The stamp is a random token, never a counter: emptied tables would restart a counter and
match a cache built from other data. A later migration that rebuilds one of these tables on
SQLite (`batch_alter_table` copies it into a new table) drops its triggers: it must create
them again (tests/test_catalogue_cache.py fails otherwise).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("contests", "candidates", "dapils", "area_candidates", "party_candidates")
VERBS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "catalogue_stamp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Once per statement: a list of 250,000 candidates changes the stamp once.
        op.execute(
            "CREATE FUNCTION catalogue_stamp_change() RETURNS trigger AS $$ BEGIN "
            "INSERT INTO catalogue_stamp (id, token) VALUES (1, md5(random()::text || "
            "clock_timestamp()::text)) ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token; "
            "RETURN NULL; END; $$ LANGUAGE plpgsql"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION catalogue_stamp_change()"
            )
        return
    for table in TABLES:  # SQLite has row triggers only
        for verb in VERBS:
            op.execute(
                f"CREATE TRIGGER {table}_stamp_{verb.lower()} AFTER {verb} ON {table} BEGIN "
                # not INSERT OR IGNORE: an outer statement's conflict clause overrides it
                "INSERT INTO catalogue_stamp (id, token) SELECT 1, '' WHERE NOT EXISTS "
                "(SELECT 1 FROM catalogue_stamp WHERE id = 1); "
                "UPDATE catalogue_stamp SET token = lower(hex(randomblob(16))) WHERE id = 1; "
                "END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_stamp ON {table}")
        op.execute("DROP FUNCTION IF EXISTS catalogue_stamp_change()")
    else:
        for table in TABLES:
            for verb in VERBS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_stamp_{verb.lower()}")
    op.drop_table("catalogue_stamp")
