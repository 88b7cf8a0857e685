"""What the digest's pictures share: colours, fonts, legend words and the PNG encoding.

The map (``map_drawing.py``) and the trend chart (``chart.py``) draw with the same ink, fonts
and words, so that they read as one document. The category colours are the taxonomy's
(``reports.taxonomy.CATEGORY_COLOURS``); the words are English message ids that the caller
translates and passes as ``labels=`` (the digest is rendered by a worker, in the commission's
language: docs/architecture.md, "Words for people").
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Callable

from PIL import Image, ImageFont

from fieldreport.i18n import N_
from fieldreport.reports.taxonomy import CATEGORY_COLOURS, category_label

CATEGORIES: tuple[str, ...] = tuple(CATEGORY_COLOURS)
OTHER = CATEGORIES.index("other")

# Legend and message texts: English message ids; callers pass `labels=` to translate them.
DEFAULT_LABELS: dict[str, str] = {
    **{code: category_label(code) for code in CATEGORIES},
    "events": N_("Events"),
    "verified": N_("Verified"),
    "unverified": N_("Unverified"),
    "urgent": N_("Urgent"),
    "areas": N_("Areas"),
    "sector": N_("Sector"),
    "dmz": N_("Demilitarized zone"),
    "crossing_point": N_("Crossing point"),
    "no_data": N_("No sectors or events"),
    "no_days": N_("No data"),
    "average": N_("7-day avg"),
}

Colour = tuple[int, int, int]
BACKGROUND: Colour = (255, 255, 255)
FRAME: Colour = (170, 170, 170)
INK: Colour = (33, 33, 33)
HALO: Colour = (255, 255, 255)
URGENT_RING: Colour = (0, 0, 0)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

_FONT_FILES = {
    False: ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf"),
    True: ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "DejaVuSans-Bold.ttf"),
}


def category_hex(code: str) -> str:
    """The category's colour as ``#rrggbb`` so the web map (Leaflet) matches the PDF map.

    An unknown code gets the colour of ``other``: a taxonomy that grew a category must not
    break the nightly digest or the map page.
    """
    red, green, blue = CATEGORY_COLOURS.get(code, CATEGORY_COLOURS["other"])
    return f"#{red:02x}{green:02x}{blue:02x}"


def translated_labels(gettext: Callable[[str], str]) -> dict[str, str]:
    """Every legend and message text of the pictures, translated by the caller's ``gettext``."""
    return {key: gettext(text) for key, text in DEFAULT_LABELS.items()}


@functools.cache
def _font_path(bold: bool) -> str | None:
    # Cached because a bare file name makes Pillow walk the system font directories.
    for candidate in _FONT_FILES[bold]:
        try:
            ImageFont.truetype(candidate, 10)
        except OSError:
            continue
        return candidate
    return None


def typeface(size: int, *, bold: bool = False) -> Font:
    """DejaVu Sans (wide Unicode coverage), or Pillow's built-in font where it is missing."""
    path = _font_path(bold)
    if path is not None:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def png_bytes(image: Image.Image) -> bytes:
    """The image as PNG without metadata chunks (times, software): same input, same bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def png_data_uri(png: bytes) -> str:
    """A ``data:image/png;base64,…`` URI, so the HTML and PDF carry their images inline."""
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("not PNG bytes")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
