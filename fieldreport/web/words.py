"""The edge's half of "translate at the edge": a domain message (a message id marked with
``fieldreport.i18n.N_``, possibly with values) in the reader's language.

Views pass every message a service raised through :func:`words` before showing it or answering
it as JSON, so the API speaks the phone's language too. Values that are themselves message ids
(a status in words, a field's label) are translated as well; anything else is left as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask_babel import gettext

from fieldreport.i18n import translate


def _gettext(text: str) -> str:
    # Flask-Babel's gettext formats with %-values when given any; here it gets none.
    return str(gettext(text)) if text else text


def words(text: str | BaseException) -> str:
    """``text`` (a message id or a :class:`~fieldreport.i18n.Message`) in the reader's language.

    Given a domain error, its ``message`` (or its first argument): ``str(error)`` would lose
    the message's id and values."""
    if isinstance(text, BaseException):
        message = getattr(text, "message", None)
        first = text.args[0] if text.args else ""
        text = message if isinstance(message, str) else first if isinstance(first, str) else ""
    return translate(text, _gettext)


def words_by_field(errors: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """A form's or the API's messages by field, each in the reader's language."""
    return {name: [words(message) for message in messages] for name, messages in errors.items()}
