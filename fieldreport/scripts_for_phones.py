"""Our own scripts as a phone downloads them: without comment lines and indentation.

The observer's first load has a budget (DESIGN.md: 50 KB with the offline shell). The sources
keep their comments, which say why; the phone needs none of them. This is deliberately not a
minifier: it drops only whole lines that are comments (``//`` lines and ``/* … */`` blocks that
start a line) and each line's leading spaces, which cannot change what a script does as long as
no template literal spans lines with such content (``test_scripts_for_phones.py`` checks every
script of ours for that). Names, strings and line breaks stay, so errors still point somewhere
readable. Vendored libraries are served as shipped.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path


def strip_script(source: str) -> str:
    """``source`` without whole-line comments, blank lines and indentation."""
    kept: list[str] = []
    in_block = False
    for raw in source.splitlines():
        line = raw.strip()
        if in_block:
            in_block = "*/" not in line
            if not in_block and line.split("*/", 1)[1].strip():
                kept.append(line.split("*/", 1)[1].strip())
            continue
        if line.startswith("/*"):
            in_block = "*/" not in line[2:]
            rest = "" if in_block else line[2:].split("*/", 1)[1].strip()
            if rest:
                kept.append(rest)
            continue
        if line and not line.startswith("//"):
            kept.append(line)
    return "\n".join(kept) + "\n"


@functools.lru_cache(maxsize=64)
def _stripped(path: Path, mtime_ns: int) -> tuple[bytes, str]:
    body = strip_script(path.read_text(encoding="utf-8")).encode()
    return body, hashlib.sha256(body).hexdigest()[:20]


def script_for_phone(path: Path) -> tuple[bytes, str]:
    """The stripped script and its ETag, computed once per version of the file."""
    return _stripped(path, path.stat().st_mtime_ns)
