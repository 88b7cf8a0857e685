"""How much one sector import may hold: bytes, features, vertices per sector and in all.

A sector file is distrusted like an upload: one polygon of a million vertices made every report
submission slow (the locator tests each position against it) and the sector lines served to every
phone tens of megabytes. The limits are settings (`config.py`); the counts here are cheap walks
over the parsed JSON, done before any geometry is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fieldreport.config import Settings
from fieldreport.i18n import N_


@dataclass(frozen=True)
class ImportLimits:
    max_features: int = 2000
    max_vertices: int = 20_000  # per sector
    max_total_vertices: int = 200_000  # in one import
    max_bytes: int = 5 * 1024 * 1024

    @classmethod
    def of(cls, settings: Settings) -> ImportLimits:
        return cls(
            max_features=settings.max_sector_features,
            max_vertices=settings.max_sector_vertices,
            max_total_vertices=settings.max_sector_total_vertices,
            max_bytes=settings.max_sector_import_bytes,
        )


DEFAULT_LIMITS = ImportLimits()


def size_problem(document: str | bytes | Mapping[str, Any], limits: ImportLimits) -> str | None:
    """Why a file is too large to parse at all (a parsed document has no size to check)."""
    if isinstance(document, Mapping):
        return None
    size = len(document.encode()) if isinstance(document, str) else len(document)
    if size <= limits.max_bytes:
        return None
    return N_(
        "the file is %(size)s bytes; at most %(max)s bytes per import "
        "(FIELDREPORT_MAX_SECTOR_IMPORT_BYTES): split it into several files",
        size=size,
        max=limits.max_bytes,
    )


def feature_count_problem(count: int, limits: ImportLimits) -> str | None:
    if count <= limits.max_features:
        return None
    return N_(
        "the file has %(n)s features; at most %(max)s sectors per import "
        "(FIELDREPORT_MAX_SECTOR_FEATURES): split it into several files",
        n=count,
        max=limits.max_features,
    )


def vertex_problems(
    raw_features: list[Any], limits: ImportLimits
) -> tuple[dict[int, str], str | None]:
    """The features with too many vertices (index → reason), and the file's total if too many."""
    too_detailed: dict[int, str] = {}
    total = 0
    for index, raw in enumerate(raw_features):
        count = count_positions(_coordinates(raw))
        total += count
        if count > limits.max_vertices:
            too_detailed[index] = N_(
                "%(sector)s has %(n)s vertices; at most %(max)s per sector "
                "(FIELDREPORT_MAX_SECTOR_VERTICES): simplify it in the GIS (e.g. QGIS "
                "'Simplify') and import again",
                sector=_name(raw),
                n=count,
                max=limits.max_vertices,
            )
    total_problem = None
    if total > limits.max_total_vertices:
        total_problem = N_(
            "the file has %(n)s vertices in all; at most %(max)s per import "
            "(FIELDREPORT_MAX_SECTOR_TOTAL_VERTICES): simplify the sectors or split the file",
            n=total,
            max=limits.max_total_vertices,
        )
    return too_detailed, total_problem


def count_positions(coordinates: Any) -> int:
    """How many positions (lists starting with a number) nested lists hold, iteratively."""
    count = 0
    stack = [coordinates]
    while stack:
        item = stack.pop()
        if not isinstance(item, list) or not item:
            continue
        first = item[0]
        if isinstance(first, (int, float)) and not isinstance(first, bool):
            count += 1
        else:
            stack.extend(item)
    return count


def _coordinates(raw: Any) -> Any:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("geometry"), Mapping):
        return None
    return raw["geometry"].get("coordinates")


def _name(raw: Any) -> str:
    properties = raw.get("properties") if isinstance(raw, Mapping) else None
    code = properties.get("code") if isinstance(properties, Mapping) else None
    return (
        N_("sector %(code)s", code=repr(code)) if isinstance(code, str | int) else N_("this sector")
    )
