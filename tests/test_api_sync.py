"""Incremental sync (``since``) misses no change, even when transactions commit out of the order
they began in; the export streams every visible report of a range of days."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from fieldreport.reports.models import Report
from fieldreport.review.models import ReviewCount
from fieldreport.sectors.locate import rederive_report_sectors
from fieldreport.sectors.models import Sector
from tests.helpers import ON_POSTGRESQL_ONLY, add_report, add_sector, file_report, post_review

START = datetime(2026, 5, 1, 8, tzinfo=UTC)


def _sync(client, since, limit=50):
    """Follow the feed from ``since`` to its end: the ids given, in order, and where to go on."""
    ids, url = [], f"/api/v1/reports?since={since}&limit={limit}"
    while True:
        body = client.get(url).get_json()
        ids.extend(r["id"] for r in body["reports"])
        if not body["reports"]:
            return ids, url
        url = body["links"]["next"]


def test_the_feed_gives_every_report_once_then_only_what_changed(runtime, users, client_for):
    with runtime.db.session_scope() as session:
        made = [
            add_report(session, users.observer, START + timedelta(minutes=i)) for i in range(23)
        ]
    client = client_for("admin")
    ids, resume = _sync(client, "0", limit=5)
    assert sorted(ids) == sorted(r.id for r in made) and len(ids) == len(set(ids))
    assert _sync(client, _since_of(resume))[0] == []
    with runtime.db.session_scope() as session:
        late = add_report(session, users.observer, START - timedelta(days=30))
    assert _sync(client, _since_of(resume))[0] == [late.id]


def _since_of(url):
    return url.split("since=")[1].split("&")[0]


def test_a_report_reviewed_after_it_was_synced_comes_again(runtime, users, client_for):
    with runtime.db.session_scope() as session:
        first = file_report(session, users.observer, 43.47, 11.85)
        file_report(session, users.observer, 43.47, 11.86)
    observer = client_for("obs1")
    ids, resume = _sync(observer, "0")
    assert len(ids) == 2
    coordinator = client_for("coord")
    assert (
        post_review(coordinator, first.client_id, "needs_info", "Which ridge?").status_code == 200
    )
    body = observer.get(resume).get_json()
    assert [(r["id"], r["status"]) for r in body["reports"]] == [(first.id, "needs_info")]


def test_a_report_moved_to_a_new_sector_comes_again(runtime, users, client_for):
    with runtime.db.session_scope() as session:
        report = add_report(session, users.observer, START, lon=11.85, lat=43.47)
    client = client_for("admin")
    _ids, resume = _sync(client, "0")
    with runtime.db.session_scope() as session:
        add_sector(session, "W", 11.85, 43.47)
        assert rederive_report_sectors(session) == 1
    body = client.get(resume).get_json()
    assert [(r["id"], r["sector"]) for r in body["reports"]] == [(report.id, "W")]


@ON_POSTGRESQL_ONLY
def test_a_change_committed_after_a_later_one_is_not_skipped(runtime, users, client_for):
    """The case a timestamp gets wrong: A changes first but commits last.

    A and B are of different categories: two reports of the same status, category, urgency and
    sector share a row of the desk's kept counts (``review_counts``), so there B would wait for
    A's commit and the case cannot arise (``test_same_kind_changes_wait_for_each_other``)."""
    with runtime.db.session_scope() as session:
        a = add_report(session, users.observer, START).id
        b = add_report(
            session,
            users.observer,
            START + timedelta(minutes=1),
            category="civilian_harm",
            subcategory="injured",
        ).id
    client = client_for("admin")
    _ids, resume = _sync(client, "0")
    slow = runtime.db.new_session(write=True)
    try:
        slow.get(Report, a).status = "in_review"
        slow.flush()  # A's change is made (and its row locked) but not committed
        with runtime.db.session_scope() as fast:
            fast.get(Report, b).status = "in_review"
        seen, resume = _sync(client, _since_of(resume))
        assert seen == [b]
        slow.commit()
    finally:
        slow.close()
    assert _sync(client, _since_of(resume))[0] == [a]


def test_same_kind_changes_wait_for_each_other_and_both_land(runtime, users):
    """Two changes of reports of one kind (status, category, urgency, sector) meet on one kept
    count row: the second waits for the first's commit, neither is lost, the counts add up."""
    with runtime.db.session_scope() as session:
        a = add_report(session, users.observer, START).id
        b = add_report(session, users.observer, START + timedelta(minutes=1)).id
    slow = runtime.db.new_session(write=True)
    outcome: list[str] = []

    def change_b() -> None:
        with runtime.db.session_scope() as fast:
            fast.get(Report, b).status = "in_review"
        outcome.append("b committed")

    try:
        slow.get(Report, a).status = "in_review"
        slow.flush()
        racer = threading.Thread(target=change_b)
        racer.start()
        racer.join(timeout=1.0)
        if runtime.db.engine.dialect.name == "postgresql":
            assert outcome == [], "B must wait on the count row A holds"
        slow.commit()
    finally:
        slow.close()
    racer.join(timeout=30)
    assert outcome == ["b committed"]
    with runtime.db.session_scope(write=False) as session:
        statuses = session.execute(select(Report.status).where(Report.id.in_([a, b]))).scalars()
        assert sorted(statuses) == ["in_review", "in_review"]
        kept = session.execute(
            select(ReviewCount.status, func.sum(ReviewCount.number)).group_by(ReviewCount.status)
        ).all()
        counted = session.execute(select(Report.status, func.count()).group_by(Report.status))
        assert {status: n for status, n in kept if n} == dict(counted.all())


def test_every_report_of_one_transaction_shares_a_change_key_above_the_last(runtime, users):
    with runtime.db.session_scope() as session:
        before = add_report(session, users.observer, START)
    with runtime.db.session_scope() as session:
        pair = [add_report(session, users.observer, START) for _ in range(2)]
    with runtime.db.session_scope() as session:
        keys = dict(session.execute(select(Report.id, Report.change_seq)).all())
    assert keys[pair[0].id] == keys[pair[1].id] > keys[before.id] > 0


def test_export_streams_the_visible_reports_of_the_days_asked(runtime, users, client_for):
    zone = runtime.settings.zone
    with runtime.db.session_scope() as session:
        west = add_sector(session, "W", 11.85, 43.47)
        inside = [
            add_report(session, users.observer, START + timedelta(days=d), sector=west)
            for d in range(3)
        ]
        add_report(session, users.observer, START + timedelta(days=5))
        add_report(session, users.observer, START + timedelta(days=1), status="rejected")
        add_report(session, users.observer, START, narrative="=HYPERLINK(1)")
    first = START.astimezone(zone).date()
    query = {"from": first.isoformat(), "to": (first + timedelta(days=2)).isoformat()}
    answer = client_for("comm").get("/api/v1/reports/export.csv", query_string=query)
    assert answer.status_code == 200 and answer.is_streamed
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    expected = sorted([*inside], key=lambda r: (r.occurred_at, r.id))
    assert [int(r["id"]) for r in rows if r["sector"]] == [r.id for r in expected]
    assert "'=HYPERLINK(1)" in [r["narrative"] for r in rows]
    assert "rejected" not in {r["status"] for r in rows}  # the commission sees verified only
    geo = client_for("comm").get("/api/v1/reports/export.geojson", query_string=query)
    features = geo.get_json()["features"]
    assert len(features) == len(rows) and features[0]["geometry"]["type"] == "Point"


def test_export_refuses_a_range_it_cannot_read(runtime, users, client_for):
    client = client_for("admin")
    for query in ({}, {"from": "2026-05-02", "to": "2026-05-01"}, {"from": "x", "to": "y"}):
        answer = client.get("/api/v1/reports/export.csv", query_string=query)
        assert answer.status_code == 400 and answer.get_json()["message"]


def test_an_observer_exports_only_their_own_reports(runtime, users, client_for):
    with runtime.db.session_scope() as session:
        mine = add_report(session, users.observer, START)
        add_report(session, users.observer2, START)
        assert session.scalar(select(Sector.id)) is None
    day = START.astimezone(runtime.settings.zone).date().isoformat()
    answer = client_for("obs1").get(f"/api/v1/reports/export.csv?from={day}&to={day}")
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [int(r["id"]) for r in rows] == [mine.id]
