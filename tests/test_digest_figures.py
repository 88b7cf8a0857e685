"""The digest's figures against hand-counted days, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, inspect, select

from fieldreport.digests import pipeline, service
from fieldreport.digests.day_range import DayRange
from fieldreport.digests.figures import compute_figures
from fieldreport.digests.models import Digest
from fieldreport.reports.models import Report
from tests.digest_factories import hand_counted_day
from tests.helpers import add_report, utc


@pytest.fixture
def day_of_reports(runtime, users):
    with runtime.db.session_scope() as session:
        return hand_counted_day(session, users)


def figures_of(runtime, day):
    with runtime.db.session_scope(write=False) as session:
        return compute_figures(session, day, runtime.settings.zone)


def test_day_boundaries_follow_the_commission_zone(runtime, day_of_reports):
    figures = figures_of(runtime, day_of_reports)

    cell = figures["reports"]["ceasefire_violation"]
    assert cell["small_arms_fire"] == {"verified": 1, "unverified": 2}  # disputed, in review
    assert cell["explosion"] == {"verified": 1, "unverified": 0}
    assert figures["utc_start"] == "2026-11-23T23:00:00+00:00"
    assert figures["totals"] == {"verified": 8, "unverified": 3, "rejected": 1}


def test_rejected_reports_are_not_counted_and_unverified_are_not_facts(runtime, day_of_reports):
    figures = figures_of(runtime, day_of_reports)

    killed = figures["civilian"]["killed"]
    assert killed == {
        "reports": 1,
        "men": 2,
        "women": 0,
        "children": 1,
        "unknown_persons": 0,
        "total": 3,
    }
    assert figures["civilian"]["injured"]["total"] == 4
    assert figures["civilian"]["damage"] == [
        {"subcategory": "damage_homes", "object": "house", "reports": 1, "objects": 3}
    ]
    assert figures["urgent"]["verified"] == 1 and figures["urgent"]["unverified"] == 1
    assert [item["verified"] for item in figures["urgent"]["items"]] == [False, True]


def test_seven_day_average_takes_the_seven_local_days_before(runtime, day_of_reports):
    figures = figures_of(runtime, day_of_reports)

    small_arms = next(r for r in figures["headline"] if r["subcategory"] == "small_arms_fire")
    assert small_arms["average_7d"] == round(2 / 7, 1)
    assert small_arms["verified"] == 1


def test_sectors_parties_and_reports_in_no_sector_are_counted(runtime, day_of_reports):
    figures = figures_of(runtime, day_of_reports)

    sectors = {row["sector"]: row for row in figures["sectors"]}
    assert sectors["S-01"]["verified"] == 5 and sectors["S-01"]["unverified"] == 2
    assert sectors["—"]["verified"] == 1  # the explosion outside every sector
    assert sectors["S-02"] == {
        "sector": "S-02",
        "verified": 2,
        "unverified": 1,
        "previous_verified": 0,
        "by_category": {"freedom_of_movement": 1, "repatriation": 1},
    }
    # The day before: one verified report at 23:30 local, in S-01.
    assert sectors["S-01"]["previous_verified"] == 1
    parties = {row["party"]: row for row in figures["parties"]}
    assert parties["Party A"]["by_confidence"] == {"likely": 1}
    assert parties["Party B"]["by_confidence"] == {"confirmed": 1}
    assert parties[None]["total"] == 6


def test_movement_repatriation_weapons_and_coverage_are_counted(runtime, day_of_reports):
    figures = figures_of(runtime, day_of_reports)

    assert figures["movement"]["count"] == 1
    assert figures["movement"]["items"] == [
        {
            "time": "13:00",
            "place": None,  # no gazetteer loaded
            "sector": "S-02",
            "subcategory": "denied_access",
            "checkpoint_party": "Party B",
            "duration_min": 45,
            "effect": "patrol_cancelled",
            "team": "T-01",
        }
    ]
    assert figures["repatriation"]["by_crossing_point"] == [
        {"crossing_point": "CP North", "reports": 1, "side_a": 10, "side_b": 12}
    ]
    assert figures["weapons"] == [
        {
            "subcategory": "heavy_weapons_restricted_area",
            "relation": "inside_restricted_area",
            "reports": 1,
            "items": 3,
        }
    ]
    assert figures["coverage"] == {
        "sectors_without_reports": ["S-03"],
        "assigned_sectors_without_reports": ["S-03"],
        "sectors_without_assignments": ["S-02"],
        "observers_without_reports": ["T-02"],
    }


def test_trend_counts_fourteen_local_days(runtime, day_of_reports):
    figures = figures_of(runtime, day_of_reports)

    trend = dict(figures["trend"])
    assert len(trend) == 14
    assert trend["2026-11-24"] == 8
    assert trend["2026-11-23"] == 1 and trend["2026-11-17"] == 1 and trend["2026-11-16"] == 1


def test_day_across_the_autumn_daylight_saving_change_has_25_hours(runtime, users):
    day = date(2026, 10, 25)  # Europe/Rome: 03:00 CEST becomes 02:00 CET
    obs = users.observer
    with runtime.db.session_scope() as s:
        add_report(s, obs, utc("2026-10-24T21:59"))  # 23:59 CEST on the 24th
        add_report(s, obs, utc("2026-10-24T22:00"))  # 00:00 CEST on the 25th
        add_report(s, obs, utc("2026-10-25T00:30"))  # 02:30 CEST, the first of two
        add_report(s, obs, utc("2026-10-25T01:30"))  # 02:30 CET, the second
        add_report(s, obs, utc("2026-10-25T22:30"))  # 23:30 CET: a 24-hour day would miss it
        add_report(s, obs, utc("2026-10-25T23:00"))  # 00:00 CET on the 26th

    span = DayRange.of(day, runtime.settings.zone)
    figures = figures_of(runtime, day)

    assert span.end - span.start == timedelta(hours=25)
    assert figures["reports"]["ceasefire_violation"]["small_arms_fire"]["verified"] == 4
    assert dict(figures["trend"])["2026-10-24"] == 1


def test_rebuild_gives_the_same_figures_and_signature(runtime, users, day_of_reports):
    first = pipeline.build(runtime, day_of_reports)
    second = pipeline.build(runtime, day_of_reports)

    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 1
        stored = service.get_digest(session, day_of_reports)
    assert first.figures == second.figures == stored.figures
    assert first.signature == second.signature and service.verify(runtime.settings, stored)
    assert stored.state == "ready" and stored.attempts == 2


def test_migration_creates_the_digest_indexes_the_models_declare(runtime):
    declared = {
        index.name: [column.name for column in index.columns]
        for index in Report.__table__.indexes
        if index.name.startswith("ix_reports_digest_")
    }
    migrated = {
        index["name"]: index["column_names"]
        for index in inspect(runtime.db.engine).get_indexes("reports")
        if index["name"].startswith("ix_reports_digest_")
    }

    assert len(declared) == 3 and migrated == declared
    columns = {column["name"] for column in inspect(runtime.db.engine).get_columns("digests")}
    assert columns == {column.name for column in Digest.__table__.columns}


def test_rebuild_after_a_new_verified_report_updates_the_same_row(runtime, users, day_of_reports):
    first = pipeline.build(runtime, day_of_reports)
    with runtime.db.session_scope() as session:
        add_report(session, users.observer, utc("2026-11-24T15:00"))

    second = pipeline.build(runtime, day_of_reports)

    assert second.id == first.id
    assert second.figures["totals"]["verified"] == first.figures["totals"]["verified"] + 1
    assert second.ledger_head != first.ledger_head and second.signature != first.signature
    assert second.pdf_key != first.pdf_key and runtime.storage.exists(second.pdf_key)
