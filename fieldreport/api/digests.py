"""The digest in the JSON API: ``GET /api/v1/digests/<YYYY-MM-DD>``."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, jsonify, url_for
from flask_login import current_user

from fieldreport.accounts.roles import DIGEST_READERS
from fieldreport.digests import service
from fieldreport.web.auth import roles_required
from fieldreport.web.lookups import day_or_404
from fieldreport.web.transaction import request_session

bp = Blueprint("api_digests", __name__, url_prefix="/api/v1")
_COUNTS = {
    "type": "object",
    "properties": {"verified": {"type": "integer"}, "unverified": {"type": "integer"}},
}
PATHS: dict[str, Any] = {
    "/digests/{day}": {
        "get": {
            "summary": "The day's digest (commission, coordinator, admin): figures and links",
            "parameters": [
                {
                    "name": "day",
                    "in": "path",
                    "required": True,
                    "description": "A day in the commission's time zone",
                    "schema": {"type": "string", "format": "date"},
                }
            ],
            "responses": {
                "200": {
                    "description": "day, time_zone, state, links {html, pdf, csv, geojson}, "
                    "figures (figures.reports[category][subcategory] = {verified, unverified}); "
                    "team codes only, never observers' names",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "day": {"type": "string", "format": "date"},
                                    "time_zone": {"type": "string"},
                                    "state": {
                                        "enum": ["building", "ready", "sending", "sent", "failed"]
                                    },
                                    "links": {"type": "object"},
                                    "figures": {
                                        "type": ["object", "null"],
                                        "properties": {
                                            "reports": {
                                                "type": "object",
                                                "additionalProperties": {
                                                    "type": "object",
                                                    "additionalProperties": _COUNTS,
                                                },
                                            }
                                        },
                                    },
                                },
                            }
                        }
                    },
                },
                "403": {
                    "description": "Observers may not read digests; a coordinator limited to "
                    "some sectors gets {error, message, links {csv, geojson}}: the exports of "
                    "their sectors",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Message"}}
                    },
                },
                "404": {
                    "description": "Not built yet, or not a date",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Message"}}
                    },
                },
            },
        }
    }
}


def _refused(day: date) -> Any:
    """403 for a coordinator limited to some sectors, with the links to their sectors' exports."""
    iso = day.isoformat()
    links = {
        "csv": url_for("digests.reports_csv", day=iso, _external=True),
        "geojson": url_for("digests.reports_geojson", day=iso, _external=True),
    }
    body = {"error": "Forbidden", "message": service.WHOLE_DIGEST_REFUSED, "links": links}
    return jsonify(body), 403


@bp.get("/digests/<day>")
@roles_required(*DIGEST_READERS)
def digest(day: str) -> Any:
    """The day's figures and links; 404 until a build has stored them.

    The figures carry team codes only: observers' names are never part of a digest.
    """
    parsed = day_or_404(day)
    if service.reader_sectors(request_session(), current_user) is not None:
        return _refused(parsed)
    found = service.get_digest(request_session(), parsed)
    if found is None or (found.figures is None and found.state != "failed"):
        abort(404)
    served = found.state in service.SERVED_STATES
    iso = parsed.isoformat()
    links = (
        {
            "html": url_for("digests.day_page", day=iso, _external=True),
            "pdf": url_for("digests.pdf", day=iso, _external=True),
            "csv": url_for("digests.reports_csv", day=iso, _external=True),
            "geojson": url_for("digests.reports_geojson", day=iso, _external=True),
        }
        if served
        else {"html": url_for("digests.day_page", day=iso, _external=True)}
    )
    return jsonify(
        {
            "day": iso,
            "time_zone": found.time_zone,
            "state": found.state,
            "generated_at": found.generated_at.isoformat() if found.generated_at else None,
            "failure_reason": found.failure_reason if found.state == "failed" else None,
            "ledger_head": found.ledger_head,
            "signature": found.signature,
            "links": links,
            "figures": found.figures if served else None,
        }
    )
