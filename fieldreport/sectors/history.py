"""Every change of the sector lines is an audited act: who, when, from where, and what changed.

A sector's line decides which reports each coordinator sees and where the commission reads that
an event happened, so each creation, edit, import and (de)activation leaves an audit entry with
the kind and name before and after and a SHA-256 and vertex count of the old and new geometry
(the geometries themselves may be large; their fingerprints are enough to prove which line was
in force). The sector's edit page lists these entries (`sector_history`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import AuditLog, User
from fieldreport.accounts.service import audit
from fieldreport.ledger import record as evidence_log
from fieldreport.sectors.import_limits import count_positions
from fieldreport.sectors.models import Sector

COMMAND_USER = "fieldreport command"  # changes made with no user: the command line
HISTORY_LIMIT = 200


@dataclass(frozen=True)
class SectorState:
    """What an audit entry compares: the sector's fields before or after a change."""

    code: str
    name: str
    kind: str
    active: bool
    geometry_sha256: str
    vertices: int

    @classmethod
    def of(cls, sector: Sector) -> SectorState:
        return cls(
            code=sector.code,
            name=sector.name,
            kind=sector.kind,
            active=bool(sector.active),
            geometry_sha256=geometry_sha256(sector.geometry),
            vertices=count_positions(sector.geometry.get("coordinates")),
        )


def geometry_sha256(geometry: dict[str, Any]) -> str:
    """The fingerprint of a geometry: SHA-256 of its canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(geometry, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def change_action(before: SectorState | None, after: SectorState) -> str:
    """``sectors.create``; ``sectors.(de)activate`` when only that changed; ``sectors.edit``."""
    if before is None:
        return "sectors.create"
    if before.active != after.active and _without_active(before) == _without_active(after):
        return "sectors.activate" if after.active else "sectors.deactivate"
    return "sectors.edit"


def record_change(
    session: Session,
    action: str,
    sector: Sector,
    before: SectorState | None,
    actor: User | None,
    address: str | None,
) -> None:
    """Write the audit entry of one sector's change (``sector`` already flushed: it has an id)."""
    after = SectorState.of(sector)
    detail: dict[str, Any] = {"sector_id": sector.id, "code": after.code}
    for name in ("code", "name", "kind", "active", "geometry_sha256", "vertices"):
        detail[f"{name}_before"] = getattr(before, name) if before is not None else None
        detail[f"{name}_after"] = getattr(after, name)
    audit(
        session,
        action,
        user=actor,
        username=None if actor is not None else COMMAND_USER,
        address=address,
        detail=detail,
    )
    evidence_log.sector_change(session, sector.id, action, detail)  # issue 11


def sector_history(session: Session, sector_id: int) -> list[AuditLog]:
    """The sector's audit entries, newest first (the edit page's history)."""
    return list(
        session.scalars(
            select(AuditLog)
            .where(
                AuditLog.action.like("sectors.%"),
                AuditLog.detail["sector_id"].as_integer() == sector_id,
            )
            .order_by(AuditLog.id.desc())
            .limit(HISTORY_LIMIT)
        )
    )


def _without_active(state: SectorState) -> tuple[Any, ...]:
    return (state.code, state.name, state.kind, state.geometry_sha256)
