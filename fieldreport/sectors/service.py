"""Sectors: import a GeoJSON file, draw one sector, list and export them.

Every change of the sector lines asks for the re-derive job once committed, so reports already
filed move to the sector their position falls in now (`sectors.tasks`). The HTML pages, the JSON
API and the `fieldreport import-sectors` command call these same use cases.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.accounts.service import audit
from fieldreport.db import after_commit, utcnow
from fieldreport.jobs import JobQueue
from fieldreport.sectors.errors import SectorError
from fieldreport.sectors.geojson import (
    SectorFeature,
    SectorImportError,
    parse_sector_collection,
    to_feature_collection,
)
from fieldreport.sectors.models import Sector
from fieldreport.sectors.tasks import enqueue_rederive


@dataclass(frozen=True)
class ImportOutcome:
    created: list[str]
    updated: list[str]

    @property
    def count(self) -> int:
        return len(self.created) + len(self.updated)


def _by_code(session: Session, code: str) -> Sector | None:
    return session.scalar(select(Sector).where(func.lower(Sector.code) == code.casefold()))


def _rederive_after_commit(session: Session, queue: JobQueue | None) -> None:
    """Re-derive reports' sectors once the change is committed (no queue: the caller does)."""
    if queue is not None:
        after_commit(session, lambda: enqueue_rederive(queue))


def import_sector_collection(
    session: Session,
    document: str | bytes | Mapping[str, Any],
    actor: User | None = None,
    queue: JobQueue | None = None,
) -> ImportOutcome:
    """Import a GeoJSON FeatureCollection: all features or none (`SectorImportError`).

    A code that exists already is an update of that sector (geometry, name, kind; reactivated),
    so re-importing a corrected file is the way to fix lines drawn elsewhere. The whole file is
    checked before anything is written.
    """
    features = parse_sector_collection(document)
    created: list[str] = []
    updated: list[str] = []
    for feature in features:
        sector = _by_code(session, feature.code)
        if sector is None:
            sector = Sector(code=feature.code)
            session.add(sector)
            created.append(feature.code)
        else:
            updated.append(sector.code)
        sector.name, sector.kind, sector.geometry = feature.name, feature.kind, feature.geometry
        sector.active = True
        sector.updated_at = utcnow()
    session.flush()
    audit(session, "sectors.import", user=actor, detail={"created": created, "updated": updated})
    _rederive_after_commit(session, queue)
    return ImportOutcome(created=created, updated=updated)


def _drawn_feature(
    code: str, name: str, kind: str, geometry: str | Mapping[str, Any]
) -> SectorFeature:
    """One sector from the drawing form, checked exactly like a feature of an imported file."""
    try:
        parsed_geometry = json.loads(geometry) if isinstance(geometry, str) else geometry
    except ValueError:
        raise SectorError("geometry", "the drawn shape is not GeoJSON; draw it again") from None
    if isinstance(parsed_geometry, Mapping) and parsed_geometry.get("type") == "Feature":
        parsed_geometry = parsed_geometry.get("geometry")
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": code, "name": name, "kind": kind},
                "geometry": parsed_geometry,
            }
        ],
    }
    try:
        (feature,) = parse_sector_collection(document)
    except SectorImportError as error:
        raise SectorError("geometry", "; ".join(p.reason for p in error.problems)) from None
    return feature


def save_sector(
    session: Session,
    *,
    sector_id: int | None,
    code: str,
    name: str,
    kind: str,
    geometry: str | Mapping[str, Any],
    active: bool,
    actor: User | None,
    queue: JobQueue | None = None,
) -> Sector:
    """Create (``sector_id`` None) or change one sector drawn on the map."""
    feature = _drawn_feature(code, name, kind, geometry)
    same_code = _by_code(session, feature.code)
    if same_code is not None and same_code.id != sector_id:
        raise SectorError("code", f"the code {feature.code} is used by another sector")
    sector = session.get(Sector, sector_id) if sector_id is not None else Sector()
    if sector is None:
        raise SectorError("code", "this sector no longer exists")
    sector.code, sector.name, sector.kind = feature.code, feature.name, feature.kind
    sector.geometry, sector.active = feature.geometry, active
    sector.updated_at = utcnow()
    session.add(sector)
    session.flush()
    audit(session, "sectors.save", user=actor, detail={"code": sector.code, "id": sector.id})
    _rederive_after_commit(session, queue)
    return sector


def all_sectors(
    session: Session, *, active_only: bool = False, sector_ids: set[int] | None = None
) -> list[Sector]:
    """The sectors by code (only ``sector_ids`` when given: a limited coordinator's)."""
    query = select(Sector).order_by(Sector.code)
    if active_only:
        query = query.where(Sector.active.is_(True))
    if sector_ids is not None:
        query = query.where(Sector.id.in_(sector_ids))
    return list(session.scalars(query))


def export_sectors(session: Session, sector_ids: set[int] | None = None) -> dict[str, Any]:
    """The active sectors as GeoJSON (properties code, name, kind) — re-importable as is."""
    return to_feature_collection(
        SectorFeature(code=s.code, name=s.name, kind=s.kind, geometry=s.geometry)
        for s in all_sectors(session, active_only=True, sector_ids=sector_ids)
    )
