"""The sector lines served to every phone and map, simplified once per change of the sectors.

Simplifying a detailed border costs milliseconds per sector (18 ms for 20,000 vertices), and
`/api/v1/sectors` is fetched by every observer's phone: so the simplified features are kept and
made again only when `locate.sectors_stamp` changes, the same guard as the sector locator's.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldreport.sectors.geojson import SectorFeature
from fieldreport.sectors.locate import sectors_stamp
from fieldreport.sectors.models import Sector
from fieldreport.sectors.shapes import display_geometry

_lock = threading.Lock()
_cached: dict[str, tuple[tuple[Any, ...], list[tuple[int, SectorFeature]]]] = {}


def display_features(session: Session) -> list[tuple[int, SectorFeature]]:
    """(id, simplified feature) of every active sector, by code."""
    stamp = sectors_stamp(session)
    key = str(session.get_bind().url)
    with _lock:
        cached = _cached.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    rows = session.scalars(select(Sector).where(Sector.active.is_(True)).order_by(Sector.code))
    features = [
        (s.id, SectorFeature(s.code, s.name, s.kind, display_geometry(s.geometry))) for s in rows
    ]
    with _lock:
        _cached[key] = (stamp, features)
    return features
