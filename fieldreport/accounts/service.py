"""Accounts: creating users, checking passwords, throttling log-ins, the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import AuditLog, User
from fieldreport.accounts.roles import OBSERVER, ROLES
from fieldreport.db import utcnow

MIN_PASSWORD_LENGTH = 10
THROTTLE_WINDOW = timedelta(minutes=15)
# Failures allowed per account from one address, and per address over all accounts. An account
# is never locked for everyone: an attacker elsewhere cannot lock a real user out.
MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
MAX_FAILURES_PER_ADDRESS = 30

_hasher = PasswordHasher()


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Swap the hasher (tests use cheap parameters; hashes still verify either way)."""
    global _hasher
    _hasher = hasher


class AccountError(ValueError):
    """A request about an account that cannot be done; the message says why."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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


def create_user(
    session: Session,
    username: str,
    *,
    role: str,
    password: str,
    display_name: str | None = None,
    team_code: str | None = None,
    time_zone: str | None = None,
) -> User:
    username = username.strip().lower()
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if (
        not username
        or len(username) > 64
        or not username.replace("_", "").replace(".", "").replace("-", "").isalnum()
    ):
        raise AccountError("username: letters, digits, dot, dash or underscore, at most 64")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if role == OBSERVER and not team_code:
        raise AccountError("an observer needs a team code (--team T-01)")
    if session.scalar(select(User).where(User.username == username)):
        raise AccountError(f"user {username!r} exists already")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        team_code=team_code,
        password_hash=hash_password(password),
        time_zone=time_zone,
    )
    session.add(user)
    session.flush()
    audit(session, "user.create", user=user, detail={"role": role})
    return user


def _recent_failures(session: Session, address: str | None, username: str | None) -> int:
    since = utcnow() - THROTTLE_WINDOW
    query = select(func.count(AuditLog.id)).where(
        AuditLog.action == "login.failed", AuditLog.at >= since, AuditLog.address == address
    )
    if username is not None:
        query = query.where(AuditLog.username == username)
    return session.scalar(query) or 0


def login_throttled(session: Session, username: str, address: str | None) -> bool:
    username = username.strip().lower()
    return (
        _recent_failures(session, address, username) >= MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
        or _recent_failures(session, address, None) >= MAX_FAILURES_PER_ADDRESS
    )


def authenticate(
    session: Session, username: str, password: str, address: str | None
) -> User | None:
    """The active user with these credentials, recording the attempt either way."""
    username = username.strip().lower()
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not password_matches(user, password):
        audit(session, "login.failed", username=username, address=address)
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit(session, "login", user=user, address=address)
    return user


def load_user(session: Session, session_id: str) -> User | None:
    """The user behind a session cookie's id, if that session is still valid."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Change a password and end every session the user has."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = hash_password(password)
    user.session_version += 1
    audit(session, "user.password", user=user)


def deactivate(session: Session, user: User) -> None:
    user.active = False
    user.session_version += 1
    audit(session, "user.deactivate", user=user)
