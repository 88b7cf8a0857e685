"""Coordinators' sector limits: a limited coordinator sees and reviews only their sectors."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.accounts.roles import coordinates
from fieldreport.accounts.service import audit
from fieldreport.i18n import N_
from fieldreport.sectors.errors import SectorError
from fieldreport.sectors.models import CoordinatorSector, Sector


def visible_sector_ids(session: Session, user: User | None) -> set[int] | None:
    """The sectors a coordinator is limited to, or None when they may see all of them."""
    if user is None or user.role != "coordinator":
        return None
    ids = set(
        session.scalars(
            select(CoordinatorSector.sector_id).where(CoordinatorSector.user_id == user.id)
        )
    )
    return ids or None


def may_change_sectors(session: Session, user: User | None) -> bool:
    """Admins and coordinators of every sector draw and import sectors (no user: the command).

    The sector lines decide which reports a limited coordinator sees, so a limited coordinator
    may not move them, rename or (de)activate a sector either (docs/architecture.md, "Who sees
    what").
    """
    if user is None:
        return True
    return coordinates(user) and visible_sector_ids(session, user) is None


def coordinators(session: Session) -> list[User]:
    """Every coordinator, by user name: the choices of the limits form."""
    return list(
        session.scalars(select(User).where(User.role == "coordinator").order_by(User.username))
    )


def coordinator_limits(session: Session) -> dict[int, list[int]]:
    """Each limited coordinator's sector ids (coordinators without rows see every sector)."""
    limits: dict[int, list[int]] = {}
    for user_id, sector_id in session.execute(
        select(CoordinatorSector.user_id, CoordinatorSector.sector_id).order_by(
            CoordinatorSector.user_id, CoordinatorSector.sector_id
        )
    ):
        limits.setdefault(user_id, []).append(sector_id)
    return limits


def set_coordinator_sectors(
    session: Session, coordinator_id: int, sector_ids: Iterable[int], actor: User | None
) -> None:
    """Limit a coordinator to ``sector_ids``; an empty set lifts the limit (all sectors)."""
    coordinator = session.get(User, coordinator_id)
    if coordinator is None or coordinator.role != "coordinator":
        raise SectorError("coordinator", N_("choose a coordinator"))
    wanted = set(sector_ids)
    known = set(session.scalars(select(Sector.id).where(Sector.id.in_(wanted))))
    if known != wanted:
        raise SectorError("sectors", N_("unknown sector"))
    session.execute(delete(CoordinatorSector).where(CoordinatorSector.user_id == coordinator_id))
    session.add_all(CoordinatorSector(user_id=coordinator_id, sector_id=s) for s in sorted(wanted))
    audit(
        session,
        "sectors.coordinator_limits",
        user=actor,
        detail={"coordinator": coordinator.username, "sectors": sorted(wanted)},
    )
