"""Every template helper, registered in one place: times in the viewer's zone, taxonomy labels
in the viewer's language, mission settings, and the page fragments other domains supply."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from flask import Flask
from flask_babel import format_date, format_datetime, get_locale, gettext

from fieldreport.accounts.roles import ROLE_LABELS
from fieldreport.digests.views import digest_failures
from fieldreport.places.views import location_words
from fieldreport.reports import taxonomy
from fieldreport.review.views import review_panel
from fieldreport.sectors.assignment_views import todays_assignments


def local_time(value: datetime | None, style: str = "medium") -> str:
    """A UTC time shown in the viewer's zone (Flask-Babel's time zone selector)."""
    if value is None:
        return ""
    return format_datetime(value, style)


def short_day(day: date) -> str:
    """A column heading in the viewer's language ("Mon 23 Nov")."""
    return format_date(day, "EEE d MMM")


# The taxonomy names things in English message ids; the reader's language is chosen here.
def category_label(code: str) -> str:
    return gettext(taxonomy.category_label(code))


def subcategory_label(category_code: str, code: str) -> str:
    return gettext(taxonomy.subcategory_label(category_code, code))


def basis_label(code: str | None) -> str:
    return gettext(taxonomy.BASIS_LABELS[code]) if code in taxonomy.BASIS_LABELS else code or ""


def confidence_label(code: str | None) -> str:
    labels = taxonomy.CONFIDENCE_LABELS
    return gettext(labels[code]) if code in labels else code or ""


def role_label(code: str) -> str:
    return gettext(ROLE_LABELS[code]) if code in ROLE_LABELS else code


def language_label(code: str) -> str:
    """A language by its own name ("English", "français"), so every reader finds theirs."""
    try:
        return Locale.parse(code).get_display_name() or code
    except (UnknownLocaleError, ValueError):
        return code


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["short_day"] = short_day
    app.jinja_env.globals.update(
        get_locale=get_locale,
        category_label=category_label,
        subcategory_label=subcategory_label,
        basis_label=basis_label,
        confidence_label=confidence_label,
        digest_failures=digest_failures,
        review_panel=review_panel,
        todays_assignments=todays_assignments,
        role_label=role_label,
        language_label=language_label,
        describe_location=location_words,
    )

    @app.context_processor
    def mission() -> dict[str, Any]:
        settings = app.extensions["fieldreport.runtime"].settings
        return {"mission_name": settings.mission_name, "parties": settings.parties}
