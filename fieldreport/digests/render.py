"""The digest's HTML, rendered outside any web request (the worker builds it).

One template, ``templates/digests/_body.html``, makes the body of the web page, the email's
HTML part and the PDF, so the three never disagree. It is rendered by a plain Jinja
environment with Babel's translations rather than Flask's: a job runs without an app.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape

from fieldreport.config import PROJECT_ROOT
from fieldreport.digests import headline
from fieldreport.digests.picture import category_hex
from fieldreport.i18n import translations
from fieldreport.places.service import phrase
from fieldreport.reports import taxonomy

STYLESHEET = PROJECT_ROOT / "static" / "css" / "digest.css"


@dataclass(frozen=True)
class Limits:
    """How many rows of the long tables a rendering shows; the rest is in the CSV and JSON."""

    annex: int
    sectors: int
    listed: int  # urgent incidents, restrictions, damage and crossing points


WEB = Limits(annex=1000, sectors=600, listed=100)
# WeasyPrint lays out a few hundred table rows a second: the PDF keeps to a readable summary
# (the 5 s budget for a day of 100,000 reports includes it) and points to the CSV for the rest.
PDF = Limits(annex=100, sectors=25, listed=25)


@functools.cache
def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(PROJECT_ROOT / "templates")),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalogue = translations(language)
    env.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
    # The taxonomy's labels are English message ids: translated here, for the digest's reader.
    word = catalogue.gettext
    env.globals.update(
        category_label=lambda code: word(taxonomy.category_label(code)),
        subcategory_label=lambda cat, code: word(taxonomy.subcategory_label(cat, code)),
        detail_label=lambda cat, sub, name: word(taxonomy.detail_label(cat, sub, name)),
        confidence_label=lambda code: word(taxonomy.CONFIDENCE_LABELS.get(code, code)),
        category_hex=category_hex,
        choice_label=lambda code: word(taxonomy.choice_label(code)),
        # "4 km north-east of Zalizne", from a figure's [name, km, compass point].
        place_words=lambda place: phrase(*place, word) if place else "",
    )
    number = functools.partial(format_number, language=language)
    env.filters["number"] = number
    env.globals["headline"] = lambda figures: headline.sentences(figures, catalogue, number)
    return env


def format_number(value: float, language: str = "en") -> str:
    """One number format everywhere in the digest: the reader's locale, whole numbers without
    decimals, averages to one decimal ("1,204", "22.1", "0"; "1 204" and "22,1" in Ukrainian)."""
    try:
        locale = Locale.parse(language)
    except (ValueError, UnknownLocaleError):
        locale = Locale("en")
    return format_decimal(value, format="#,##0.#", locale=locale)


@functools.cache
def stylesheet() -> str:
    return STYLESHEET.read_text()


def render_body(context: dict[str, Any], limits: Limits, language: str = "en") -> str:
    """The digest body (no page chrome): figures, tables, map, trend and annex."""
    template = _environment(language).get_template("digests/_body.html")
    return template.render({**context, "limits": limits, "language": language})


def render_document(context: dict[str, Any], limits: Limits, language: str = "en") -> str:
    """A standalone HTML document (own styles, images inline): the PDF and the email."""
    body = render_body(context, limits, language)
    return (
        _environment(language)
        .get_template("digests/document.html")
        .render({**context, "body": body, "stylesheet": stylesheet(), "language": language})
    )


def render_text(context: dict[str, Any], language: str = "en") -> str:
    """The email's plain-text part: the headline figures, for readers without HTML."""
    return _environment(language).get_template("digests/email.txt").render(context)
