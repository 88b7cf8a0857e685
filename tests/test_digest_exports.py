"""The digest's CSV and GeoJSON: built from the build's own snapshot, in one lean pass, and byte
for byte what the plain (dict per row, per-feature ``json.dumps``) encoding of the same reports
gives."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from fieldreport.digests import exports, pipeline, rows, service
from fieldreport.digests.day_range import DayRange, verified_in
from fieldreport.places.finder import place_finder
from fieldreport.places.gazetteer import PlaceRow
from fieldreport.places.service import load_places
from fieldreport.reports.models import Report
from fieldreport.sectors.models import Sector
from tests.digest_factories import hand_counted_day
from tests.helpers import add_report, add_sector

# Narratives as observers type them: formulas, quotes, line breaks, other scripts, nothing.
AWKWARD = [
    '=HYPERLINK("http://x")',
    "-3 shots; +2 bursts",
    '@once "quoted", then\r\na new line\rand a bare return',
    "Обстріл з північного сходу — «Град»",
    "",
    "\ttab first",
]


def naive_export(session, day, zone, sector_ids=None):
    """The exports as the digest made them before: a row per report as a dict, the sector by a
    join, the place looked up per row, then the generic dict encoders."""
    span = DayRange.of(day, zone)
    query = (
        select(
            Report.occurred_at,
            Sector.code,
            Report.category,
            Report.subcategory,
            Report.latitude,
            Report.longitude,
            Report.basis,
            Report.attribution_party,
            Report.attribution_confidence,
            Report.urgent,
            Report.team_code,
            Report.narrative,
        )
        .outerjoin(Sector, Sector.id == Report.sector_id)
        .where(verified_in(span))
        .order_by(Report.occurred_at, Report.id)
    )
    if sector_ids is not None:
        query = query.where(Report.sector_id.in_(sector_ids))
    describe = place_finder(session)
    found = []
    for (
        at,
        code,
        category,
        sub,
        lat,
        lon,
        basis,
        party,
        sure,
        urgent,
        team,
        text,
    ) in session.execute(query):
        found.append(
            {
                "occurred_at_utc": at.isoformat(),
                "local_time": span.local(at).isoformat(),
                "sector": code or "",
                "category": category,
                "subcategory": sub,
                "latitude": lat,
                "longitude": lon,
                "basis": basis,
                "attribution_party": party or "",
                "attribution_confidence": sure or "",
                "urgent": bool(urgent),
                "team": team or "",
                "narrative": text or "",
                "place": describe(lat, lon),
            }
        )
    csv_text = "".join(exports.csv_chunks(iter(found)))
    geojson_text = "".join(exports.geojson_chunks(iter(found)))
    return csv_text.encode(), geojson_text.encode()


@pytest.fixture
def awkward_day(runtime, users):
    """The hand-counted day, a named town, and verified reports with awkward text, positions
    near and far from the town, microseconds, urgent ones, and one outside every sector."""
    with runtime.db.session_scope() as session:
        load_places(session, [PlaceRow("Testville", 43.47, 11.80, "IT", "16", 900)])
        day = hand_counted_day(session, users)
        sector = add_sector(session, "=S-04", 12.15, 43.47)
        for n, text in enumerate(AWKWARD):
            add_report(
                session,
                users.observer2,
                datetime(2026, 11, 24, 9, n, 7, 250_000 * (n % 2), tzinfo=UTC),
                sector=sector if n % 3 else None,
                narrative=text,
                urgent=n == 2,
                party="+Party" if n == 1 else None,
                lat=43.47 + n / 7,
                lon=11.85 - n / 3,
            )
        add_report(
            session,
            users.observer,
            datetime(2026, 11, 24, 15, tzinfo=UTC),
            status="submitted",  # counted on the map, never exported
            narrative="pending",
        )
    return day


def stored_file(runtime, day, name):
    with runtime.db.session_scope(write=False) as session:
        digest = service.get_digest(session, day)
    return runtime.storage.get(f"{digest.html_key.rsplit('/', 1)[0]}/{name}")


def test_the_built_exports_equal_the_plain_export_of_the_same_reports_byte_for_byte(
    runtime, awkward_day
):
    digest = pipeline.build(runtime, awkward_day)
    with runtime.db.session_scope(write=False) as session:
        csv_bytes, geojson_bytes = naive_export(session, awkward_day, runtime.settings.zone)

    assert stored_file(runtime, awkward_day, "reports.csv") == csv_bytes
    assert stored_file(runtime, awkward_day, "reports.geojson") == geojson_bytes
    # Not equal by being empty: every verified report of the day is there, and only those.
    table = list(csv.DictReader(io.StringIO(csv_bytes.decode())))
    assert len(table) == digest.figures["totals"]["verified"] == 8 + len(AWKWARD)
    assert "pending" not in csv_bytes.decode()
    assert {row["narrative"][:1] for row in table} >= {"'", "О", ""}
    assert any("east of Testville" in row["place"] for row in table)
    # The GeoJSON keeps the text as typed: only the spreadsheet's copy is made harmless.
    narratives = {f["properties"]["narrative"] for f in json.loads(geojson_bytes)["features"]}
    assert set(AWKWARD) <= narratives and "'" + AWKWARD[0] in {row["narrative"] for row in table}


def test_a_limited_download_streams_the_same_bytes_as_the_plain_export(runtime, awkward_day):
    zone = runtime.settings.zone
    with runtime.db.session_scope(write=False) as session:
        ids = set(session.scalars(select(Sector.id).where(Sector.code.in_(["S-01", "=S-04"]))))
        expected = naive_export(session, awkward_day, zone, sector_ids=ids)
        describe = place_finder(session)
        for encode, want in zip(
            (exports.record_csv_chunks, exports.record_geojson_chunks), expected, strict=True
        ):
            found = rows.verified_records(session, awkward_day, zone, describe, ids, batch=2)
            assert "".join(encode(found)).encode() == want
    table = list(csv.DictReader(io.StringIO(expected[0].decode())))
    # S-01's five verified reports of the day and four of the awkward ones, in =S-04.
    assert sorted(row["sector"] for row in table) == ["'=S-04"] * 4 + ["S-01"] * 5


def test_the_encoders_chunk_without_changing_a_byte(monkeypatch):
    record = (
        "2026-11-24T09:00:00+00:00",
        "2026-11-24T10:00:00+01:00",
        "S-01",
        "ceasefire_violation",
        "explosion",
        43.5,
        -11.25,
        "seen",
        "",
        "",
        True,
        "T-1",
        '"=1+2"\n',
        "",
    )
    records = [record] * 7
    whole = [
        "".join(exports.record_csv_chunks(records)),
        "".join(exports.record_geojson_chunks(records)),
    ]
    monkeypatch.setattr(exports, "CHUNK_ROWS", 2)
    assert len(list(exports.record_csv_chunks(records))) == 4
    assert "".join(exports.record_csv_chunks(records)) == whole[0]
    assert "".join(exports.record_geojson_chunks(records)) == whole[1]
    assert json.loads(whole[1])["features"][6]["geometry"]["coordinates"] == [-11.25, 43.5]
    dicts = [dict(zip(rows.EXPORT_COLUMNS, r, strict=True)) for r in records]
    assert whole == [
        "".join(exports.csv_chunks(iter(dicts))),
        "".join(exports.geojson_chunks(iter(dicts))),
    ]
    assert list(exports.record_csv_chunks([])) == [",".join(rows.EXPORT_COLUMNS) + "\r\n"]
    assert (
        "".join(exports.record_geojson_chunks([])) == '{"type":"FeatureCollection","features":[]}'
    )


def test_a_report_verified_during_the_build_is_in_neither_the_figures_nor_the_exports(
    runtime, users, awkward_day
):
    with runtime.db.session_scope(write=False) as session:
        service.begin_snapshot(session)
        session.scalar(select(Report.id).limit(1))  # the snapshot is taken from here on
        with runtime.db.session_scope() as other:
            add_report(other, users.observer, datetime(2026, 11, 24, 12, tzinfo=UTC))
            other.execute(
                Report.__table__.update()
                .where(Report.status == "in_review")
                .values(status="verified")
            )
        snapshot = service.read_snapshot(session, awkward_day, runtime.settings)
    verified = snapshot.figures["totals"]["verified"]
    assert verified == len(snapshot.records) == 8 + len(AWKWARD)
    assert sum(e.verified for e in snapshot.events) == verified
    assert len(snapshot.events) == verified + snapshot.figures["totals"]["unverified"]
    # Built afresh, the next build has them all: the snapshot, not the query, left them out.
    with runtime.db.session_scope(write=False) as session:
        later = service.read_snapshot(session, awkward_day, runtime.settings)
    assert len(later.records) == verified + 2


def test_a_day_without_reports_exports_only_headers(runtime, users):
    pipeline.build(runtime, date(2026, 1, 5))
    assert (
        stored_file(runtime, date(2026, 1, 5), "reports.csv")
        == (",".join(rows.EXPORT_COLUMNS) + "\r\n").encode()
    )
    assert stored_file(runtime, date(2026, 1, 5), "reports.geojson") == (
        b'{"type":"FeatureCollection","features":[]}'
    )
