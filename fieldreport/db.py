"""The one owner of engines and sessions.

Web requests get a request-bound session through :func:`request_session`; the worker, the command
line and tests use :meth:`Database.session_scope`. Nothing else creates engines or sessions.

SQLite is set up for a field office laptop with several writers (web threads and in-process jobs):
WAL, a busy timeout, foreign keys on, and write transactions begun with ``BEGIN IMMEDIATE`` so
that two writers queue for the lock up front instead of failing half-way through.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLITE_BUSY_TIMEOUT_MS = 5000
WRITE_OPTION = "fieldreport_write"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always gives back aware UTC datetimes.

    SQLite has no time zones; without this, values would come back naive on SQLite and aware on
    PostgreSQL, and comparisons would break on one of them.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling would issue a plain BEGIN at the first write;
        # we take over so that write transactions can say BEGIN IMMEDIATE (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """An engine and its session factory, made once per app or worker process."""

    def __init__(
        self, url: str, *, echo: bool = False, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
    ) -> None:
        self.url = url
        options: dict[str, Any] = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            options["connect_args"] = {
                "check_same_thread": False,
                "timeout": busy_timeout_ms / 1000,
            }
        else:
            options["pool_pre_ping"] = True
        self.engine = create_engine(url, **options)
        if self.engine.dialect.name == "sqlite":
            _configure_sqlite(self.engine, busy_timeout_ms)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def new_session(self, *, write: bool = False) -> Session:
        """A session whose transaction, on SQLite, takes the write lock at once when ``write``."""
        session = self._factory()
        if write:
            session.connection(execution_options={WRITE_OPTION: True})
        return session

    @contextmanager
    def session_scope(self, *, write: bool = True) -> Iterator[Session]:
        """Commit on success, roll back on any error; always close."""
        session = self.new_session(write=write)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def request_session() -> Session:
    """The session of the current web request, opened on first use and closed at teardown.

    Requests that may write (anything but GET/HEAD/OPTIONS) take the SQLite write lock up front.
    """
    from flask import current_app, g, request

    session = g.get("db_session")
    if session is None:
        database: Database = current_app.extensions["fieldreport.db"]
        session = database.new_session(write=request.method not in ("GET", "HEAD", "OPTIONS"))
        g.db_session = session
    return session


def close_request_session(error: BaseException | None = None) -> None:
    """Teardown hook: roll back whatever the request left uncommitted, then close."""
    from flask import g

    session = g.pop("db_session", None)
    if session is not None:
        if error is not None or session.in_transaction():
            session.rollback()
        session.close()
