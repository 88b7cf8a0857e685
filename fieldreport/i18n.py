"""Words for people, kept apart from Flask so that the domain and the worker can name things.

The domain marks its labels and messages with :func:`N_` (English message ids, extracted by
pybabel with ``-k N_``) and returns them untranslated; the edge translates them for its reader:
the web pages through Flask-Babel (``fieldreport.web.words``), the digest and the emails (built
by a worker) with :func:`translations`. A message with values (``N_("At most %(n)s
characters.", n=2000)``) is a :class:`Message`: it reads as English wherever it is used as a
string, and keeps its id and values so the edge can translate it whole.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"
logger = logging.getLogger(__name__)


class Message(str):
    """An English message that remembers its catalogue id and values (see :func:`N_`)."""

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any] | None = None) -> Message:
        params = dict(params or {})
        text = super().__new__(cls, msgid % params if params else msgid)
        text.msgid, text.params = msgid, params
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (Message, (self.msgid, self.params))


def N_(message: str, **params: Any) -> str:
    """Mark ``message`` for the catalogue; it is translated where it is shown.

    With values, the result is a :class:`Message` (English text, id and values kept).
    """
    return Message(message, params) if params else message


def translate(text: str, gettext: Any) -> str:
    """``text`` in the language of ``gettext`` (a catalogue's gettext): a :class:`Message` with
    its values put back (values that are message ids translated too), a plain message id as it
    is, anything unknown unchanged."""
    if isinstance(text, Message) and text.params:
        values = {
            k: translate(v, gettext) if isinstance(v, str) else v for k, v in text.params.items()
        }
        try:
            return str(gettext(text.msgid)) % values
        except (KeyError, ValueError, TypeError):
            return str(text)
    return gettext(str(text)) if text else text


def catalogues(directory: Path = TRANSLATIONS) -> list[Path]:
    """Every language's ``.po`` file."""
    return sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def compile_catalogues(directory: Path = TRANSLATIONS) -> int:
    """Compile each ``.po`` whose ``.mo`` is missing or older (``.mo`` files are not kept in
    git: a clean clone compiles them when the app or the worker starts). Returns how many were
    written; a read-only install with fresh ``.mo`` files writes nothing."""
    written = 0
    for po in catalogues(directory):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as handle:
            catalogue = read_po(handle)
        try:
            _write_atomically(mo, catalogue)
        except OSError as error:  # a read-only install: the image compiles them when built
            logger.warning("cannot compile %s: %s", mo, error)
            continue
        written += 1
    if written:
        translations.cache_clear()
    return written


def _write_atomically(mo: Path, catalogue: Any) -> None:
    fd, temporary = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalogue)
        os.replace(temporary, mo)  # atomic: another process never reads half a file
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


@functools.cache
def translations(language: str) -> NullTranslations:
    """The language's catalogue (English, the source language, where there is none)."""
    compile_catalogues()
    return Translations.load(str(TRANSLATIONS), [language, "en"])


def gettext_for(language: str) -> Any:
    """A gettext in ``language`` that also translates :class:`Message` values (for workers)."""
    catalogue = translations(language)
    return lambda text: translate(text, catalogue.gettext)
