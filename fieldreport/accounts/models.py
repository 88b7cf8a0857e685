"""Accounts: who may do what, and the audit trail of security-relevant actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from fieldreport.db import Base, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    team_code: Mapped[str | None] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # No longer read: sessions live in ``user_sessions`` and are revoked there.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # Set by an admin's password reset: the one-time code logs in, then a new password is due.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Two-step log-in (accounts.two_factor): the authenticator's secret, sealed for this user
    # (accounts.totp_sealing; set when enrolment starts), when the user confirmed it with a
    # code (None: not on), and the last time step whose code was accepted (a code is never
    # accepted twice).
    totp_secret: Mapped[str | None] = mapped_column(String(128))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    # The random id of the session this object was loaded for (Flask-Login keeps it in the
    # cookie); set by accounts.sessions, never stored on the users row.
    session_token = None

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def public_label(self) -> str:
        """What the commission may see of an observer: the team code, never the name."""
        return self.team_code or "—"


class AuditLog(Base):
    __tablename__ = "audit_log"
    # The audit page is newest first (by id) and filtered by user or event: these let a page of
    # a filtered list read its rows from an index instead of walking the whole log.
    __table_args__ = (
        Index("ix_audit_log_username_id", "username", "id"),
        Index("ix_audit_log_action_id", "action", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(48), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)


class UserSession(Base):
    """One log-in on one device. The cookie holds a random id; only its SHA-256 is stored, so
    a copy of the database cannot be turned into working cookies."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginCounter(Base):
    """Failed log-ins of one throttle key (an account from an address, or an address) in the
    current window: one row updated atomically, so racing attempts cannot all pass the check."""

    __tablename__ = "login_counters"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class RecoveryCode(Base):
    """A one-time code for a lost phone, given at enrolment. Only its SHA-256 is stored (the
    codes carry 80 random bits, so a plain hash is enough); ``used_at`` is set once."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
