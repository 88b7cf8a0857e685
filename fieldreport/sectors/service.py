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
from fieldreport.db import after_commit, utcnow
from fieldreport.i18n import N_
from fieldreport.jobs import JobQueue
from fieldreport.sectors.display import display_features
from fieldreport.sectors.errors import SectorAuthorityError, SectorError
from fieldreport.sectors.geojson import (
    FeatureProblem,
    SectorFeature,
    SectorImportError,
    parse_sector_collection,
    to_feature_collection,
)
from fieldreport.sectors.history import SectorState, change_action, record_change
from fieldreport.sectors.import_limits import DEFAULT_LIMITS, ImportLimits
from fieldreport.sectors.limits import may_change_sectors
from fieldreport.sectors.models import Sector
from fieldreport.sectors.tasks import enqueue_rederive


@dataclass(frozen=True)
class ImportOutcome:
    created: list[str]
    updated: list[str]

    @property
    def count(self) -> int:
        return len(self.created) + len(self.updated)


class RepairNeeded(SectorImportError):
    """Some outlines were mended (`repair`): nothing is saved until the repairs are accepted.

    Its problems are the repair notes, so a caller that offers no preview (the API, the command
    line) refuses the file with those reasons; the import page shows them on a map instead.
    """

    def __init__(self, features: list[SectorFeature]) -> None:
        self.features = features
        super().__init__(
            [
                FeatureProblem(i, f"{f.repair}; accept the repair to import it")
                for i, f in enumerate(features)
                if f.repair
            ]
        )


def _by_code(session: Session, code: str) -> Sector | None:
    return session.scalar(select(Sector).where(func.lower(Sector.code) == code.casefold()))


def _require_authority(session: Session, actor: User | None) -> None:
    """Refuse, before anything is read or written, a user who may not move sector lines."""
    if not may_change_sectors(session, actor):
        raise SectorAuthorityError()


def _rederive_after_commit(session: Session, queue: JobQueue | None) -> None:
    """Re-derive reports' sectors once the change is committed (no queue: the caller does)."""
    if queue is not None:
        after_commit(session, lambda: enqueue_rederive(queue))


def import_sector_collection(
    session: Session,
    document: str | bytes | Mapping[str, Any],
    actor: User | None = None,
    queue: JobQueue | None = None,
    *,
    address: str | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
    accept_repairs: bool = False,
) -> ImportOutcome:
    """Import a GeoJSON FeatureCollection: all features or none (`SectorImportError`).

    An outline mended by `repair` is saved only with ``accept_repairs`` (the coordinator saw the
    preview and the change in area); otherwise `RepairNeeded` says what would be repaired.

    A code that exists already is an update of that sector (geometry, name, kind; reactivated),
    so re-importing a corrected file is the way to fix lines drawn elsewhere. The whole file is
    checked (against ``limits`` too) before anything is written; each sector's change is audited.
    ``actor`` None is the command line; a limited coordinator is refused (`SectorAuthorityError`).
    """
    _require_authority(session, actor)
    features = parse_sector_collection(document, limits)
    if not accept_repairs and any(f.repair for f in features):
        raise RepairNeeded(features)
    existing = {sector.code.casefold(): sector for sector in session.scalars(select(Sector))}
    created: list[str] = []
    updated: list[str] = []
    changes: list[tuple[Sector, SectorState | None]] = []
    for feature in features:
        sector = existing.get(feature.code.casefold())
        before = SectorState.of(sector) if sector is not None else None
        if sector is None:
            sector = Sector(code=feature.code)
            session.add(sector)
            created.append(feature.code)
        else:
            updated.append(sector.code)
        sector.name, sector.kind, sector.geometry = feature.name, feature.kind, feature.geometry
        sector.active = True
        sector.updated_at = utcnow()
        changes.append((sector, before))
    session.flush()
    for sector, before in changes:
        record_change(session, "sectors.import", sector, before, actor, address)
    _rederive_after_commit(session, queue)
    return ImportOutcome(created=created, updated=updated)


def _drawn_feature(
    code: str, name: str, kind: str, geometry: str | Mapping[str, Any], limits: ImportLimits
) -> SectorFeature:
    """One sector from the drawing form, checked exactly like a feature of an imported file."""
    try:
        parsed_geometry = json.loads(geometry) if isinstance(geometry, str) else geometry
    except ValueError:
        raise SectorError("geometry", N_("the drawn shape is not GeoJSON; draw it again")) from None
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
        (feature,) = parse_sector_collection(document, limits)
    except SectorImportError as error:
        reasons = [p.reason for p in error.problems]
        # One reason keeps its message id (translated at the edge); several read in English.
        raise SectorError(
            "geometry", reasons[0] if len(reasons) == 1 else "; ".join(reasons)
        ) from None
    if feature.repair:
        raise SectorError("geometry", f"{feature.repair}; draw it again without crossing lines")
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
    address: str | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> Sector:
    """Create (``sector_id`` None) or change one sector drawn on the map; audited.

    Only admins and coordinators of every sector (`limits.may_change_sectors`): a limited
    coordinator who redrew their sector would take other sectors' reports into it.
    """
    _require_authority(session, actor)
    feature = _drawn_feature(code, name, kind, geometry, limits)
    same_code = _by_code(session, feature.code)
    if same_code is not None and same_code.id != sector_id:
        raise SectorError(
            "code", N_("the code %(code)s is used by another sector", code=feature.code)
        )
    sector = session.get(Sector, sector_id) if sector_id is not None else Sector()
    if sector is None:
        raise SectorError("code", N_("this sector no longer exists"))
    before = SectorState.of(sector) if sector_id is not None else None
    sector.code, sector.name, sector.kind = feature.code, feature.name, feature.kind
    sector.geometry, sector.active = feature.geometry, active
    sector.updated_at = utcnow()
    session.add(sector)
    session.flush()
    action = change_action(before, SectorState.of(sector))
    record_change(session, action, sector, before, actor, address)
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


def export_sectors(
    session: Session, sector_ids: set[int] | None = None, *, exact: bool = False
) -> dict[str, Any]:
    """The active sectors as GeoJSON (properties code, name, kind).

    Served to phones and maps simplified (`display.display_features`, ~10 m, kept until the
    sectors change): the stored geometry, which places reports, stays exact. ``exact`` for the
    coordinators' download, a backup that re-imports to the very same lines.
    """
    if not exact:
        return to_feature_collection(
            feature
            for sector_id, feature in display_features(session)
            if sector_ids is None or sector_id in sector_ids
        )
    return to_feature_collection(
        SectorFeature(code=s.code, name=s.name, kind=s.kind, geometry=s.geometry)
        for s in all_sectors(session, active_only=True, sector_ids=sector_ids)
    )
