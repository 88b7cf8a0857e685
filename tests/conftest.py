"""Shared fixtures: an app on SQLite and on PostgreSQL, users, logged-in clients, the corpus."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from fieldreport.accounts.service import use_password_hasher
from fieldreport.config import Settings, load_settings
from fieldreport.db import Database
from fieldreport.migrate import upgrade
from fieldreport.runtime import Runtime, build_runtime
from fieldreport.web.app import build_app

pytest_plugins = ["tests.service_fixtures"]

# Argon2 at its production cost makes every log-in in every test wait; the algorithm is the same.
use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

PASSWORD = "correct horse battery"
# The photo corpus lives in the repo (tests/corpus/README.md: sources and licences).
CORPUS = Path(__file__).resolve().parent / "corpus"


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


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    env = {
        "FIELDREPORT_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "FIELDREPORT_TESTING": "true",
        "FIELDREPORT_PARTIES": "Party A,Party B",
        "FIELDREPORT_TIME_ZONE": "Europe/Rome",
    }
    return load_settings(env, **overrides)


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
    from fieldreport.accounts.service import create_user

    with runtime.db.session_scope() as session:
        made = {
            "observer": create_user(
                session,
                "obs1",
                role="observer",
                password=PASSWORD,
                team_code="T-01",
                display_name="Olga Observer",
            ),
            "observer2": create_user(
                session,
                "obs2",
                role="observer",
                password=PASSWORD,
                team_code="T-02",
                display_name="Oscar Other",
            ),
            "coordinator": create_user(
                session,
                "coord",
                role="coordinator",
                password=PASSWORD,
                display_name="Carla Coordinator",
            ),
            "commission": create_user(
                session,
                "comm",
                role="commission",
                password=PASSWORD,
                display_name="Cosmo Commission",
            ),
            "admin": create_user(
                session, "admin", role="admin", password=PASSWORD, display_name="Ada Admin"
            ),
        }
    return Users(**made)


CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def csrf_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def api_token(client: FlaskClient) -> str:
    return client.get("/api/v1/csrf").get_json()["csrf_token"]


@pytest.fixture
def client_for(app: Flask, users: Users) -> Any:
    """``client_for("obs1")``: a test client logged in as that user."""

    def make(username: str) -> FlaskClient:
        client = app.test_client()
        response = login(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return make


def report_body(**overrides: Any) -> dict[str, Any]:
    """A valid API report body; override any field."""
    body: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "category": "ceasefire_violation",
        "subcategory": "small_arms_fire",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "latitude": 43.4675,
        "longitude": 11.8851,
        "accuracy_m": 12,
        "basis": "seen",
        "narrative": "Bursts of fire from the ridge.",
        "urgent": False,
        "details": {"count": 4, "direction": "NE"},
    }
    body.update(overrides)
    return body


def post_report(client: FlaskClient, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/reports", json=body, headers={"X-CSRFToken": api_token(client)})
