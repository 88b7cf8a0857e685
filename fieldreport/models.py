"""Imports every domain's tables so that ``Base.metadata`` is complete (Alembic, tests)."""

from fieldreport.accounts.models import AuditLog, User
from fieldreport.alerts.models import Alert, AlertAddress
from fieldreport.digests.models import Digest, DigestSend
from fieldreport.ledger.models import DeviceKey, DeviceSignature, LedgerLeaf, LedgerNode, TreeHead
from fieldreport.photos.models import Photo
from fieldreport.places.models import Place
from fieldreport.reports.models import Report, ReportVersion
from fieldreport.review.models import ReviewEvent
from fieldreport.sectors.models import Assignment, CoordinatorSector, Sector

__all__ = [
    "Alert",
    "AlertAddress",
    "Assignment",
    "AuditLog",
    "CoordinatorSector",
    "DeviceKey",
    "DeviceSignature",
    "Digest",
    "DigestSend",
    "LedgerLeaf",
    "LedgerNode",
    "Photo",
    "Place",
    "Report",
    "ReportVersion",
    "ReviewEvent",
    "Sector",
    "TreeHead",
    "User",
]
