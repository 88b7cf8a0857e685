"""Recovery codes: ten one-time codes given at enrolment, for a user whose phone is lost.

Each code carries 80 random bits (16 letters and digits, shown in groups of four), so only its
SHA-256 is stored: a copy of the database gives nobody a working code. Using one marks it with
one conditional ``UPDATE``, so two requests racing with the same code cannot both pass.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from fieldreport.accounts.models import RecoveryCode, User

HOW_MANY = 10
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from paper
LENGTH = 16


def normalise(code: str) -> str:
    """What the user typed, without spaces, dashes or case (they copy it from paper)."""
    return "".join(code.split()).replace("-", "").upper()


def _digest(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def _grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def looks_like_one(code: str) -> bool:
    return len(normalise(code)) == LENGTH


def replace_codes(session: Session, user: User, now: datetime) -> list[str]:
    """Forget the user's codes and make ``HOW_MANY`` new ones; returns them (shown once)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(ALPHABET) for _ in range(LENGTH)) for _ in range(HOW_MANY)]
    for code in codes:
        session.add(RecoveryCode(user_id=user.id, code_sha256=_digest(code), created_at=now))
    session.flush()
    return [_grouped(code) for code in codes]


def use_code(session: Session, user: User, code: str, now: datetime) -> bool:
    """Spend one of the user's unused codes; False when ``code`` is none of them (or used)."""
    result = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_sha256 == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def remaining(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def forget_codes(session: Session, user: User) -> None:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
