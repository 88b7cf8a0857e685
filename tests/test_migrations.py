"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import fieldreport.models  # noqa: F401 - registers every table
from fieldreport.db import Base, Database
from fieldreport.migrate import alembic_config


def test_migrations_match_the_models(database_url):
    database = Database(database_url)
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    database.dispose()
    assert differences == []


def test_migrations_form_one_line_of_history(database_url):
    script = ScriptDirectory.from_config(alembic_config(database_url))
    assert len(script.get_heads()) == 1, script.get_heads()


def test_an_existing_sqlite_database_with_rows_upgrades_and_keeps_them(tmp_path):
    """SQLite alters a table by copying it and dropping the old one: with foreign keys enforced,
    rows pointing at the table (a user's reports, say) made that fail on the
    databases already in the field. Upgrade one from an older revision, with such rows."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from fieldreport.accounts.models import User
    from fieldreport.accounts.service import create_user
    from fieldreport.migrate import upgrade
    from tests.helpers import add_report

    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(database, "0011_map_points")  # before the users table was altered
    with database.session_scope() as session:
        user = create_user(session, "obs1", role="observer", password="x" * 16, team_code="T-1")
        user_id = user.id
    with database.session_scope() as session:
        add_report(session, session.get(User, user_id), datetime(2026, 12, 3, 10, tzinfo=UTC))
    upgrade(database)
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT username FROM users")).scalars().all() == ["obs1"]
        referring = text("SELECT count(*) FROM reports WHERE observer_id = :u")
        assert connection.execute(referring, {"u": user_id}).scalar() == 1
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()
