"""Where a report is, in words: the nearest named place, its distance and compass direction.

Monitoring missions write "4 km north-east of Zalizne": a reader finds that on any paper map,
where coordinates mean nothing. The gazetteer is loaded by an admin (`gazetteer.parse_places`)
and replaced as a whole; the nearest place is found with a bounding-box prefilter on the
(latitude, longitude) index and the haversine distance over the few candidates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from fieldreport.i18n import N_
from fieldreport.places.gazetteer import PlaceRow
from fieldreport.places.models import Place

EARTH_RADIUS_KM = 6371.0088
SEARCH_RADII_KM = (10.0, 40.0)  # widened until a place is found; none beyond: None
INSIDE_KM = 1.0  # nearer than this to a place's centre: "in Arezzo"

# One whole sentence per direction, so a translation can agree words with each other.
SENTENCES = {
    "N": N_("%(distance)s km north of %(place)s"),
    "NE": N_("%(distance)s km north-east of %(place)s"),
    "E": N_("%(distance)s km east of %(place)s"),
    "SE": N_("%(distance)s km south-east of %(place)s"),
    "S": N_("%(distance)s km south of %(place)s"),
    "SW": N_("%(distance)s km south-west of %(place)s"),
    "W": N_("%(distance)s km west of %(place)s"),
    "NW": N_("%(distance)s km north-west of %(place)s"),
}
IN_PLACE = N_("in %(place)s")
POINTS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")

Translate = Callable[[str], str]


def load_places(session: Session, rows: Iterable[PlaceRow]) -> int:
    """Replace the gazetteer with ``rows``; the number of places loaded."""
    session.execute(delete(Place))
    batch: list[dict[str, object]] = []
    count = 0
    for row in rows:
        batch.append(row._asdict())
        if len(batch) == 5000:
            session.execute(insert(Place), batch)
            count, batch = count + len(batch), []
    if batch:
        session.execute(insert(Place), batch)
        count += len(batch)
    return count


def place_count(session: Session) -> int:
    return int(session.scalar(select(func.count(Place.id))) or 0)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def compass_point(from_lat: float, from_lon: float, to_lat: float, to_lon: float) -> str:
    """The 8-point compass direction of the initial bearing from one position to the other."""
    p1, p2 = math.radians(from_lat), math.radians(to_lat)
    dl = math.radians(to_lon - from_lon)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    bearing = math.degrees(math.atan2(y, x)) % 360
    return POINTS[int((bearing + 22.5) // 45) % 8]


def nearest_place(session: Session, lat: float, lon: float) -> tuple[Place, float] | None:
    """The nearest place and its distance in km, within the widest search radius; else None.

    A candidate found in a box is the nearest overall only if it lies within the box's radius
    (a place just outside a corner could be nearer), so the search widens until that holds.
    """
    for radius in SEARCH_RADII_KM:
        dlat = radius / 111.0
        dlon = radius / (111.0 * max(math.cos(math.radians(lat)), 0.01))
        candidates = session.scalars(
            select(Place).where(
                Place.latitude.between(lat - dlat, lat + dlat),
                Place.longitude.between(lon - dlon, lon + dlon),
            )
        )
        best = min(
            ((p, haversine_km(p.latitude, p.longitude, lat, lon)) for p in candidates),
            key=lambda found: found[1],
            default=None,
        )
        if best is not None and best[1] <= radius:
            return best
    return None


def phrase(name: str, distance_km: float, direction: str, translate: Translate) -> str:
    """ "4 km north-east of Arezzo" (or "in Arezzo" within 1 km of its centre)."""
    if distance_km < INSIDE_KM:
        return translate(IN_PLACE) % {"place": name}
    shown = f"{distance_km:.0f}" if distance_km >= 2 else f"{distance_km:.1f}"
    return translate(SENTENCES[direction]) % {"distance": shown, "place": name}


def describe_location(
    session: Session, lat: float, lon: float, translate: Translate = str
) -> str | None:
    """Where a position is in words, from the nearest named place; None with no place near.

    ``translate`` is the reader's gettext (the web edge's, or a worker's catalogue).
    """
    found = nearest_place(session, lat, lon)
    if found is None:
        return None
    place, distance = found
    direction = compass_point(place.latitude, place.longitude, lat, lon)
    return phrase(place.name, distance, direction, translate)


def places_in_box(
    session: Session, west: float, south: float, east: float, north: float, limit: int = 200
) -> list[Place]:
    """The ``limit`` most populous places in a box (places of unknown size last): map labels."""
    return list(
        session.scalars(
            select(Place)
            .where(Place.latitude.between(south, north), Place.longitude.between(west, east))
            .order_by(Place.population.is_(None), Place.population.desc(), Place.name)
            .limit(limit)
        )
    )
