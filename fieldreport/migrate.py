"""Creating and migrating the database with Alembic, from the command line or from tests."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from fieldreport.config import PROJECT_ROOT
from fieldreport.db import Database


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "heads") -> None:
    """Bring the schema to the newest revision (every branch head).

    On SQLite a migration alters a table by copying it and dropping the old one, which rows
    referencing it forbid while foreign keys are enforced; and the enforcement can only be
    switched off outside a transaction. So it is off for the upgrade, and the references are
    checked before the upgrade commits.
    """
    config = alembic_config(database.url)
    with database.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _driver(connection).execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    _check_references(connection)
        finally:
            if sqlite:
                _driver(connection).execute("PRAGMA foreign_keys=ON")


def _driver(connection: Connection) -> Any:
    return connection.connection.driver_connection


def _check_references(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the upgrade would leave rows pointing at nothing: {broken[:5]}")
