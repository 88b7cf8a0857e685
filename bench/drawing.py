"""Times the digest's drawing and PDF pieces against the 5 s budget of a digest build.

Run from anywhere: ``python bench/drawing.py``. Inputs are generated with a fixed seed, so
runs differ only by the machine. Each figure is the best of a few runs (the noise on a
shared machine only ever adds time); the PDF's one-off start-up cost is printed apart.
"""

from __future__ import annotations

import io
import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fieldreport.digests.chart import render_trend_png
from fieldreport.digests.map_drawing import render_map_png
from fieldreport.digests.pdf import html_to_pdf
from fieldreport.digests.picture import png_data_uri
from fieldreport.digests.projection import MapEvent, MapSector
from fieldreport.reports.taxonomy import CATEGORY_COLOURS

CATEGORIES = list(CATEGORY_COLOURS)
WEST, SOUTH = 36.0, 47.0  # an arbitrary mission area, about 200 x 120 km
COLUMNS, ROWS, CELL_LON, CELL_LAT = 25, 20, 0.1, 0.055


def timed(action: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Best wall time of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return min(times), result


def make_sectors(rng: random.Random) -> list[MapSector]:
    """500 areas: a jittered grid of sectors, a demilitarized strip and crossing points."""

    def corner(i: int, j: int) -> list[float]:
        jitter = random.Random(i * 1000 + j)  # shared corners: neighbours fit together
        return [
            WEST + i * CELL_LON + jitter.uniform(-0.02, 0.02) * (0 < i < COLUMNS),
            SOUTH + j * CELL_LAT + jitter.uniform(-0.01, 0.01) * (0 < j < ROWS),
        ]

    sectors = []
    for i in range(COLUMNS):
        for j in range(ROWS - 1):
            ring = [corner(i, j), corner(i + 1, j), corner(i + 1, j + 1), corner(i, j + 1)]
            sectors.append(
                MapSector(
                    f"S-{i:02d}{j:02d}",
                    "sector",
                    {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                )
            )
    mid = SOUTH + ROWS * CELL_LAT / 2
    strip = [[WEST, mid - 0.03], [WEST + COLUMNS * CELL_LON, mid - 0.03]]
    strip += [[WEST + COLUMNS * CELL_LON, mid + 0.03], [WEST, mid + 0.03]]
    sectors.append(
        MapSector("DMZ", "dmz", {"type": "Polygon", "coordinates": [[*strip, strip[0]]]})
    )
    while len(sectors) < 500:
        lon = WEST + rng.uniform(0.1, COLUMNS * CELL_LON - 0.1)
        d = 0.004
        ring = [[lon - d, mid - d], [lon + d, mid - d], [lon + d, mid + d], [lon - d, mid + d]]
        sectors.append(
            MapSector(
                f"CP-{len(sectors)}",
                "crossing_point",
                {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            )
        )
    return sectors


def make_rows(rng: random.Random, count: int) -> list[tuple[float, float, str, bool, bool]]:
    """Events crowding along the line of contact, as a real day's would, some far outside."""
    mid = SOUTH + ROWS * CELL_LAT / 2
    rows = []
    for k in range(count):
        lon = WEST + rng.uniform(0, COLUMNS * CELL_LON)
        lat = mid + rng.gauss(0, 0.12) if k % 50 else SOUTH + rng.uniform(-0.2, 1.3)
        category = CATEGORIES[0] if rng.random() < 0.5 else rng.choice(CATEGORIES)
        rows.append((lon, lat, category, rng.random() < 0.6, rng.random() < 0.01))
    return rows


def digest_html(map_png: bytes, trend_png: bytes, annex_rows: int, compact: bool) -> str:
    """A digest-shaped document: headline, map, trend, figure tables and an annex table."""
    rng = random.Random(annex_rows)
    figures = "".join(
        f"<tr><td>{c}</td><td>{rng.randint(0, 500)}</td><td>{rng.randint(0, 90)}</td></tr>"
        for c in CATEGORIES
    )
    rows = []
    for n in range(annex_rows):
        when = f"2026-11-24 {n * 7 // 60 % 24:02d}:{n * 7 % 60:02d}"
        team, sector, cat = f"T-{n % 40:02d}", f"S-{n % 25:02d}{n % 19:02d}", CATEGORIES[n % 7]
        text = escape(f"Observed fire to the north-east, about {n % 9 + 1} km, {n % 5 + 2} bursts.")
        if compact:
            rows.append(f"<tr><td>{when} {team} {sector}</td><td>{cat}</td><td>{text}</td></tr>")
        else:
            cells = (when, team, sector, cat, "small_arms_fire", "verified", text)
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    if compact:
        head = {"Time, team, sector": 24, "Category": 22, "Narrative": 54}
    else:
        head = {"Time": 13, "Team": 6, "Sector": 7, "Category": 17, "Subcategory": 13}
        head |= {"Status": 8, "Narrative": 36}
    columns = "".join(f'<col style="width: {w}%">' for w in head.values())
    titles = "".join(f"<th>{h}</th>" for h in head)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<style>
@page {{ size: A4; margin: 14mm; @bottom-right {{ content: counter(page) " / " counter(pages) }} }}
body {{ font-family: "DejaVu Sans", sans-serif; font-size: 8pt }}
table {{ border-collapse: collapse; width: 100%; table-layout: fixed }}
th, td {{ text-align: left; vertical-align: top; padding: 1pt 3pt; border-bottom: .4pt solid #bbb }}
.annex {{ break-before: page }}
</style></head><body>
<h1>Daily digest 2026-11-24</h1><p>Ceasefire violations: 42</p>
<img src="{png_data_uri(map_png)}" style="width: 180mm">
<img src="{png_data_uri(trend_png)}" style="width: 120mm">
<table><tr><th>Category</th><th>Verified</th><th>Unverified</th></tr>{figures}</table>
<table class="annex"><colgroup>{columns}</colgroup><thead><tr>{titles}</tr></thead>
<tbody>{"".join(rows)}</tbody></table></body></html>"""


def page_count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def main() -> None:
    rng = random.Random(20261124)
    sectors = make_sectors(rng)
    print(f"map: {len(sectors)} sectors, 1000 x 700 px")
    render_map_png(sectors[:5], [])  # warm-up: font lookup
    for count in (1_000, 10_000, 100_000):
        rows = make_rows(random.Random(count), count)
        objects, events = timed(lambda r=rows: [MapEvent(*row) for row in r])
        seconds, png = timed(lambda ev=events: render_map_png(sectors, ev), repeat=5)
        print(
            f"  {count:>7,} events: render {seconds * 1000:6.0f} ms  png {len(png) / 1024:4.0f} KiB"
            f"  (building the MapEvent objects: {objects * 1000:.0f} ms)"
        )
    days = [(date(2026, 11, 11) + timedelta(i), 400 + 37 * (i % 5)) for i in range(14)]
    seconds, trend = timed(lambda: render_trend_png(days, title="Ceasefire violations"))
    print(f"trend chart 600 x 180: {seconds * 1000:.0f} ms")

    map_png = render_map_png(sectors, [MapEvent(*r) for r in make_rows(random.Random(1), 10_000)])
    start = time.perf_counter()
    import weasyprint  # noqa: F401  - the one-off cost a fresh worker process pays

    imported = time.perf_counter() - start
    first, _ = timed(lambda: html_to_pdf("<p>warm-up</p>"), repeat=1)
    print(f"pdf start-up: import weasyprint {imported:.2f} s, first tiny pdf {first:.2f} s")
    for pages, compact in ((5, False), (30, False), (30, True)):
        rows = (pages - 1) * 35  # the annex starts on page 2; a row takes two lines
        html = digest_html(map_png, trend, rows, compact)
        seconds, pdf = timed(lambda h=html: html_to_pdf(h), repeat=2)
        shape = "3-column" if compact else "7-column"
        print(
            f"pdf {pages:>2}-page target: {page_count(pdf):>2} pages, {rows:>4} {shape} annex rows:"
            f" {seconds:5.2f} s  ({rows / seconds:4.0f} rows/s, {page_count(pdf) / seconds:4.1f}"
            f" pages/s, {len(pdf) / 1024:.0f} KiB)"
        )


if __name__ == "__main__":
    main()
