"""Sectors: which sector a position falls in, and which sectors a user may see."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.sectors.models import CoordinatorSector, Sector

_cache_lock = threading.Lock()
_locators: dict[str, tuple[Any, Any]] = {}


def _locator(session: Session) -> Any:
    """A spatial index of the active sectors, rebuilt only when the sectors change."""
    from fieldreport.sectors.geometry import SectorLocator

    stamp = session.execute(
        select(func.count(Sector.id), func.max(Sector.updated_at), func.sum(Sector.id)).where(
            Sector.active.is_(True)
        )
    ).one()
    key = str(session.get_bind().url)
    with _cache_lock:
        cached = _locators.get(key)
        if cached is not None and cached[0] == tuple(stamp):
            return cached[1]
    rows = session.execute(
        select(Sector.id, Sector.geometry, Sector.kind).where(Sector.active.is_(True))
    ).all()
    locator = SectorLocator((row.id, row.geometry, row.kind) for row in rows)
    with _cache_lock:
        _locators[key] = (tuple(stamp), locator)
    return locator


def sector_for_position(session: Session, latitude: float, longitude: float) -> int | None:
    """The id of the sector a position falls in, or None when it is outside every sector."""
    return _locator(session).locate(longitude, latitude)


def sectors_for_positions(
    session: Session, positions: list[tuple[float, float]]
) -> list[int | None]:
    """Vectorised :func:`sector_for_position` for many (latitude, longitude) pairs."""
    if not positions:
        return []
    lats, lons = zip(*positions, strict=True)
    return _locator(session).locate_many(list(lons), list(lats))


def visible_sector_ids(session: Session, user: User) -> set[int] | None:
    """The sectors a coordinator is limited to, or None when they may see all of them."""
    if user.role != "coordinator":
        return None
    ids = set(
        session.scalars(
            select(CoordinatorSector.sector_id).where(CoordinatorSector.user_id == user.id)
        )
    )
    return ids or None
