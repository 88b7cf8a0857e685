"""The audit log as CSV, safe to open in a spreadsheet.

Any cell a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) gets a leading ``'``: a user name or an address is typed by whoever
logged in or failed to, so it is attacker-controlled text (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

from fieldreport.accounts.models import AuditLog
from fieldreport.audit.labels import action_label, detail_text

COLUMNS = ("time", "user", "action", "event", "address", "details")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """``cell``, with a ``'`` in front when a spreadsheet would run it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_lines(
    rows: Iterable[AuditLog], zone: ZoneInfo, translate: Callable[[str], str]
) -> Iterator[str]:
    """The header, then one line per row; times in ``zone``, events in ``translate``'s words."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        cells = (
            row.at.astimezone(zone).isoformat(timespec="seconds"),
            row.username or "",
            row.action,
            translate(action_label(row.action)),
            row.address or "",
            detail_text(row.detail),
        )
        writer.writerow([neutralise(cell) for cell in cells])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
