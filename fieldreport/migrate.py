"""Creating and migrating the database with Alembic, from the command line or from tests."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from fieldreport.config import PROJECT_ROOT
from fieldreport.db import Database


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "heads") -> None:
    """Bring the schema to the newest revision (every branch head)."""
    config = alembic_config(database.url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
