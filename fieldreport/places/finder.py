"""Describe many positions at once (an export of 100,000 reports) from places held in memory.

`service.describe_location` asks the database once per position: right for one page, too slow
for a file. Here the gazetteer is read once into a grid of cells of ``CELL_DEG`` degrees and each
position looks only at its own and the neighbouring cells.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldreport.places.models import Place
from fieldreport.places.service import Translate, compass_point, haversine_km, phrase

CELL_DEG = 0.5  # about 55 km of latitude: the neighbouring cells cover any place within 40 km
RADIUS_KM = 40.0


def place_finder(session: Session, translate: Translate = str) -> Callable[[float, float], str]:
    """A function giving a position's description ("" when no place is within 40 km)."""
    grid: dict[tuple[int, int], list[Place]] = defaultdict(list)
    for place in session.scalars(select(Place)):
        session.expunge(place)
        grid[_cell(place.latitude, place.longitude)].append(place)

    def describe(lat: float, lon: float) -> str:
        cy, cx = _cell(lat, lon)
        span = 1 + int(1 / max(math.cos(math.radians(lat)), 0.1))  # cells shrink poleward
        nearby = (
            p
            for dy in (-1, 0, 1)
            for dx in range(-span, span + 1)
            for p in grid.get((cy + dy, cx + dx), ())
        )
        best = min(
            ((p, haversine_km(p.latitude, p.longitude, lat, lon)) for p in nearby),
            key=lambda found: found[1],
            default=None,
        )
        if best is None or best[1] > RADIUS_KM:
            return ""
        place, distance = best
        return phrase(
            place, distance, compass_point(place.latitude, place.longitude, lat, lon), translate
        )

    return describe


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / CELL_DEG), math.floor(lon / CELL_DEG)
