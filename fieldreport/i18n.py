"""Words for people, kept apart from Flask so that the domain and the worker can name things.

The domain marks its labels with :func:`N_` (English message ids, extracted by pybabel with
``-k N_``) and returns them untranslated; the edge translates them for its reader: the web pages
through Flask-Babel, the digest (built by a worker) with :func:`translations`.
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue; it is translated where it is shown."""
    return message


@functools.cache
def translations(language: str) -> NullTranslations:
    """The language's catalogue (English, the source language, where there is none)."""
    return Translations.load(str(TRANSLATIONS), [language, "en"])
