"""Template helpers: times in the viewer's zone, taxonomy labels, mission settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import format_datetime, get_locale

from fieldreport.reports import taxonomy


def local_time(value: datetime | None, style: str = "medium") -> str:
    """A UTC time shown in the viewer's zone (Flask-Babel's time zone selector)."""
    if value is None:
        return ""
    return format_datetime(value, style)


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.globals.update(
        get_locale=get_locale,
        category_label=taxonomy.category_label,
        subcategory_label=taxonomy.subcategory_label,
        basis_labels=taxonomy.BASIS_LABELS,
        confidence_labels=taxonomy.CONFIDENCE_LABELS,
    )

    @app.context_processor
    def mission() -> dict[str, Any]:
        settings = app.extensions["fieldreport.runtime"].settings
        return {"mission_name": settings.mission_name, "parties": settings.parties}
