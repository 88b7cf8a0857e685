"""The offline vector-tile extract of the mission area: one PMTiles file in the data directory.

An admin loads it (from the map-data page, or by copying it to ``<data dir>/maps/area.pmtiles``);
the map reads it from the app itself with HTTP range requests, so no tile server and no internet
are needed. Only a PMTiles version 3 archive is taken: its first bytes say so.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO

PMTILES_MAGIC = b"PMTiles\x03"
HEADER_BYTES = 127


class NotPMTiles(ValueError):
    """The file is not a PMTiles v3 archive (message for the admin)."""


def area_tiles_path(data_dir: Path) -> Path:
    return data_dir / "maps" / "area.pmtiles"


def store_area_tiles(data_dir: Path, source: BinaryIO) -> int:
    """Check and keep the uploaded archive in place of the previous one; its size in bytes.

    Written to a temporary name and renamed, so the map never reads half a file.
    """
    header = source.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES or not header.startswith(PMTILES_MAGIC):
        raise NotPMTiles("not a PMTiles version 3 archive (it must start with 'PMTiles' and 3)")
    target = area_tiles_path(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".part")
    with temporary.open("wb") as out:
        out.write(header)
        shutil.copyfileobj(source, out, 1024 * 1024)
    os.replace(temporary, target)
    return target.stat().st_size
