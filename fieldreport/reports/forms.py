"""The report form: turns the HTML form's fields into the shared schema's plain values.

The form itself is only the CSRF token (Flask-WTF); validation is
:func:`fieldreport.reports.schemas.validate_report`, the same that the JSON API uses.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm

from fieldreport.reports.taxonomy import CATEGORIES, CATEGORY_BY_CODE

MAX_OFFSET_MINUTES = 14 * 60


class ReportForm(FlaskForm):
    """Only the CSRF token; the fields are rendered from the taxonomy."""


def detail_input_name(category: str, field: str) -> str:
    return f"d-{category}-{field}"


def detail_fields_by_category() -> list[tuple[Any, list[Any]]]:
    """Each category with the union of its subcategories' fields, for the form's fieldsets."""
    result = []
    for category in CATEGORIES:
        seen: dict[str, Any] = {}
        for sub in category.subcategories:
            for spec in category.fields_for(sub.code):
                seen.setdefault(spec.name, spec)
        result.append((category, list(seen.values())))
    return result


def _occurred_at(form: Mapping[str, str], zone: ZoneInfo) -> str:
    """The local time typed in the form, with the phone's offset or else the observer's zone."""
    local = (form.get("occurred_local") or "").strip()
    if not local:
        return ""
    try:
        naive = datetime.fromisoformat(local)
    except ValueError:
        return local
    offset = (form.get("tz_offset") or "").strip()
    if offset.lstrip("-").isdigit() and abs(int(offset)) <= MAX_OFFSET_MINUTES:
        aware = naive.replace(tzinfo=timezone(timedelta(minutes=int(offset))))
    else:
        aware = naive.replace(tzinfo=zone)
    return aware.isoformat()


def form_to_values(form: Mapping[str, str], zone: ZoneInfo) -> dict[str, Any]:
    """The posted form as the plain values the schema validates."""
    category = form.get("category", "")
    subcategory = form.get("subcategory", "")
    details: dict[str, str] = {}
    if category in CATEGORY_BY_CODE:
        for spec in CATEGORY_BY_CODE[category].fields_for(subcategory):
            value = form.get(detail_input_name(category, spec.name), "").strip()
            if value:
                details[spec.name] = value
    return {
        "client_id": form.get("client_id", ""),
        "category": category,
        "subcategory": subcategory,
        "occurred_at": _occurred_at(form, zone),
        "latitude": form.get("latitude", ""),
        "longitude": form.get("longitude", ""),
        "accuracy_m": form.get("accuracy_m", ""),
        "position_source": form.get("position_source") or "manual",
        "basis": form.get("basis", ""),
        "attribution_party": form.get("attribution_party") or None,
        "attribution_confidence": form.get("attribution_confidence") or None,
        "narrative": form.get("narrative", ""),
        "urgent": form.get("urgent") == "on",
        "details": details,
    }


def blank_values(zone: ZoneInfo, now: datetime) -> dict[str, str]:
    """What a new form shows: a fresh client_id, and now in the observer's zone."""
    return {
        "client_id": str(uuid.uuid4()),
        "occurred_local": now.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "position_source": "manual",
    }
