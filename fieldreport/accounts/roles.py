"""The mission's roles and what each may do or see: the one place that says so.

Views name these groups (``roles_required(*COORDINATION)``) and services ask the predicates,
instead of spelling role names out. See docs/architecture.md, "Who sees what".
"""

from __future__ import annotations

from typing import Protocol

OBSERVER = "observer"
COORDINATOR = "coordinator"
COMMISSION = "commission"
ADMIN = "admin"

ROLES: tuple[str, ...] = (OBSERVER, COORDINATOR, COMMISSION, ADMIN)
ALL_ROLES = ROLES
# Draw sectors, assign observers, review reports, rebuild digests.
COORDINATION: tuple[str, ...] = (COORDINATOR, ADMIN)
# Read the daily digest.
DIGEST_READERS: tuple[str, ...] = (COMMISSION, COORDINATOR, ADMIN)
# Download a photo's original file (with its EXIF). The commission sees derivatives only.
ORIGINAL_PHOTO_ROLES: tuple[str, ...] = (OBSERVER, COORDINATOR, ADMIN)


class HasRole(Protocol):
    role: str


def may_see_originals(user: HasRole) -> bool:
    return user.role in ORIGINAL_PHOTO_ROLES


def sees_observer_names(user: HasRole) -> bool:
    """The commission never learns who an observer is: team codes only."""
    return user.role != COMMISSION


def coordinates(user: HasRole) -> bool:
    return user.role in COORDINATION
