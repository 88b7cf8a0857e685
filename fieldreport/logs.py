"""Logging for the programs (the command line, the worker) and the request log of the web app.

The app factory sets up only the request log (:func:`setup_request_log`); the rest is the
programs' choice.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO


def setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # WeasyPrint narrates every step of every PDF at INFO; its warnings still show.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)


REQUEST_LOGGER = "fieldreport.requests"


def enable_request_log(enabled: bool) -> None:
    """Let request lines through (INFO) or not: FIELDREPORT_REQUEST_LOG."""
    logging.getLogger(REQUEST_LOGGER).setLevel(logging.INFO if enabled else logging.WARNING)


def setup_request_log(stream: TextIO | None = None) -> None:
    """Write the request log (one JSON object per line, see :func:`request_line`) to ``stream``
    (standard error by default), apart from the human-readable log: a collector parses it.

    Idempotent: gunicorn builds one app per process, tests build many.
    """
    logger = logging.getLogger(REQUEST_LOGGER)
    if any(getattr(handler, "fieldreport_json", False) for handler in logger.handlers):
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.fieldreport_json = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.propagate = False


def request_line(
    *, route: str, method: str, status: int, ms: float, user_id: int | None, request_id: str
) -> None:
    """Log one finished request as a JSON object: the record's message is the JSON itself, so
    any handler (a file, journald, a test's) gets a line a machine can read."""
    fields = {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "event": "request",
        "route": route,
        "method": method,
        "status": status,
        "ms": round(ms, 1),
        "user_id": user_id,
        "request_id": request_id,
    }
    logging.getLogger(REQUEST_LOGGER).info(json.dumps(fields, separators=(",", ":")))
