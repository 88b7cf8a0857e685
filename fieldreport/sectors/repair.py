"""Repair of a slightly invalid sector outline, and the test of whether the repair is harmless.

Real boundaries often arrive invalid by a hair: Ukraine's outline in Natural Earth 1:10m
(world-atlas ``countries-10m``, 2,638 vertices) crosses itself where two arcs meet once converted
to GeoJSON. GEOS's ``make_valid`` (structure method: polygons kept, slivers dropped) mends such a
line; the area before and after tells whether the repair only mended or changed the shape. A
bow-tie's two lobes cancel in the ring's area: "repairing" it makes an area out of nothing, so it
is refused with that reason. A repair is never silent: it comes back as a note that the
coordinator sees, with a preview, before anything is saved (`service.import_sector_collection`).
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from fieldreport.sectors.shapes import geodesic_area_m2

MAX_AREA_CHANGE = 0.001  # 0.1 %: more than this is a different shape, not a mended one


@dataclass(frozen=True)
class Repair:
    """The repaired shape (None: refused) and the sentence that says what happened."""

    geometry: BaseGeometry | None
    note: str
    area_change: float  # relative; inf when the original encloses no area


def repair_polygonal(geom: BaseGeometry, problem: str) -> Repair:
    """Mend ``geom`` (invalid because of ``problem``, in words) if its area barely changes."""
    before = geodesic_area_m2(geom)  # as drawn: a bow-tie's lobes cancel out
    fixed = _polygonal_part(shapely.make_valid(geom, method="structure", keep_collapsed=False))
    after = geodesic_area_m2(fixed) if fixed is not None else 0.0
    change = abs(after - before) / before if before > 0 else float("inf")
    if fixed is None or fixed.is_empty or change > MAX_AREA_CHANGE:
        return Repair(None, _refusal(problem, before, after, change), change)
    note = (
        f"repaired: {problem}; the repaired outline's area differs by {_percent(change)} "
        f"({_area(abs(after - before))} of {_area(before)})"
    )
    return Repair(shapely.orient_polygons(fixed), note, change)


def _polygonal_part(geom: BaseGeometry) -> BaseGeometry | None:
    """The polygons of a repair's result (lines and points of collapsed parts dropped)."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon)]
    parts += [
        q for p in shapely.get_parts(geom) if isinstance(p, shapely.MultiPolygon) for q in p.geoms
    ]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _refusal(problem: str, before: float, after: float, change: float) -> str:
    if before <= 0:
        what = (
            "its rings enclose no area as drawn (a bow-tie: the line crosses over and the two "
            f"lobes cancel out), so a repair would make up {_area(after)} of area"
        )
    else:
        what = (
            f"repairing it would change its area by {_percent(change)} "
            f"({_area(before)} → {_area(after)})"
        )
    return f"{problem}; not repaired: {what}"


def _percent(change: float) -> str:
    if change < 1e-6:
        return "less than a millionth"
    percent = change * 100
    return f"{percent:.4f} %" if percent < 1 else f"{percent:,.1f} %"


def _area(m2: float) -> str:
    km2 = m2 / 1e6
    if km2 >= 100:
        return f"{km2:,.0f} km²"
    return f"{km2:,.2f} km²" if km2 >= 0.1 else f"{m2:,.0f} m²"
