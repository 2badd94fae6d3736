"""Bring a database to the newest schema with Alembic (used by the CLI, `make run` and tests)."""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config

from relay.config import ROOT
from relay.db import get_engine


def upgrade(url: str | None = None) -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    config = Config(str(ROOT / "alembic.ini"))
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
