"""Which sector a position is in, and putting stored reports in their sectors again.

The re-derive job (`sectors.tasks`) calls this module; it imports nothing of `sectors.service`,
so the service may enqueue the job without an import cycle.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fieldreport.reports.changes import note_changed
from fieldreport.reports.models import Report
from fieldreport.sectors.locator import SectorLocator
from fieldreport.sectors.models import Sector

_cache_lock = threading.Lock()
_locators: dict[str, tuple[tuple[Any, ...], SectorLocator[int]]] = {}


def sectors_stamp(session: Session) -> tuple[Any, ...]:
    """Changes whenever a sector is added, edited or (de)activated: the cache's and job's guard."""
    return tuple(
        session.execute(
            select(func.count(Sector.id), func.max(Sector.updated_at), func.sum(Sector.id)).where(
                Sector.active.is_(True)
            )
        ).one()
    )


def _locator(session: Session) -> SectorLocator[int]:
    """A spatial index of the active sectors, rebuilt only when the sectors change."""
    stamp = sectors_stamp(session)
    key = str(session.get_bind().url)
    with _cache_lock:
        cached = _locators.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    rows = session.execute(
        select(Sector.id, Sector.geometry, Sector.kind).where(Sector.active.is_(True))
    ).all()
    locator = SectorLocator((row.id, row.geometry, row.kind) for row in rows)
    with _cache_lock:
        _locators[key] = (stamp, locator)
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


def rederive_report_sectors(session: Session, *, batch_size: int = 5000) -> int:
    """Put every report in the sector its position falls in now; return how many moved.

    Runs after sectors change. Reads positions in id-ordered batches, locates a whole batch at
    once, and writes only the reports whose sector changed.
    """
    changed = 0
    last_id = 0
    while True:
        rows = session.execute(
            select(Report.id, Report.latitude, Report.longitude, Report.sector_id)
            .where(Report.id > last_id)
            .order_by(Report.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return changed
        found = sectors_for_positions(session, [(row.latitude, row.longitude) for row in rows])
        moves = [
            {"id": row.id, "sector_id": sector}
            for row, sector in zip(rows, found, strict=True)
            if row.sector_id != sector
        ]
        if moves:
            session.execute(update(Report), moves)
            note_changed(session, (move["id"] for move in moves))  # synced clients see the move
            changed += len(moves)
        last_id = rows[-1].id
