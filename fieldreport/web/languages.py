"""Which language a page speaks, and the words the observer's scripts need in it.

The order: the logged-in user's own language (chosen at log-in or on the account page); before
log-in, the language picked on the log-in page (``?lang=uk``), else the one last used on this
device (a cookie set at log-in, so the second step and the next log-in speak it too), else the
phone's (Accept-Language), else the mission's first language.
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po
from flask import current_app, request
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.wrappers import Response

from fieldreport.i18n import catalogues

# The device's last language (set at log-in and on the account page); not a secret.
LANGUAGE_COOKIE = "fieldreport_language"
LANGUAGE_COOKIE_DAYS = 365
SCRIPTS = "static/js/"


def offered_languages() -> tuple[str, ...]:
    return current_app.extensions["fieldreport.runtime"].settings.languages


def select_locale() -> str | None:
    """Flask-Babel's locale selector (see the module's docstring for the order)."""
    languages = offered_languages()
    if current_user.is_authenticated and current_user.language in languages:
        return str(current_user.language)
    chosen = request.args.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return str(chosen)
    return request.accept_languages.best_match(languages) or languages[0]


def remember_language(response: Response, language: str) -> Response:
    """Keep ``language`` on this device for the pages before the next log-in."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=LANGUAGE_COOKIE_DAYS * 86400,
        samesite="Lax",
        httponly=True,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
    return response


def language_label(code: str) -> str:
    """A language by its own name ("English", "українська"), so every reader finds theirs."""
    try:
        name = Locale.parse(code).get_display_name() or code
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:]  # CLDR writes "українська"; a list item starts capital


def language_choices() -> list[tuple[str, str]]:
    return [(code, language_label(code)) for code in offered_languages()]


def current_language() -> str:
    return str(get_locale() or offered_languages()[0])


@functools.cache
def _script_words(po: Path, mtime: float) -> dict[str, str]:
    """The translated messages a catalogue holds for the scripts (found where they are used)."""
    with po.open("rb") as handle:
        catalogue = read_po(handle)
    return {
        message.id: message.string
        for message in catalogue
        if message.id
        and isinstance(message.id, str)
        and message.string
        and not message.fuzzy
        and any(path.startswith(SCRIPTS) for path, _line in message.locations)
    }


def script_words() -> dict[str, str]:
    """English message id -> the page's language, for every ``t("…")`` in static/js (embedded
    in observer pages as JSON; see static/js/i18n.js). Empty in English: the ids are English."""
    language = current_language()
    for po in catalogues():
        if po.parent.parent.name == language:
            return _script_words(po, po.stat().st_mtime)
    return {}
