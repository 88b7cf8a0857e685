"""The digest's pictures and PDF: what a commission member would notice if they broke."""

from __future__ import annotations

import base64
import io
import random
from datetime import date, timedelta

import pytest
from PIL import Image
from pypdf import PdfReader

from fieldreport.digests.chart import render_trend_png
from fieldreport.digests.map_base import BORDER, LAND, SEA
from fieldreport.digests.map_drawing import render_map_png
from fieldreport.digests.pdf import ResourceRefused, html_to_pdf
from fieldreport.digests.picture import category_hex, png_data_uri, translated_labels
from fieldreport.digests.projection import MapEvent, MapProjection, MapSector
from fieldreport.reports.taxonomy import CATEGORY_BY_CODE, CATEGORY_COLOURS
from fieldreport.sectors.kinds import SECTOR_KINDS

TAXONOMY = tuple(CATEGORY_BY_CODE)
WHITE = (255, 255, 255)
GROUND = (LAND, SEA)  # the base layer's colours, under every sector and event


def square(code: str, west: float, south: float, size: float, kind: str = "sector") -> MapSector:
    ring = [[west, south], [west + size, south], [west + size, south + size], [west, south + size]]
    return MapSector(code, kind, {"type": "Polygon", "coordinates": [[*ring, ring[0]]]})


def event(lon: float, lat: float, category: str = "ceasefire_violation", **flags: bool) -> MapEvent:
    return MapEvent(lon, lat, category, flags.get("verified", True), flags.get("urgent", False))


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png), formats=["PNG"])
    image.load()
    return image.convert("RGB")


def pixel_at(image: Image.Image, projection: MapProjection, lon: float, lat: float, dx: int = 0):
    x, y = projection.to_pixel(lon, lat)
    return image.getpixel((int(x) + dx, int(y)))


SECTORS = [
    square("S-01", 33.0, 44.0, 0.2),
    square("S-02", 33.2, 44.0, 0.2),
    square("DMZ-A", 33.4, 44.0, 0.1, kind="dmz"),
    square("CP-1", 33.45, 44.1, 0.005, kind="crossing_point"),
]


def test_map_png_has_the_requested_size():
    png = render_map_png(SECTORS, [event(33.1, 44.1)], width=820, height=540)

    assert png.startswith(b"\x89PNG")
    assert decode(png).size == (820, 540)


def test_verified_event_is_a_dot_in_its_category_colour():
    events = [
        event(33.05, 44.03, "ceasefire_violation"),
        event(33.25, 44.17, "civilian_harm"),
        event(33.15, 44.15, "repatriation"),
    ]

    image = decode(render_map_png(SECTORS, events))

    projection = MapProjection.for_map(SECTORS, events)
    for e in events:
        assert pixel_at(image, projection, e.longitude, e.latitude) == CATEGORY_COLOURS[e.category]


def test_unverified_event_is_a_hollow_ring():
    events = [event(33.05, 44.03, "weapons_forces", verified=False)]

    image = decode(render_map_png([], events))

    projection = MapProjection.for_map([], events)
    assert pixel_at(image, projection, 33.05, 44.03) in GROUND  # the base layer shows through
    assert pixel_at(image, projection, 33.05, 44.03, dx=3) == CATEGORY_COLOURS["weapons_forces"]


def test_urgent_event_has_a_black_outer_ring():
    events = [event(33.05, 44.03, "civilian_harm", urgent=True)]

    image = decode(render_map_png(SECTORS, events))

    projection = MapProjection.for_map(SECTORS, events)
    assert pixel_at(image, projection, 33.05, 44.03) == CATEGORY_COLOURS["civilian_harm"]
    assert pixel_at(image, projection, 33.05, 44.03, dx=6) == (0, 0, 0)


def test_event_outside_every_sector_is_still_on_the_map():
    events = [event(34.5, 45.0, "humanitarian")]

    image = decode(render_map_png(SECTORS, events))

    projection = MapProjection.for_map(SECTORS, events)
    x, y = projection.to_pixel(34.5, 45.0)
    assert 0 <= x < image.width
    assert 0 <= y < image.height
    assert pixel_at(image, projection, 34.5, 45.0) == CATEGORY_COLOURS["humanitarian"]


def test_projection_keeps_north_up_and_east_right():
    projection = MapProjection.for_map(SECTORS, [])

    west_x, south_y = projection.to_pixel(33.0, 44.0)
    east_x, north_y = projection.to_pixel(33.5, 44.2)

    assert east_x > west_x
    assert north_y < south_y


def test_hole_in_a_sector_is_left_unfilled():
    outer = [[33.0, 44.0], [33.4, 44.0], [33.4, 44.4], [33.0, 44.4], [33.0, 44.0]]
    hole = [[33.1, 44.1], [33.3, 44.1], [33.3, 44.3], [33.1, 44.3], [33.1, 44.1]]
    sectors = [MapSector("", "sector", {"type": "Polygon", "coordinates": [outer, hole]})]

    image = decode(render_map_png(sectors, []))

    projection = MapProjection.for_map(sectors, [])
    assert pixel_at(image, projection, 33.2, 44.2) in GROUND
    assert pixel_at(image, projection, 33.05, 44.2) not in GROUND


@pytest.mark.parametrize(
    ("sectors", "events"),
    [
        ([], []),
        ([], [event(33.0, 44.0)]),
        (SECTORS, []),
        ([square("S-09", 33.0, 44.0, 0.1)], [event(33.0, 44.0), event(33.0, 44.0)]),
    ],
    ids=["nothing", "single-point", "no-events", "identical-points"],
)
def test_sparse_inputs_still_give_a_map(sectors, events):
    assert decode(render_map_png(sectors, events, width=400, height=300)).size == (400, 300)


def test_unknown_category_is_drawn_as_other():
    events = [event(33.05, 44.03, "a_future_category")]

    image = decode(render_map_png(SECTORS, events))

    projection = MapProjection.for_map(SECTORS, events)
    assert pixel_at(image, projection, 33.05, 44.03) == CATEGORY_COLOURS["other"]


def test_sector_that_is_not_a_polygon_is_refused():
    line = MapSector("S-X", "sector", {"type": "LineString", "coordinates": [[0, 0], [1, 1]]})

    with pytest.raises(ValueError, match="S-X"):
        render_map_png([line], [])


@pytest.mark.parametrize("count", [2_000, 20_000], ids=["sparse", "crowded"])
def test_same_map_input_gives_same_bytes_whatever_the_row_order(count):
    rng = random.Random(7)
    events = [
        event(
            rng.uniform(33, 33.5),
            rng.uniform(44, 44.2),
            rng.choice(TAXONOMY),
            verified=rng.random() < 0.5,
            urgent=rng.random() < 0.05,
        )
        for _ in range(count)
    ]
    shuffled_events, shuffled_sectors = events[:], SECTORS[:]
    rng.shuffle(shuffled_events)
    rng.shuffle(shuffled_sectors)

    first = render_map_png(SECTORS, events)

    assert render_map_png(SECTORS, events) == first
    assert render_map_png(shuffled_sectors, shuffled_events) == first


def test_rare_category_is_not_buried_under_a_common_one():
    nearby = [(33.05 + 0.0002 * i, 44.03 + 0.0002 * j) for i in range(-3, 4) for j in range(-3, 4)]
    events = [event(lon, lat, "ceasefire_violation") for lon, lat in nearby]
    events.append(event(33.05, 44.03, "civilian_harm"))

    image = decode(render_map_png(SECTORS, events))

    projection = MapProjection.for_map(SECTORS, events)
    assert pixel_at(image, projection, 33.05, 44.03) == CATEGORY_COLOURS["civilian_harm"]


def fortnight(last: date) -> list[tuple[date, int]]:
    return [(last - timedelta(days=13 - i), 10 * i + 5) for i in range(14)]


def test_trend_chart_has_the_requested_size_and_highlights_the_last_day():
    png = render_trend_png(fortnight(date(2026, 11, 24)), title="Ceasefire violations")

    image = decode(png)
    assert image.size == (600, 180)
    colours = {colour for _, colour in image.getcolors(maxcolors=100_000)}
    assert category_hex("weapons_forces") == "#0072b2"
    assert (0, 114, 178) in colours  # the last day's bar


def test_trend_chart_without_days_still_renders():
    assert decode(render_trend_png([], width=300, height=120)).size == (300, 120)


def test_trend_chart_is_deterministic():
    days = fortnight(date(2026, 11, 24))

    assert render_trend_png(days, title="x") == render_trend_png(list(reversed(days)), title="x")


def test_trend_chart_refuses_negative_counts():
    with pytest.raises(ValueError, match="negative"):
        render_trend_png([(date(2026, 11, 24), -1)])


def test_every_taxonomy_category_has_a_distinct_colour_and_hex():
    assert set(CATEGORY_COLOURS) == set(TAXONOMY)
    assert len(set(CATEGORY_COLOURS.values())) == len(TAXONOMY)
    assert category_hex("ceasefire_violation") == "#d55e00"
    assert category_hex("not_a_category") == category_hex("other")


def test_every_sector_kind_is_drawn_in_its_own_style():
    sectors = [
        square(kind, 33.0 + 0.1 * i, 44.0, 0.08, kind) for i, kind in enumerate(SECTOR_KINDS)
    ]

    image = decode(render_map_png(sectors, []))

    projection = MapProjection.for_map(sectors, [])
    fills = [pixel_at(image, projection, 33.01 + 0.1 * i, 44.07) for i in range(len(SECTOR_KINDS))]
    assert len(set(fills)) == len(SECTOR_KINDS)


def test_png_data_uri_round_trips():
    png = render_trend_png(fortnight(date(2026, 11, 24)))

    uri = png_data_uri(png)

    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == png
    with pytest.raises(ValueError, match="PNG"):
        png_data_uri(b"GIF89a")


DIGEST_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Digest 2026-11-24</title>
<style>@page {{ size: A4; margin: 15mm }} body {{ font-family: "DejaVu Sans"; font-size: 9pt }}
</style></head><body>
<h1>Daily digest, 2026-11-24</h1>
<p class="headline">Ceasefire violations: 42</p>
<img alt="map" src="{map}" style="width: 170mm">
<table><tr><th>Sector</th><th>Verified</th></tr><tr><td>S-01</td><td>42</td></tr></table>
</body></html>"""


def digest_html() -> str:
    return DIGEST_HTML.format(map=png_data_uri(render_map_png(SECTORS, [event(33.1, 44.1)])))


def test_pdf_carries_the_headline_figure_and_the_map():
    pdf = html_to_pdf(digest_html())

    assert pdf.startswith(b"%PDF")
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert "Ceasefire violations: 42" in page.extract_text()
    assert len(page.images) == 1


def test_same_html_gives_same_pdf_bytes():
    html = digest_html()

    assert html_to_pdf(html) == html_to_pdf(html)


def test_pdf_reads_images_under_base_url(tmp_path):
    (tmp_path / "map.png").write_bytes(render_map_png(SECTORS, []))

    pdf = html_to_pdf('<p>Map</p><img src="map.png">', base_url=str(tmp_path))

    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1


@pytest.mark.parametrize(
    "reference",
    [
        '<img src="http://192.0.2.1/track.png">',
        '<img src="file:///etc/passwd">',
        '<img src="../outside.png">',
        '<img src="missing.png">',
        '<link rel="stylesheet" href="https://example.org/style.css">',
    ],
)
def test_pdf_refuses_resources_outside_base_url(tmp_path, reference):
    base = tmp_path / "static"
    base.mkdir()
    (tmp_path / "outside.png").write_bytes(render_map_png([], []))

    with pytest.raises(ResourceRefused):
        html_to_pdf(f"<p>x</p>{reference}", base_url=str(base))


def test_relative_image_without_base_url_is_refused_not_dropped():
    with pytest.raises(ResourceRefused, match="base_url"):
        html_to_pdf('<img src="map.png">')


def test_the_pictures_words_are_the_callers_translation():
    labels = translated_labels(lambda message: f"«{message}»")

    assert labels["events"] == "«Events»" and labels["average"] == "«7-day avg»"
    assert set(labels) >= {*CATEGORY_COLOURS, "verified", "unverified", "urgent", "no_data"}
    assert render_map_png(SECTORS, [], labels=labels) != render_map_png(SECTORS, [])


def test_the_base_layer_shows_land_sea_and_borders_with_no_internet():
    # Two events far apart frame the Black Sea's north-west coast: Moldova to open sea.
    events = [event(28.0, 46.5, "other"), event(34.0, 43.2, "other")]

    image = decode(render_map_png([], events))

    projection = MapProjection.for_map([], events)
    assert pixel_at(image, projection, 31.5, 43.8) == SEA  # the Black Sea
    assert pixel_at(image, projection, 33.0, 46.6) == LAND  # the steppe by Kherson
    border = [pixel_at(image, projection, lon / 100, 45.6) for lon in range(2840, 2900)]
    assert BORDER in border  # Ukraine and Moldova meet on the Danube delta's north side
