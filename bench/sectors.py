"""Benchmark: sector of 100,000 report positions, STRtree locator against the naive loop.

Run `python bench/sectors.py`. It builds a seeded, realistic layout over about 200 x 200 km
(500 irregular sectors tiling the area, winding DMZ strips over them, crossing-point areas on
the strips), times SectorLocator (build + locate_many) and the naive loop over every polygon
(`geometry.covers(Point)`), checks that both give the same answers, and prints the ratio.
Target: the locator at least 20x faster. Exits 1 only if the answers differ.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

import numpy as np
import shapely
from shapely.geometry import Point

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fieldreport.sectors.locator import SectorLocator
from fieldreport.sectors.shapes import GeometryLike, as_polygonal, overlap_rank

CENTRE_LAT, CENTRE_LON = 43.467, 11.885  # the Italian test photo's position
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320 * math.cos(math.radians(CENTRE_LAT))
COLUMNS, ROWS = 25, 20  # 500 sectors of 8 x 10 km
WIDTH_KM = HEIGHT_KM = 200.0
EDGE_POINTS = 14  # intermediate vertices per shared edge: borders follow roads and rivers
NAIVE_BUDGET_S = 60.0
TARGET_RATIO = 20.0

Polygons = list[tuple[str, shapely.Polygon, str]]
K = TypeVar("K")


def naive_locate(
    polygons: Iterable[tuple[K, GeometryLike, str]], lon: float, lat: float
) -> K | None:
    """Reference answer for one position: test every polygon, then apply the overlap rule.

    Why: slow but obviously right, so the tests and this benchmark can check `SectorLocator`.
    """
    point = Point(lon, lat)
    best: tuple[int, float, K, int] | None = None
    for order, (key, geometry, kind) in enumerate(polygons):
        geom = as_polygonal(geometry)
        if geom.covers(point):
            candidate = (*overlap_rank(kind, geom), key, order)
            if best is None or candidate < best:
                best = candidate
    return None if best is None else best[2]


def to_lonlat(xy: np.ndarray) -> np.ndarray:
    """Local kilometres (east, north of the centre) to lon/lat: fine at this scale."""
    lon = CENTRE_LON + xy[..., 0] / KM_PER_DEG_LON
    lat = CENTRE_LAT + xy[..., 1] / KM_PER_DEG_LAT
    return np.stack([lon, lat], axis=-1)


def wobbly_edge(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, amp: float) -> np.ndarray:
    """Points strictly between a and b, pushed sideways; both neighbours share the same edge."""
    t = np.linspace(0.0, 1.0, EDGE_POINTS + 2)[1:-1]
    direction = b - a
    normal = np.array([-direction[1], direction[0]]) / np.hypot(*direction)
    offsets = amp * np.sin(np.pi * t) * rng.uniform(-1.0, 1.0, t.size)
    return a + t[:, None] * direction + offsets[:, None] * normal


def sector_grid(rng: np.random.Generator) -> Polygons:
    """A tiling without gaps or overlaps: cells share jittered corners and wobbly edges."""
    cell_w, cell_h = WIDTH_KM / COLUMNS, HEIGHT_KM / ROWS
    xs = -WIDTH_KM / 2 + cell_w * np.arange(COLUMNS + 1)
    ys = -HEIGHT_KM / 2 + cell_h * np.arange(ROWS + 1)
    corners = np.stack(np.meshgrid(xs, ys), axis=-1)  # [row, column, xy]
    corners[1:-1, 1:-1] += rng.uniform(-0.2, 0.2, (ROWS - 1, COLUMNS - 1, 2)) * [cell_w, cell_h]
    amp = 0.08 * min(cell_w, cell_h)
    east = {
        (r, c): wobbly_edge(rng, corners[r, c], corners[r, c + 1], amp)
        for r in range(ROWS + 1)
        for c in range(COLUMNS)
    }
    north = {
        (r, c): wobbly_edge(rng, corners[r, c], corners[r + 1, c], amp)
        for r in range(ROWS)
        for c in range(COLUMNS + 1)
    }
    sectors: Polygons = []
    for r in range(ROWS):
        for c in range(COLUMNS):
            ring = np.concatenate(
                [
                    corners[r, c][None],
                    east[r, c],
                    corners[r, c + 1][None],
                    north[r, c + 1],
                    corners[r + 1, c + 1][None],
                    east[r + 1, c][::-1],
                    corners[r + 1, c][None],
                    north[r, c][::-1],
                ]
            )
            polygon = shapely.Polygon(to_lonlat(ring))
            sectors.append((f"S-{r:02d}{c:02d}", polygon, "sector"))
    return sectors


def dmz_and_crossings(rng: np.random.Generator) -> Polygons:
    """Winding DMZ strips (2-5 km wide) across the sectors, crossing points on them."""
    strips: Polygons = []
    crossings: Polygons = []
    for s in range(8):
        x = np.linspace(-95.0, 95.0, 60)
        y = rng.uniform(-80, 80) + 12 * np.sin(x / rng.uniform(15, 40) + rng.uniform(0, 6))
        line = np.stack([x, y], axis=1) if s % 2 == 0 else np.stack([y, x], axis=1)
        half_width = rng.uniform(1.0, 2.5)
        strip_km = shapely.LineString(line).buffer(half_width, quad_segs=4)
        strips.append((f"DMZ-{s + 1:02d}", _km_to_lonlat(strip_km), "dmz"))
        if s < 6:
            at = line[rng.integers(5, 55)]
            circle = shapely.Point(at).buffer(rng.uniform(1.0, 2.0), quad_segs=8)
            crossings.append((f"CP-{s + 1:02d}", _km_to_lonlat(circle), "crossing_point"))
    return strips + crossings


def _km_to_lonlat(polygon: shapely.Polygon) -> shapely.Polygon:
    return shapely.Polygon(to_lonlat(np.asarray(polygon.exterior.coords)))


def report_positions(rng: np.random.Generator, count: int, polygons: Polygons) -> np.ndarray:
    """Mostly anywhere (some outside every sector), 3% exactly on a sector's border vertex."""
    on_border = count * 3 // 100
    anywhere = to_lonlat(rng.uniform(-110, 110, (count - on_border, 2)))
    vertices = np.concatenate(
        [np.asarray(p.exterior.coords) for _, p, kind in polygons if kind == "sector"]
    )
    border = vertices[rng.integers(0, len(vertices), on_border)]
    positions = np.concatenate([anywhere, border])
    return positions[rng.permutation(count)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--naive-budget", type=float, default=NAIVE_BUDGET_S, metavar="SECONDS")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    polygons = sector_grid(rng) + dmz_and_crossings(rng)
    invalid = [code for code, p, _ in polygons if not p.is_valid]
    if invalid:
        print(f"generated invalid polygons: {invalid[:5]}", file=sys.stderr)
        return 1
    positions = report_positions(rng, args.points, polygons)
    lons, lats = positions[:, 0].tolist(), positions[:, 1].tolist()
    kinds = {k: sum(1 for *_, kind in polygons if kind == k) for k in ("sector", "dmz")}
    kinds["crossing_point"] = len(polygons) - kinds["sector"] - kinds["dmz"]
    vertices = sum(len(p.exterior.coords) for _, p, _ in polygons)
    print(
        f"{len(polygons)} polygons ({kinds['sector']} sectors, {kinds['dmz']} DMZ strips, "
        f"{kinds['crossing_point']} crossing points; {vertices:,} vertices), "
        f"{args.points:,} positions, seed {args.seed}"
    )

    tree = shapely.STRtree([p for _, p, _ in polygons])
    hits = tree.query(shapely.points(positions), predicate="intersects")[0]
    in_several = int((np.bincount(hits, minlength=args.points) > 1).sum())
    print(
        f"{in_several:,} positions lie in 2+ polygons (overlaps, shared borders): the rule decides"
    )

    # GeoJSON dicts, as the service will hand them over from the database.
    stored = [(code, shapely.geometry.mapping(p), kind) for code, p, kind in polygons]
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        locator = SectorLocator(stored)
        built = time.perf_counter()
        answers = locator.locate_many(lons, lats)
        runs.append((time.perf_counter() - started, built - started))
    indexed_s, build_s = min(runs)
    print(
        f"(a) SectorLocator: build {build_s * 1000:.1f} ms + locate_many "
        f"{(indexed_s - build_s) * 1000:.1f} ms = {indexed_s * 1000:.1f} ms "
        f"(best of 3; {indexed_s / args.points * 1e6:.2f} µs per position)"
    )

    sample = min(args.points, 1_000)
    started = time.perf_counter()
    naive = [naive_locate(polygons, lons[i], lats[i]) for i in range(sample)]
    per_point = (time.perf_counter() - started) / sample
    if per_point * args.points <= args.naive_budget:
        naive = [naive_locate(polygons, lon, lat) for lon, lat in zip(lons, lats, strict=True)]
        naive_s = time.perf_counter() - started
        checked = args.points
        how = "measured on all positions"
    else:
        more = int(args.naive_budget / 4 / per_point)  # a few more seconds for a steadier rate
        naive += [naive_locate(polygons, lons[i], lats[i]) for i in range(sample, sample + more)]
        checked = sample + more
        naive_s = (time.perf_counter() - started) / checked * args.points
        how = (
            f"EXTRAPOLATED from {checked:,} positions (the full loop would take over "
            f"{args.naive_budget:.0f} s)"
        )
    print(f"(b) naive loop:      {naive_s:.1f} s — {how}; {naive_s / args.points * 1e6:.1f} µs/pos")

    mismatches = [i for i in range(checked) if naive[i] != answers[i]]
    located = sum(a is not None for a in answers[:checked])
    print(
        f"answers: {checked - len(mismatches):,} of {checked:,} identical "
        f"({located:,} in a sector, {checked - located:,} outside every sector)"
    )
    ratio = naive_s / indexed_s
    verdict = "target met" if ratio >= TARGET_RATIO else "BELOW TARGET"
    print(f"ratio: {ratio:.0f}x faster (target >= {TARGET_RATIO:.0f}x: {verdict})")
    if mismatches:
        first = mismatches[0]
        print(
            f"MISMATCH at position {first} ({lons[first]}, {lats[first]}): "
            f"locator {answers[first]!r}, naive {naive[first]!r}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
