"""Every template helper, registered in one place: times in one format (web/dates.py), taxonomy
labels and stored messages in the viewer's language (web/languages.py, web/words.py), mission
settings, and the page fragments other domains supply."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import format_decimal, get_locale, gettext

from fieldreport.accounts.roles import ROLE_LABELS
from fieldreport.digests.views import digest_failures
from fieldreport.places.views import location_words
from fieldreport.reports import taxonomy
from fieldreport.review.views import review_panel
from fieldreport.sectors.assignment_views import todays_assignments
from fieldreport.web.dates import local_date, local_time, short_day, time_zone_name
from fieldreport.web.languages import language_label, script_words
from fieldreport.web.words import words


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


def choice_label(code: str) -> str:
    """A detail field's choice in the reader's words ("Small arms", not ``small_arms``)."""
    return gettext(taxonomy.choice_label(code))


def report_details(report: Any) -> list[tuple[str, str]]:
    """A report's details as (label, value) in the reader's words, in the form's order."""
    rows = []
    for spec, value in taxonomy.ordered_details(
        report.category, report.subcategory, report.details
    ):
        if spec is None:
            continue
        if spec.kind == "choice":
            shown = choice_label(str(value))
        elif spec.kind == "bool":
            shown = gettext("Yes") if value else gettext("No")
        else:
            shown = format_decimal(value) if spec.kind in ("int", "float") else str(value)
        rows.append((gettext(spec.label), shown))
    return rows


def role_label(code: str) -> str:
    return gettext(ROLE_LABELS[code]) if code in ROLE_LABELS else code


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["short_day"] = short_day
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["words"] = words  # a stored message id in the reader's language
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
        choice_label=choice_label,
        report_details=report_details,
        language_label=language_label,
        script_words=script_words,
        time_zone_name=time_zone_name,
        describe_location=location_words,
    )

    @app.context_processor
    def mission() -> dict[str, Any]:
        settings = app.extensions["fieldreport.runtime"].settings
        return {"mission_name": settings.mission_name, "parties": settings.parties}
