"""The kinds of sector and the words coordinators use for them.

One vocabulary for the import (GIS attribute tables carry labels such as "DMZ"), the overlap rule
of the locator (the more specific kind wins) and the pages that show a kind.
"""

from __future__ import annotations

SECTOR_KINDS = ("sector", "dmz", "crossing_point")
SECTOR_KIND_LABELS = {
    "sector": "sector",
    "dmz": "demilitarized zone",
    "crossing_point": "crossing-point area",
}
# The more specific kind wins an overlap: a crossing point lies inside a DMZ lies inside a sector.
_KIND_PRIORITY = {"crossing_point": 0, "dmz": 1, "sector": 2}
_KIND_ALIASES = {
    "sector": "sector",
    "dmz": "dmz",
    "demilitarized zone": "dmz",
    "demilitarised zone": "dmz",
    "crossing point": "crossing_point",
    "crossing point area": "crossing_point",
}


def parse_kind(value: object) -> str | None:
    """Return the kind code for a code or a label ("DMZ", "demilitarized zone"), else None.

    Why: coordinators type labels into GIS attribute tables; the database keeps codes.
    """
    if not isinstance(value, str):
        return None
    words = " ".join(value.replace("_", " ").replace("-", " ").lower().split())
    return _KIND_ALIASES.get(words)


def kind_priority(kind: str) -> int:
    """The overlap priority of a kind (lower wins); an unknown kind is a ValueError."""
    code = parse_kind(kind)
    if code is None:
        raise ValueError(f"unknown sector kind {kind!r}; expected one of {SECTOR_KINDS}")
    return _KIND_PRIORITY[code]
