"""What an admin does to accounts: the list, language, deactivation, password resets, and
ending every session of a user at once (a phone was lost). Each act is audited with its actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldreport.accounts import passwords, sessions
from fieldreport.accounts.errors import AccountError
from fieldreport.accounts.models import AuditLog, User, UserSession
from fieldreport.accounts.roles import ROLES
from fieldreport.accounts.service import audit, create_user
from fieldreport.accounts.sessions import SessionLimits
from fieldreport.db import utcnow
from fieldreport.i18n import N_


@dataclass(frozen=True)
class AccountRow:
    user: User
    last_login: datetime | None
    active_sessions: int


def list_accounts(session: Session, *, limits: SessionLimits) -> list[AccountRow]:
    """Every account, by role then username, with its last log-in and live sessions."""
    now = utcnow()
    last_logins = dict(
        session.execute(
            select(AuditLog.user_id, func.max(AuditLog.at))
            .where(AuditLog.action == "login")
            .group_by(AuditLog.user_id)
        ).all()
    )
    counts = sessions.active_session_counts(session, now=now, limits=limits)
    users = session.scalars(select(User)).all()
    users = sorted(users, key=lambda user: (ROLES.index(user.role), user.username))
    return [AccountRow(user, last_logins.get(user.id), counts.get(user.id, 0)) for user in users]


def user_or_none(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def user_sessions(session: Session, user: User, *, limits: SessionLimits) -> list[UserSession]:
    return sessions.active_sessions(session, user, now=utcnow(), limits=limits)


@dataclass(frozen=True)
class NewAccount:
    username: str
    role: str
    display_name: str | None = None
    team_code: str | None = None
    language: str = "en"


def create_account(
    session: Session, actor: User, new: NewAccount, languages: tuple[str, ...]
) -> tuple[User, str]:
    """Create an account with a one-time code (shown once to the admin, never emailed); the
    user chooses a password at the first log-in. Returns the user and the code."""
    if new.language not in languages:
        raise AccountError(N_("That language is not offered here."), "language")
    code = passwords.one_time_code()
    user = create_user(
        session,
        new.username,
        role=new.role,
        password=code,
        display_name=new.display_name,
        team_code=new.team_code,
        language=new.language,
        actor=actor,
    )
    user.must_change_password = True
    return user, code


def set_language(
    session: Session, actor: User, user: User, language: str, languages: tuple[str, ...]
) -> None:
    if language not in languages:
        raise AccountError(N_("That language is not offered here."), "language")
    user.language = language
    audit(session, "user.language", user=user, detail={"by": actor.username, "to": language})


def choose_own_language(
    session: Session, user: User, language: str, languages: tuple[str, ...]
) -> bool:
    """The user's own choice (log-in page, account page); True when it changed. An unknown
    code changes nothing: the page was built with the offered languages."""
    if language not in languages or language == user.language:
        return False
    user.language = language
    audit(session, "user.language", user=user, detail={"by": user.username, "to": language})
    return True


def set_active(session: Session, actor: User, user: User, active: bool) -> None:
    """Deactivate (every session ends at once) or reactivate an account; never one's own."""
    if user.id == actor.id and not active:
        raise AccountError(N_("You cannot deactivate your own account."), "active")
    if user.active == active:
        return
    user.active = active
    if not active:
        sessions.revoke_all(session, user, utcnow())
    action = "user.reactivate" if active else "user.deactivate"
    audit(session, action, user=user, detail={"by": actor.username})


def reset_password(session: Session, actor: User, user: User) -> str:
    """Give ``user`` a one-time code (for the admin to pass on, never emailed): it logs in once
    and the user must then choose a password. Every session of the user ends."""
    code = passwords.one_time_code()
    user.password_hash = passwords.hash_password(code)
    user.must_change_password = True
    ended = sessions.revoke_all(session, user, utcnow())
    audit(
        session,
        "user.password_reset",
        user=user,
        detail={"by": actor.username, "sessions_ended": ended},
    )
    return code


def revoke_all_sessions(session: Session, actor: User, user: User) -> int:
    """End every session of ``user`` now (a lost phone); the next request asks to log in."""
    ended = sessions.revoke_all(session, user, utcnow())
    detail = {"by": actor.username, "ended": ended}
    audit(session, "user.sessions_revoked", user=user, detail=detail)
    return ended
