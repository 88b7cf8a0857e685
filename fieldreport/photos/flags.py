"""A reviewer's warnings about a photo: where and when it was taken, against its report.

A flag is a hint in plain words, not a verdict; nothing is refused for one.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fieldreport.config import Settings
from fieldreport.photos.exif import ExifFacts


def photo_flags(
    exif: ExifFacts,
    taken_at: datetime | None,
    *,
    latitude: float,
    longitude: float,
    occurred_at: datetime,
    settings: Settings,
) -> list[dict[str, Any]]:
    """Plain-word warnings for a reviewer: where and when the photo was taken against the report.

    A flag is a hint, not a verdict: a phone with a wrong clock or a photo sent later from
    elsewhere is common, so nothing is rejected for it.
    """
    flags = _camera_data_flags(exif)
    if exif.latitude is not None and exif.longitude is not None:
        distance_m = haversine_m(latitude, longitude, exif.latitude, exif.longitude)
        if distance_m > settings.photo_distance_flag_m:
            flags.append(_far_flag(distance_m, settings.photo_distance_flag_m))
    if taken_at is not None:
        hours = (taken_at - occurred_at).total_seconds() / 3600
        if abs(hours) > settings.photo_time_flag_hours:
            flags.append(_late_or_early_flag(hours, settings.photo_time_flag_hours))
    return flags


def _camera_data_flags(exif: ExifFacts) -> list[dict[str, Any]]:
    if not exif.has_exif:
        message = "photo has no camera data (EXIF): its time and place cannot be checked"
        return [{"code": "no_exif", "message": message}]
    if exif.latitude is None or exif.longitude is None:
        return [{"code": "no_gps", "message": "photo has no GPS position"}]
    return []


def _far_flag(distance_m: float, threshold_m: float) -> dict[str, Any]:
    km = _km(distance_m)
    return {
        "code": "far_from_report",
        "message": f"photo taken {km} km from the reported position",
        "distance_m": round(distance_m),
        "distance_km": km,
        "threshold_m": threshold_m,
    }


def _late_or_early_flag(hours: float, threshold_hours: float) -> dict[str, Any]:
    when = "before" if hours < 0 else "after"
    return {
        "code": "time_far_from_event",
        "message": f"photo taken {_duration(abs(hours))} {when} the reported time",
        "hours": round(hours, 1),
        "threshold_hours": threshold_hours,
    }


def exif_time_utc(exif: ExifFacts, offset_minutes: int) -> datetime | None:
    """The EXIF capture time in UTC; a time without offset is read in the report's own offset.

    Cameras write local wall-clock time without a zone; the phone that filed the report was in
    the same place, so its offset is the best guess there is.
    """
    taken_at = exif.taken_at
    if taken_at is None:
        return None
    if taken_at.tzinfo is None:
        taken_at = taken_at.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    try:
        return taken_at.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres, to flag a photo taken far from its report."""
    earth_radius_m = 6_371_008.8
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * earth_radius_m * math.asin(min(1.0, math.sqrt(a)))


def _km(distance_m: float) -> float | int:
    km = distance_m / 1000
    return round(km) if km >= 10 else round(km, 1)


def _duration(hours: float) -> str:
    if hours >= 48:
        return f"{hours / 24:.0f} days"
    return f"{hours:.0f} hours" if hours >= 1.5 else f"{hours * 60:.0f} minutes"
