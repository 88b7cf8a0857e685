"""Describe many positions at once (an export of 100,000 reports) from places held in memory.

`service.describe_location` asks the database once per position: right for one page, too slow
for a file. Here the gazetteer's names and positions are read once (plain rows, no ORM objects)
into a grid of cells of ``CELL_DEG`` degrees, and each position looks only at the cells around.
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
Entry = tuple[str, float, float]
Located = tuple[str, float, str]  # place name, distance in km, compass point (N, NE, ...)
Locate = Callable[[float, float], Located | None]


def place_locator(session: Session) -> Locate:
    """A function giving a position's nearest place within 40 km as (name, km, compass point),
    or None: the parts of the sentence, for a document that words it later in its language."""
    grid: dict[tuple[int, int], list[Entry]] = defaultdict(list)
    rows = session.execute(select(Place.name, Place.latitude, Place.longitude))
    for name, lat, lon in rows:
        grid[_cell(lat, lon)].append((name, lat, lon))

    # The candidates of a neighbourhood, gathered once: an export asks for thousands of
    # positions in the same few cells.
    near: dict[tuple[int, int, int], list[Entry]] = {}

    def locate(lat: float, lon: float) -> Located | None:
        if not grid:
            return None
        key = (*_cell(lat, lon), _span(lat))
        candidates = near.get(key)
        if candidates is None:
            candidates = near[key] = _nearby(grid, lat, lon)
        best = min(
            ((e, haversine_km(e[1], e[2], lat, lon)) for e in candidates),
            key=lambda found: found[1],
            default=None,
        )
        if best is None or best[1] > RADIUS_KM:
            return None
        (name, place_lat, place_lon), distance = best
        return name, distance, compass_point(place_lat, place_lon, lat, lon)

    return locate


def place_finder(
    session: Session, translate: Translate = str, locate: Locate | None = None
) -> Callable[[float, float], str]:
    """A function giving a position's description ("" when no place is within 40 km);
    ``locate`` reuses a locator already made in this transaction (the gazetteer is read once)."""
    locate = locate or place_locator(session)

    def describe(lat: float, lon: float) -> str:
        found = locate(lat, lon)
        return phrase(*found, translate) if found else ""

    return describe


def _nearby(grid: dict[tuple[int, int], list[Entry]], lat: float, lon: float) -> list[Entry]:
    """The places of the cells within 40 km (more cells of longitude away from the equator)."""
    cy, cx = _cell(lat, lon)
    span = _span(lat)
    return [
        entry
        for dy in (-1, 0, 1)
        for dx in range(-span, span + 1)
        for entry in grid.get((cy + dy, cx + dx), ())
    ]


def _span(lat: float) -> int:
    """How many cells of longitude lie within 40 km at ``lat`` (more away from the equator)."""
    return 1 + int(1 / max(math.cos(math.radians(lat)), 0.1))


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / CELL_DEG), math.floor(lon / CELL_DEG)
