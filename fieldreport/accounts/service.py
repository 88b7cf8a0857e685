"""Accounts: creating users, logging in and out, passwords, sessions, the audit trail.

Every use case takes the session and plain values, audits what it did and never commits (the
request or the command owns the transaction: docs/architecture.md, "Transactions").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldreport.accounts import passwords, sessions, throttle
from fieldreport.accounts.errors import AccountError, LoginThrottled
from fieldreport.accounts.models import AuditLog, User
from fieldreport.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password, use_password_hasher
from fieldreport.accounts.roles import ROLES, TEAM_ROLES
from fieldreport.accounts.sessions import ClientInfo, LoadedSession, SessionLimits
from fieldreport.accounts.throttle import (
    MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS,
    MAX_FAILURES_PER_ADDRESS,
    THROTTLE_WINDOW,
)
from fieldreport.db import utcnow
from fieldreport.i18n import N_

__all__ = [
    "MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS",
    "MAX_FAILURES_PER_ADDRESS",
    "MIN_PASSWORD_LENGTH",
    "THROTTLE_WINDOW",
    "AccountError",
    "ClientInfo",
    "LoginThrottled",
    "SessionLimits",
    "use_password_hasher",
]


def audit(
    session: Session,
    action: str,
    *,
    user: User | None = None,
    username: str | None = None,
    address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditLog(
            action=action,
            user_id=user.id if user else None,
            username=user.username if user else username,
            address=address,
            detail=detail,
        )
    )


def _by(actor: User | None) -> dict[str, Any] | None:
    return {"by": actor.username} if actor is not None else None


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _check_new_user(session: Session, username: str, role: str, team_code: str | None) -> None:
    if role not in ROLES:
        raise AccountError(
            N_(
                "Unknown role %(role)s; choose one of %(roles)s.", role=role, roles=", ".join(ROLES)
            ),
            "role",
        )
    if (
        not username
        or len(username) > 64
        or not username.replace("_", "").replace(".", "").replace("-", "").isalnum()
    ):
        raise AccountError(
            N_("username: letters, digits, dot, dash or underscore, at most 64"), "username"
        )
    if role in TEAM_ROLES and not team_code:
        raise AccountError(N_("an observer needs a team code (--team T-01)"), "team_code")
    if session.scalar(select(User).where(User.username == username)):
        raise AccountError(N_("The user %(name)s exists already.", name=username), "username")


def create_user(
    session: Session,
    username: str,
    *,
    role: str,
    password: str,
    display_name: str | None = None,
    team_code: str | None = None,
    time_zone: str | None = None,
    language: str = "en",
    actor: User | None = None,
) -> User:
    username = normalise_username(username)
    team_code = (team_code or "").strip() or None
    _check_new_user(session, username, role, team_code)
    passwords.check_password_rule(password)
    user = User(
        username=username,
        display_name=(display_name or "").strip() or username,
        role=role,
        team_code=team_code,
        password_hash=hash_password(password),
        time_zone=time_zone,
        language=language,
    )
    session.add(user)
    session.flush()
    audit(session, "user.create", user=user, detail={"role": role, **(_by(actor) or {})})
    return user


def log_in(
    session: Session, username: str, password: str, client: ClientInfo, now: datetime | None = None
) -> User | None:
    """The active user with these credentials, with a new session; None for wrong ones.

    Raises :class:`LoginThrottled` before any password is checked when the limits are reached.
    Unknown usernames cost the same hashing time as known ones (no enumeration by timing).
    """
    now = now or utcnow()
    user = check_password(session, username, password, client, now)
    if user is not None:
        start_login(session, user, client, now)
    return user


def check_password(
    session: Session, username: str, password: str, client: ClientInfo, now: datetime
) -> User | None:
    """The first step of a log-in: the active user with these credentials, or None (audited
    and counted by the throttle). Opens no session: a second factor may still be due."""
    username = normalise_username(username)
    if not throttle.reserve_attempt(session, username, client.address, now):
        raise LoginThrottled(N_("Too many failed attempts. Wait 15 minutes, then try again."))
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        matches = passwords.verify_nobody(password)
    else:
        matches = passwords.verify(user.password_hash, password) and user.active
    if user is None or not matches:
        throttle.attempt_failed(session, client.address, now)
        audit(session, "login.failed", username=username, address=client.address)
        return None
    throttle.attempt_succeeded(session, username, client.address)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_login(
    session: Session, user: User, client: ClientInfo, now: datetime, *, second_factor: str = ""
) -> str:
    """Open the session of a user who passed every step; returns the cookie's session id."""
    token = sessions.start_session(session, user, client, now)
    detail = {"second_factor": second_factor} if second_factor else None
    audit(session, "login", user=user, address=client.address, detail=detail)
    return token


def log_out(session: Session, user: User, address: str | None) -> None:
    """End the session this request came with (the cookie alone no longer logs anyone in)."""
    if user.session_token:
        sessions.revoke(session, user.session_token, utcnow())
    audit(session, "logout", user=user, address=address)


def load_user(
    session: Session, token: str, *, limits: SessionLimits, now: datetime | None = None
) -> LoadedSession | None:
    """The user behind a session cookie's id, if that session is still valid."""
    return sessions.load_session(session, token, now=now or utcnow(), limits=limits)


def set_password(session: Session, user: User, password: str) -> None:
    """Set a password (command line, tests) and end every session the user has."""
    passwords.check_password_rule(password)
    user.password_hash = hash_password(password)
    user.must_change_password = False
    sessions.revoke_all(session, user, utcnow())
    audit(session, "user.password", user=user)


def change_own_password(session: Session, user: User, current: str, new: str) -> int:
    """The user's own change: the current password (or one-time code) first; ends the user's
    other sessions, keeps this one. Returns how many sessions ended."""
    if not passwords.verify(user.password_hash, current):
        raise AccountError(N_("The current password is not right."), "current_password")
    passwords.check_password_rule(new)
    if new == current:
        raise AccountError(N_("Choose a password different from the current one."), "new_password")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    ended = sessions.revoke_all(session, user, utcnow(), keep=user.session_token)
    audit(session, "user.password", user=user, detail={"other_sessions_ended": ended})
    return ended
