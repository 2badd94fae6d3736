"""Bring a database to the newest schema with Alembic (used by the CLI, `make run` and tests).

Migrations run as the tables' owner (MIGRATION_DATABASE_URL, default DATABASE_URL). On
PostgreSQL, when the app connects as another role (DATABASE_URL's user), that role is then
granted exactly what the app needs (relay.db_roles), so new tables are covered too.
"""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config

from relay.config import ROOT, load_settings
from relay.db import get_engine
from relay.db_roles import Grants, grant_app_role, url_role


def upgrade(url: str | None = None, app_url: str | None = None) -> Grants | None:
    """Migrate the database of `url` (default MIGRATION_DATABASE_URL); grant the role of
    `app_url` (default: DATABASE_URL when `url` is not given, else `url`) if it is another.
    Returns the grants made, if any."""
    if url is None:
        settings = load_settings()
        url, app_url = settings.migration_database_url, app_url or settings.database_url
    app_url = app_url or url
    logging.getLogger("alembic").setLevel(logging.WARNING)
    config = Config(str(ROOT / "alembic.ini"))
    engine = get_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    owner, app = url_role(url), url_role(app_url)
    if app is None or app == owner:
        return None
    engine.dispose()  # the owner's connections are not kept for the app's use
    return grant_app_role(url, app)
