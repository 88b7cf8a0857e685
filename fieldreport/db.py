"""The one owner of engines and sessions.

Web requests get a request-bound session from ``fieldreport.web.transaction`` (which commits it
once the view returns); the worker, the command line and tests use :meth:`Database.session_scope`.
Nothing else creates engines or sessions. Work that must follow a commit (enqueueing a job) is
registered with :func:`after_commit`, so whoever owns the transaction triggers it.

SQLite is set up for a field office laptop with several writers (web threads and in-process jobs):
WAL, a busy timeout, foreign keys on, and write transactions begun with ``BEGIN IMMEDIATE`` so
that two writers queue for the lock up front instead of failing half-way through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLITE_BUSY_TIMEOUT_MS = 5000
WRITE_OPTION = "fieldreport_write"
_AFTER_COMMIT = "fieldreport_after_commit"
_COMMITTED = "fieldreport_committed"


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
        _track_commits(self._factory)

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


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run ``callback`` once ``session``'s transaction has committed; forget it on rollback.

    Services use it to enqueue jobs: the job must not start before the rows it reads exist,
    and the service does not own the commit (the request or the job's scope does). A callback
    registered inside a savepoint that is rolled back still runs if the outer commit happens
    (jobs are idempotent and look their rows up). With no transaction open it runs at once.
    """
    if not session.in_transaction():
        callback()
        return
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def _track_commits(factory: sessionmaker[Session]) -> None:
    """Run the callbacks of :func:`after_commit` when the outermost transaction committed."""

    def committed(session: Session) -> None:
        session.info[_COMMITTED] = True

    def rolled_back(session: Session) -> None:
        session.info[_COMMITTED] = False

    def ended(session: Session, transaction: Any) -> None:
        if transaction.parent is not None:
            return  # a savepoint: the outer transaction decides
        callbacks = session.info.pop(_AFTER_COMMIT, [])
        if session.info.pop(_COMMITTED, False):
            for callback in callbacks:
                # The data is committed: a failing follow-up is logged, never undoes the answer.
                try:
                    callback()
                except Exception:
                    log.exception("after-commit callback %r failed", callback)

    event.listen(factory, "after_commit", committed)
    event.listen(factory, "after_rollback", rolled_back)
    event.listen(factory, "after_transaction_end", ended)
