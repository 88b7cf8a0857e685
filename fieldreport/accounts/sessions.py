"""Server-side sessions: a log-in on one device, that log-out or an admin can really end.

The cookie carries a random id; the row keeps only its SHA-256. Every request looks the row up,
so a revoked session (log-out, "revoke all", password change or reset, deactivation) is refused
on the very next request, and a copied cookie dies with it. Idle and absolute lifetimes bound
sessions nobody ended. ``last_seen_at`` is written at most once a minute.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User, UserSession

TOUCH_INTERVAL = timedelta(minutes=1)
MAX_USER_AGENT = 200
MAX_TOKEN = 128


@dataclass(frozen=True)
class SessionLimits:
    """A session ends after ``idle`` without a request, and ``absolute`` after its log-in."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from: shown to admins beside each session, and audited."""

    address: str | None
    user_agent: str | None = None


@dataclass(frozen=True)
class LoadedSession:
    user: User
    session_id: int
    needs_touch: bool


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, client: ClientInfo, now: datetime) -> str:
    """Open a session for ``user``; returns the random id for the cookie (never stored)."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_sha256=_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            address=(client.address or "")[:64] or None,
            user_agent=(client.user_agent or "")[:MAX_USER_AGENT] or None,
        )
    )
    user.session_token = token
    return token


def _alive(now: datetime, limits: SessionLimits) -> tuple[ColumnElement[bool], ...]:
    return (
        UserSession.revoked_at.is_(None),
        UserSession.created_at > now - limits.absolute,
        UserSession.last_seen_at > now - limits.idle,
    )


def load_session(
    session: Session, token: str, *, now: datetime, limits: SessionLimits
) -> LoadedSession | None:
    """The active user behind a cookie's session id, if the session is neither ended nor old."""
    if not token or len(token) > MAX_TOKEN:
        return None
    row = session.scalar(
        select(UserSession).where(UserSession.token_sha256 == _digest(token), *_alive(now, limits))
    )
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    user.session_token = token
    return LoadedSession(user, row.id, now - row.last_seen_at >= TOUCH_INTERVAL)


def touch(session: Session, session_id: int, now: datetime) -> None:
    """Note that the session was used (at most once a minute: no write on every request)."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.last_seen_at <= now - TOUCH_INTERVAL)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def revoke(session: Session, token: str, now: datetime) -> None:
    """End the one session behind ``token`` (log-out)."""
    session.execute(
        update(UserSession)
        .where(UserSession.token_sha256 == _digest(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def revoke_all(session: Session, user: User, now: datetime, *, keep: str | None = None) -> int:
    """End every session of ``user`` (but the one behind ``keep``); returns how many ended."""
    condition = (UserSession.user_id == user.id) & UserSession.revoked_at.is_(None)
    if keep:
        condition = condition & (UserSession.token_sha256 != _digest(keep))
    result = session.execute(
        update(UserSession)
        .where(condition)
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined]


def active_sessions(
    session: Session, user: User, *, now: datetime, limits: SessionLimits
) -> list[UserSession]:
    return list(
        session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, *_alive(now, limits))
            .order_by(UserSession.last_seen_at.desc())
        )
    )


def active_session_counts(
    session: Session, *, now: datetime, limits: SessionLimits
) -> dict[int, int]:
    rows = session.execute(
        select(UserSession.user_id, func.count(UserSession.id))
        .where(*_alive(now, limits))
        .group_by(UserSession.user_id)
    )
    return {user_id: count for user_id, count in rows}
