"""The mission's roles and what each may do or see: the one place that says so.

Views name these groups (``roles_required(*COORDINATION)``) and services ask the predicates,
instead of spelling role names out. See docs/architecture.md, "Who sees what".
"""

from __future__ import annotations

from typing import Protocol

from fieldreport.i18n import N_

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
# Create accounts, reset passwords, end a user's sessions.
ACCOUNT_ADMINS: tuple[str, ...] = (ADMIN,)
# Roles that file reports in the field: they need a team code (what the commission sees).
TEAM_ROLES: tuple[str, ...] = (OBSERVER,)

# What people read instead of the codes (translated at the edge).
ROLE_LABELS: dict[str, str] = {
    OBSERVER: N_("Observer"),
    COORDINATOR: N_("Coordinator"),
    COMMISSION: N_("Commission member"),
    ADMIN: N_("Administrator"),
}


class HasRole(Protocol):
    role: str


def may_see_originals(user: HasRole) -> bool:
    return user.role in ORIGINAL_PHOTO_ROLES


def sees_observer_names(user: HasRole) -> bool:
    """The commission never learns who an observer is: team codes only."""
    return user.role != COMMISSION


def coordinates(user: HasRole) -> bool:
    return user.role in COORDINATION


def administers_accounts(user: HasRole) -> bool:
    return user.role in ACCOUNT_ADMINS
