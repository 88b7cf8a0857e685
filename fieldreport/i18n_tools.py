"""Keep the message catalogues whole: extract, update, list what is missing, check, compile.

``python -m fieldreport.i18n_tools update``  extract the sources into messages.pot and merge it
                                              into every language's .po (new ids come in empty)
``python -m fieldreport.i18n_tools missing uk``  the ids still untranslated (or fuzzy) in uk
``python -m fieldreport.i18n_tools check``   exit 1 naming every id a catalogue lacks
``python -m fieldreport.i18n_tools compile`` write the .mo files (the app does it at start too)

Sources: Python (``_``, ``gettext``, ``_l``, ``N_``), templates (``_``), and the observer's
scripts (``t("…")`` in static/js, see static/js/i18n.js).
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from fieldreport.i18n import TRANSLATIONS, catalogues, compile_catalogues

ROOT = TRANSLATIONS.parent.parent
TEMPLATE = TRANSLATIONS / "messages.pot"
LANGUAGES = ("uk", "ru")
KEYWORDS = ("_l", "N_", "t")


def extract(output: Path) -> Catalog:
    """Extract every marked string of the sources into ``output`` and return it."""
    pybabel = "from babel.messages.frontend import main; main()"
    command = [sys.executable, "-c", pybabel, "extract"]
    command += ["-F", str(ROOT / "babel.cfg"), "--no-wrap", "--sort-by-file"]
    for keyword in KEYWORDS:
        command += ["-k", keyword]
    command += ["-o", str(output), "."]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"pybabel extract failed:\n{done.stderr}")
    with output.open("rb") as handle:
        return read_po(handle)


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _write(path: Path, catalogue: Catalog) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalogue, width=0, sort_by_file=True, ignore_obsolete=True)
    path.write_bytes(buffer.getvalue())


def update() -> None:
    """Fresh template from the sources, merged into each language (created when missing)."""
    template = extract(TEMPLATE)
    for language in LANGUAGES:
        po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        if po.exists():
            catalogue = _read(po)
        else:
            po.parent.mkdir(parents=True, exist_ok=True)
            catalogue = Catalog(locale=language)
        catalogue.update(template, no_fuzzy_matching=True)
        catalogue.project, catalogue.fuzzy = "fieldreport", False
        _write(po, catalogue)
    compile_catalogues()


def _message_ids(catalogue: Catalog) -> Iterable[str]:
    for message in catalogue:
        if message.id:
            yield message.id if isinstance(message.id, str) else message.id[0]


def untranslated(template: Catalog, catalogue: Catalog) -> list[str]:
    """Ids of ``template`` that ``catalogue`` lacks, leaves empty, or marks fuzzy."""
    missing = []
    for msgid in _message_ids(template):
        key = msgid if template[msgid] is None else template[msgid].id
        message = catalogue.get(key)
        strings = message.string if message else None
        strings = strings if isinstance(strings, tuple | list) else (strings,)
        if message is None or message.fuzzy or not all(strings):
            missing.append(msgid)
    return missing


def format_problems(catalogue: Catalog) -> list[str]:
    """Translations whose %(name)s placeholders do not match their id (Babel's checkers)."""
    return [f"{m.id!r}: {e}" for m, errors in catalogue.check() for e in errors]


def problems(template: Catalog) -> dict[str, list[str]]:
    """Per language: every id missing from its catalogue, and every bad placeholder."""
    found = {}
    for language in LANGUAGES:
        catalogue = _read(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
        found[language] = untranslated(template, catalogue) + format_problems(catalogue)
    return found


def check() -> int:
    with tempfile.TemporaryDirectory() as folder:
        template = extract(Path(folder) / "messages.pot")
    found = problems(template)
    for language, lines in found.items():
        for line in lines:
            print(f"{language}: {line}")
    return 1 if any(found.values()) else 0


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
        return check()
    if command == "missing" and len(argv) == 2:
        with tempfile.TemporaryDirectory() as folder:
            template = extract(Path(folder) / "messages.pot")
        po = TRANSLATIONS / argv[1] / "LC_MESSAGES" / "messages.po"
        for msgid in untranslated(template, _read(po)):
            print(msgid)
        return 0
    if command == "compile":
        print(f"compiled {compile_catalogues()} of {len(catalogues())} catalogues")
        return 0
    if command == "check":
        return check()
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
