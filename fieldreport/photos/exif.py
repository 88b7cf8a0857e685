"""Reading a photo's EXIF: when and where it was taken, and which way up it is.

Phones and editors write broken EXIF often enough that nothing here may fail: a fact that cannot
be read is None. The facts feed the reviewer's flags (``flags.py``); the derivatives drop EXIF.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from io import BytesIO
from typing import Any, TypeVar

from PIL import ExifTags, Image

from fieldreport.photos.formats import ALLOWED_FORMATS, register_heif_opener

_TAG_ORIENTATION = ExifTags.Base.Orientation

_TAG_DATETIME_ORIGINAL = ExifTags.Base.DateTimeOriginal

_TAG_OFFSET_TIME_ORIGINAL = ExifTags.Base.OffsetTimeOriginal

_OFFSET_RE = re.compile(r"([+-])(\d{2}):?(\d{2})")


_T = TypeVar("_T")


@dataclass(frozen=True)
class ExifFacts:
    """What the photo's EXIF says, each fact None when absent or unreadable.

    `taken_at` is the phone's wall-clock time: aware when the photo records its UTC offset
    (OffsetTimeOriginal), naive otherwise, and then it must not be compared with UTC as if it
    were. `has_exif` is False when the file carries no EXIF at all or none that can be read.
    """

    taken_at: datetime | None
    taken_at_has_offset: bool
    latitude: float | None
    longitude: float | None
    orientation: int | None
    has_exif: bool


def read_exif(data: bytes) -> ExifFacts:
    """Read capture time, position and orientation from the photo's EXIF, if it has any.

    Phones and editors write broken EXIF often enough that nothing here may fail: a fact
    that cannot be read is None, and this function never raises.
    """
    try:
        register_heif_opener()
        with Image.open(BytesIO(data), formats=ALLOWED_FORMATS) as image:
            exif = image.getexif()
            has_exif = len(exif) > 0
    except Exception:
        return ExifFacts(None, False, None, None, None, False)
    taken_at = _guard(_taken_at, exif)
    latitude, longitude = _guard(_position, exif) or (None, None)
    return ExifFacts(
        taken_at=taken_at,
        taken_at_has_offset=taken_at is not None and taken_at.tzinfo is not None,
        latitude=latitude,
        longitude=longitude,
        orientation=_guard(orientation, exif),
        has_exif=has_exif,
    )


def _guard(read: Callable[[Image.Exif], _T], exif: Image.Exif) -> _T | None:
    """One fact from broken EXIF must not cost the others: any failure reads as None."""
    try:
        return read(exif)
    except Exception:
        return None


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ")


def orientation(exif: Image.Exif) -> int | None:
    value = exif.get(_TAG_ORIENTATION)
    if isinstance(value, (tuple, list)) and value:
        value = value[0]
    if isinstance(value, int) and 1 <= value <= 8:
        return value
    return None


def _taken_at(exif: Image.Exif) -> datetime | None:
    sub_ifd = exif.get_ifd(ExifTags.IFD.Exif)
    text = _text(sub_ifd.get(_TAG_DATETIME_ORIGINAL))
    if not text:
        return None
    try:
        taken_at = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = _utc_offset(_text(sub_ifd.get(_TAG_OFFSET_TIME_ORIGINAL)))
    return taken_at.replace(tzinfo=offset) if offset is not None else taken_at


def _utc_offset(text: str | None) -> timezone | None:
    match = _OFFSET_RE.fullmatch(text or "")
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14) or int(minutes) >= 60:
        return None
    return timezone(-delta if sign == "-" else delta)


def _position(exif: Image.Exif) -> tuple[float, float] | None:
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    latitude = _coordinate(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef))
    longitude = _coordinate(
        gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef)
    )
    if latitude is None or longitude is None or abs(latitude) > 90 or abs(longitude) > 180:
        return None
    # 0/0 everywhere is what some phones write when they have no fix; nobody reports from
    # the Gulf of Guinea's null island.
    if latitude == 0 and longitude == 0:
        return None
    return latitude, longitude


def _coordinate(value: Any, ref: Any) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals and an N/S/E/W reference.

    Without a reference the hemisphere is unknown, and a position in the wrong hemisphere is
    worse than none.
    """
    sign = {"N": 1, "E": 1, "S": -1, "W": -1}.get((_text(ref) or "").upper()[:1])
    if sign is None:
        return None
    parts = value if isinstance(value, (tuple, list)) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    degrees = 0.0
    for index, part in enumerate(parts):
        number = _rational(part, may_be_unknown=index > 0)
        if number is None or number < 0:
            return None
        degrees += number / 60**index
    return sign * degrees


def _rational(value: Any, *, may_be_unknown: bool) -> float | None:
    numerator = getattr(value, "numerator", value)
    denominator = getattr(value, "denominator", 1)
    if denominator == 0:
        # 0/0 minutes or seconds means "not recorded"; n/0 is garbage, as is 0/0 degrees.
        return 0.0 if may_be_unknown and numerator == 0 else None
    number = float(value)
    return number if math.isfinite(number) else None
