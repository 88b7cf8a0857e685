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

from flask_babel import gettext as _
from flask_wtf import FlaskForm

from fieldreport.reports import schemas
from fieldreport.reports.taxonomy import (
    BASIS_CODES,
    CATEGORIES,
    CATEGORY_BY_CODE,
    CONFIDENCE_CODES,
    TAXONOMY_VERSION,
    detail_rules,
)

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


# The ranges validate_report applies (schemas._position); tests/test_phone_form_rules.py feeds
# the same inputs to both and fails when the phone and the server disagree.
POSITION_RULES = {
    "latitude": {"kind": "float", "required": True, "min": -90, "max": 90},
    "longitude": {"kind": "float", "required": True, "min": -180, "max": 180},
    "accuracy_m": {"kind": "float", "required": False, "min": 0, "max": schemas.MAX_ACCURACY_M},
}


def _messages() -> dict[str, str]:
    """What the phone says, in the observer's language; {min} and {max} are filled in there."""
    return {
        "required": _("Fill this in."),
        "number": _("Type a number, such as 43.4675."),
        "whole": _("Type a whole number, such as 3."),
        "min": _("Too small: the lowest is {min}."),
        "max": _("Too large: the highest is {max}."),
        "range": _("Must be between {min} and {max}."),
        "choice": _("Choose one of the buttons."),
        "long": _("Too long: at most {max} characters."),
        "sub": _("Choose the kind of event."),
        "confidence": _("Say how sure you are of the attribution."),
        "narrative": _("Describe what happened."),
        "bad_text": _("Contains characters that cannot be stored."),
    }


def form_rules(parties: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The server's checks as data for static/js/field-rules.js, embedded in the form page."""
    return {
        "version": TAXONOMY_VERSION,
        "position": POSITION_RULES,
        "basis": list(BASIS_CODES),
        "confidence": list(CONFIDENCE_CODES),
        "parties": [*parties, "unknown"],
        "narrative_max": schemas.MAX_NARRATIVE_CHARS,
        "narrative_required": ["other"],
        "categories": detail_rules(),
        "messages": _messages(),
    }
