"""The confirmations-per-hour timeline per region (province, regency, district, village) as
well as nationally (region_code ''): each region page charts its own tallies

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timeline(name: str, with_region: bool) -> sa.Table:
    columns = [
        sa.Column("contest_code", sa.String(length=10), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["contest_code"], ["contests.code"]),
    ]
    if with_region:
        columns.insert(1, sa.Column("region_code", sa.String(length=10), nullable=False))
        columns.append(sa.PrimaryKeyConstraint("contest_code", "region_code", "hour"))
    else:
        columns.append(sa.PrimaryKeyConstraint("contest_code", "hour"))
    return op.create_table(name, *columns)


def upgrade() -> None:
    _timeline("result_timeline_new", with_region=True)
    op.execute(
        "INSERT INTO result_timeline_new (contest_code, region_code, hour, confirmed) "
        "SELECT contest_code, '', hour, confirmed FROM result_timeline"
    )
    op.drop_table("result_timeline")
    op.rename_table("result_timeline_new", "result_timeline")
    _add_region_points()


REGION_LENGTHS = (2, 4, 6, 10)  # province, regency, district, village (relay.results)


def _hour(moment: datetime | None) -> datetime:
    moment = moment or datetime.now(UTC)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _add_region_points() -> None:
    """Each region's points from the confirmed tallies that count (not training)."""
    submissions = sa.table(
        "submissions",
        sa.column("tps_code", sa.String),
        sa.column("contest_code", sa.String),
        sa.column("decided_at", sa.DateTime(timezone=True)),
        sa.column("status", sa.String),
        sa.column("training", sa.Boolean),
    )
    timeline = sa.table(
        "result_timeline",
        sa.column("contest_code", sa.String),
        sa.column("region_code", sa.String),
        sa.column("hour", sa.DateTime(timezone=True)),
        sa.column("confirmed", sa.Integer),
    )
    points: Counter[tuple[str, str, datetime]] = Counter()
    rows = op.get_bind().execute(
        sa.select(submissions.c.tps_code, submissions.c.contest_code, submissions.c.decided_at)
        .where(submissions.c.status == "confirmed", submissions.c.training.is_(False))
    )
    for tps_code, contest, decided_at in rows:
        for length in REGION_LENGTHS:
            points[(contest, tps_code[:length], _hour(decided_at))] += 1
    if points:
        op.bulk_insert(
            timeline,
            [
                {"contest_code": c, "region_code": r, "hour": h, "confirmed": n}
                for (c, r, h), n in points.items()
            ],
        )


def downgrade() -> None:
    _timeline("result_timeline_old", with_region=False)
    op.execute(
        "INSERT INTO result_timeline_old (contest_code, hour, confirmed) "
        "SELECT contest_code, hour, confirmed FROM result_timeline WHERE region_code = ''"
    )
    op.drop_table("result_timeline")
    op.rename_table("result_timeline_old", "result_timeline")
