"""Which language a page speaks, and the words the observer's scripts need in it.

The order: the logged-in user's own language (chosen at log-in or on the account page); before
log-in, the language picked on the log-in page (``?lang=uk``, then kept in the session until the
second step is done); else the phone's (Accept-Language); else the mission's first language.
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po
from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

from fieldreport.i18n import catalogues

# The session key for the language chosen on the log-in page (kept across the second step).
LOGIN_LANGUAGE = "login_language"
SCRIPTS = "static/js/"


def offered_languages() -> tuple[str, ...]:
    return current_app.extensions["fieldreport.runtime"].settings.languages


def select_locale() -> str | None:
    """Flask-Babel's locale selector (see the module's docstring for the order)."""
    languages = offered_languages()
    if current_user.is_authenticated and current_user.language in languages:
        return str(current_user.language)
    chosen = request.args.get("lang") or session.get(LOGIN_LANGUAGE)
    if chosen in languages:
        return str(chosen)
    return request.accept_languages.best_match(languages) or languages[0]


def language_label(code: str) -> str:
    """A language by its own name ("English", "українська"), so every reader finds theirs."""
    try:
        return Locale.parse(code).get_display_name() or code
    except (UnknownLocaleError, ValueError):
        return code


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
