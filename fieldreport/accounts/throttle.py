"""Limits on failed log-ins, counted in one row per key and checked atomically.

An attempt first *reserves* a slot of its account-and-address counter with one conditional
``UPDATE`` (``… WHERE failures < limit``). On PostgreSQL a second attempt's update waits on the
row lock and re-reads the row; on SQLite writers are serialised by ``BEGIN IMMEDIATE``. So
however many attempts race, at most the limit of them get to check a password. A successful
log-in gives its slot back; a failed one keeps it and counts against the address too.

An account is never locked for everyone: an attacker elsewhere cannot lock a real user out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from fieldreport.accounts.models import LoginCounter
from fieldreport.db import UTCDateTime

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
MAX_FAILURES_PER_ADDRESS = 30


def _account_key(username: str, address: str | None) -> str:
    return f"account:{username}@{address or '-'}"


def _address_key(address: str | None) -> str:
    return f"address:{address or '-'}"


def _ensure_counter(session: Session, key: str, now: datetime) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(LoginCounter)
        .values(key=key, window_start=now, failures=0)
        .on_conflict_do_nothing(index_elements=["key"])
    )


def _count_one(session: Session, key: str, now: datetime, limit: int | None) -> bool:
    """Add a failure to ``key`` unless it is at ``limit``; a window that ran out starts anew."""
    _ensure_counter(session, key, now)
    expired = LoginCounter.window_start < now - THROTTLE_WINDOW
    condition = LoginCounter.key == key
    if limit is not None:
        condition = condition & or_(expired, LoginCounter.failures < limit)
    result = session.execute(
        update(LoginCounter)
        .where(condition)
        .values(
            failures=case((expired, 1), else_=LoginCounter.failures + 1),
            window_start=case(
                (expired, literal(now, UTCDateTime())), else_=LoginCounter.window_start
            ),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def reserve_attempt(session: Session, username: str, address: str | None, now: datetime) -> bool:
    """True when this attempt may check a password; False when the limits are reached."""
    address_failures = session.scalar(
        select(LoginCounter.failures).where(
            LoginCounter.key == _address_key(address),
            LoginCounter.window_start >= now - THROTTLE_WINDOW,
        )
    )
    if (address_failures or 0) >= MAX_FAILURES_PER_ADDRESS:
        return False
    return _count_one(
        session, _account_key(username, address), now, MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
    )


def attempt_succeeded(session: Session, username: str, address: str | None) -> None:
    """Give back the slot a successful log-in reserved (earlier failures still count)."""
    session.execute(
        update(LoginCounter)
        .where(LoginCounter.key == _account_key(username, address), LoginCounter.failures > 0)
        .values(failures=LoginCounter.failures - 1)
        .execution_options(synchronize_session=False)
    )


def attempt_failed(session: Session, address: str | None, now: datetime) -> None:
    """A failure keeps its account slot and counts against the address."""
    _count_one(session, _address_key(address), now, None)


# The second step of a log-in: codes of one account, from anywhere. Whoever gets here knows the
# password already, so a limit per account (not per address) is what stops them guessing.
MAX_CODE_FAILURES_PER_ACCOUNT = 5


def _code_key(user_id: int) -> str:
    return f"code:{user_id}"


def reserve_code_attempt(session: Session, user_id: int, now: datetime) -> bool:
    """True when this code attempt may be checked; False when the account's limit is reached."""
    return _count_one(session, _code_key(user_id), now, MAX_CODE_FAILURES_PER_ACCOUNT)


def code_attempt_succeeded(session: Session, user_id: int) -> None:
    """Give back the slot a right code reserved (earlier wrong codes still count)."""
    session.execute(
        update(LoginCounter)
        .where(LoginCounter.key == _code_key(user_id), LoginCounter.failures > 0)
        .values(failures=LoginCounter.failures - 1)
        .execution_options(synchronize_session=False)
    )
