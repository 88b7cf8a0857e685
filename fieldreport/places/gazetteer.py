"""Read a gazetteer file: GeoNames' own tab-separated dump, or a CSV extract with a header.

GeoNames (https://www.geonames.org/, CC BY 4.0) publishes ``cities1000.txt`` and per-country
files as tab-separated rows of 19 columns with no header; only populated places (feature class
``P``) are kept. The CSV form (``latitude,longitude,name,admin1,admin2,country``) is the one the
demo ships. Bad rows are counted and the first few named, never guessed at.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

GEONAMES_COLUMNS = 19
MAX_PROBLEMS_SHOWN = 5


class PlaceRow(NamedTuple):
    name: str
    latitude: float
    longitude: float
    country: str
    admin1: str
    population: int | None


@dataclass
class ParsedPlaces:
    """The rows read, with the lines refused (line number and reason, the first few)."""

    rows: list[PlaceRow] = field(default_factory=list)
    refused: int = 0
    problems: list[str] = field(default_factory=list)

    def refuse(self, line: int, reason: str) -> None:
        self.refused += 1
        if len(self.problems) < MAX_PROBLEMS_SHOWN:
            self.problems.append(f"line {line}: {reason}")


def parse_places(text: str) -> ParsedPlaces:
    """The places of a GeoNames TSV or CSV file (told apart by its first line)."""
    first = text.split("\n", 1)[0]
    parsed = ParsedPlaces()
    if "\t" in first:
        for line, cells in _tsv_rows(text):
            _add(parsed, line, _geonames_row(cells))
    else:
        for line, record in enumerate(csv.DictReader(io.StringIO(text)), start=2):
            _add(parsed, line, _csv_row(record))
    return parsed


def _tsv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            yield line, raw.split("\t")


def _add(parsed: ParsedPlaces, line: int, result: PlaceRow | str | None) -> None:
    """None: a row skipped on purpose (not a populated place); a string: why it was refused."""
    if isinstance(result, str):
        parsed.refuse(line, result)
    elif result is not None:
        parsed.rows.append(result)


def _geonames_row(cells: list[str]) -> PlaceRow | str | None:
    if len(cells) < GEONAMES_COLUMNS:
        return f"{len(cells)} columns, a GeoNames row has {GEONAMES_COLUMNS}"
    if cells[6] != "P":
        return None
    return _checked(cells[1], cells[4], cells[5], cells[8], cells[10], cells[14])


def _csv_row(record: dict[str, str | None]) -> PlaceRow | str:
    return _checked(
        record.get("name") or "",
        record.get("latitude") or "",
        record.get("longitude") or "",
        record.get("country") or "",
        record.get("admin1") or "",
        record.get("population") or "",
    )


def _checked(
    name: str, lat: str, lon: str, country: str, admin1: str, population: str
) -> PlaceRow | str:
    name = name.strip()
    if not name or len(name) > 200:
        return "no name (or longer than 200 characters)"
    try:
        latitude, longitude = float(lat), float(lon)
    except ValueError:
        return f"latitude/longitude are not numbers: {lat!r:.20}, {lon!r:.20}"
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return f"position out of range: {latitude:g}, {longitude:g}"
    people = int(population) if population.strip().isdigit() else None
    return PlaceRow(name, latitude, longitude, country.strip()[:2], admin1.strip()[:100], people)
