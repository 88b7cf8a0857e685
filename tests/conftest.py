"""Shared fixtures: an app on SQLite and on PostgreSQL, users, logged-in clients, the corpus."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

from fieldreport.accounts.service import use_password_hasher
from fieldreport.config import Settings
from fieldreport.db import Database
from fieldreport.migrate import upgrade
from fieldreport.runtime import Runtime, build_runtime
from fieldreport.web.app import build_app
from tests.helpers import CORPUS, login, make_settings, make_user

pytest_plugins = ["tests.external_servers"]

# Argon2 at its production cost makes every log-in in every test wait; the algorithm is the same.
use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The photo corpus shipped in the repo: real phone photos and hostile files."""
    photos = CORPUS / "photos"
    assert (photos / "MANIFEST.tsv").is_file(), f"photo corpus missing at {photos}"
    return photos


@pytest.fixture(scope="session")
def manifest(corpus: Path) -> list[dict[str, str]]:
    lines = (corpus / "MANIFEST.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[1:] if line]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (migrating once is the slow part)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    database.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_url: str) -> str:
    """A migrated PostgreSQL database used as the TEMPLATE of each test's database."""
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS fieldreport_template"))
        connection.execute(text("CREATE DATABASE fieldreport_template"))
    admin.dispose()
    url = postgres_url.rsplit("/", 1)[0] + "/fieldreport_template"
    database = Database(url)
    upgrade(database)
    database.dispose()
    return url


def _fresh_postgres(admin_url: str) -> Iterator[str]:
    """A database copied from the migrated template; made and dropped from the admin database."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE fieldreport_template"))
    yield admin_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each database test runs twice: on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "fieldreport.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
    else:
        request.getfixturevalue("postgres_template")
        yield from _fresh_postgres(request.getfixturevalue("postgres_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """For tests that are about something else than the database (browser tests, say)."""
    target = tmp_path / "fieldreport.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(settings)
    yield rt
    rt.queue.shutdown()
    rt.db.dispose()


@pytest.fixture
def statements(runtime: Runtime) -> Iterator[list[str]]:
    """The SQL statements the app's engine sends while the test runs (a test may clear it):
    how the list, map and desk tests pin their number of queries."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many):
        sent.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", record)
    yield sent
    event.remove(runtime.db.engine, "before_cursor_execute", record)


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    return build_app(runtime.settings, runtime)


@dataclass
class Users:
    observer: Any
    observer2: Any
    coordinator: Any
    commission: Any
    admin: Any


@pytest.fixture
def users(runtime: Runtime) -> Users:
    """One account per role (password ``helpers.PASSWORD``), and a second observer."""
    with runtime.db.session_scope() as session:
        made = {
            "observer": make_user(session, "obs1", team_code="T-01", display_name="Olga Observer"),
            "observer2": make_user(session, "obs2", team_code="T-02", display_name="Oscar Other"),
            "coordinator": make_user(
                session, "coord", "coordinator", display_name="Carla Coordinator"
            ),
            "commission": make_user(session, "comm", "commission", display_name="Cosmo Commission"),
            "admin": make_user(session, "admin", "admin", display_name="Ada Admin"),
        }
    return Users(**made)


@pytest.fixture
def client_for(app: Flask, users: Users) -> Any:
    """``client_for("obs1")``: a test client logged in as that user."""

    def make(username: str) -> FlaskClient:
        client = app.test_client()
        response = login(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return make
