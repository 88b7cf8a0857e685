"""The files of one digest build, rendered from one snapshot of the database.

Map, trend, web body, standalone document (the email's HTML part and the PDF's source), plain
text and PDF all come from the same snapshot and the one template, so they never disagree. The
pictures' words go through the same catalogue as the template (``labels=``): the digest is
rendered by a worker, in the commission's language (docs/architecture.md, "Words for people").
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from fieldreport.config import Settings
from fieldreport.digests import render
from fieldreport.digests.chart import render_trend_png
from fieldreport.digests.map_drawing import render_map_png
from fieldreport.digests.pdf import html_to_pdf
from fieldreport.digests.picture import png_data_uri, translated_labels
from fieldreport.digests.projection import MapEvent, MapSector
from fieldreport.digests.rows import ExportRecord
from fieldreport.i18n import translations


@dataclass(frozen=True)
class Snapshot:
    """Everything a digest states, read in one transaction (``service.read_snapshot``)."""

    figures: dict[str, Any]
    ledger_head: str | None
    annex: list[dict[str, Any]]
    sectors: list[MapSector]
    events: list[MapEvent]
    tree_head: dict[str, Any] | None = None  # issue 11: the signed head of this snapshot
    records: Sequence[ExportRecord] = ()  # the verified reports, for the CSV and GeoJSON


@dataclass
class Outputs:
    """The rendered files of one build, and the time each piece took (for the benchmark)."""

    files: dict[str, bytes]
    timings: dict[str, float]


def render_outputs(settings: Settings, day: date, snapshot: Snapshot, signature: str) -> Outputs:
    """Map, trend, web body, standalone document, text and PDF: all from the one template."""
    language = settings.languages[0]
    timings: dict[str, float] = {}
    began = time.perf_counter()
    map_png, trend_png = _pictures(snapshot, language)
    timings["map"] = time.perf_counter() - began
    began = time.perf_counter()
    context = {
        "figures": snapshot.figures,
        "mission_name": settings.mission_name,
        "parties": settings.parties,
        "language": language,
        "map_uri": png_data_uri(map_png),
        "trend_uri": png_data_uri(trend_png),
        "ledger_head": snapshot.ledger_head,
        "signature": signature,
        "tree_head": snapshot.tree_head,
        # The email and the PDF are read away from the app: a link only with its public address.
        "csv_url": settings.public_link(f"/digests/{day.isoformat()}/reports.csv"),
    }
    body = render.render_body({**context, "annex": snapshot.annex}, render.WEB, language)
    printable = {**context, "annex": snapshot.annex[: render.PDF.annex]}
    document = render.render_document(printable, render.PDF, language)
    text = render.render_text(printable, language)
    timings["html"] = time.perf_counter() - began
    began = time.perf_counter()
    pdf = html_to_pdf(document)
    timings["pdf"] = time.perf_counter() - began
    files = {
        "body.html": body.encode(),
        "digest.html": document.encode(),
        "digest.txt": text.encode(),
        "digest.pdf": pdf,
        "map.png": map_png,
        "trend.png": trend_png,
    }
    return Outputs(files, timings)


def _pictures(snapshot: Snapshot, language: str) -> tuple[bytes, bytes]:
    """The map and the trend chart, their words in ``language``."""
    labels = translated_labels(translations(language).gettext)
    map_png = render_map_png(snapshot.sectors, snapshot.events, labels=labels)
    days = [(date.fromisoformat(d), n) for d, n in snapshot.figures["trend"]]
    return map_png, render_trend_png(days, labels=labels)
