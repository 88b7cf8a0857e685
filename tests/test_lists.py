"""Lists never stop silently: /reports and /api/v1/reports walk every visible report, newest
event first, a page at a time with a link to the next; a cursor we did not write is a 400."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_date

from fieldreport.pagination import encode_cursor
from fieldreport.sectors.limits import set_coordinator_sectors
from tests.helpers import add_assignment, add_report, add_sector

START = datetime(2026, 5, 1, 8, tzinfo=UTC)
NEXT_LINK = re.compile(r'<a rel="next" href="([^"]+)"')


def _fill(runtime, observer, count, *, sector=None, minutes=7):
    """``count`` reports whose event times are out of filing order, some sharing an instant."""
    with runtime.db.session_scope() as session:
        return [
            add_report(session, observer, START + timedelta(minutes=(i * minutes) % 61))
            for i in range(count)
        ]


def _expected_order(reports):
    return [r.id for r in sorted(reports, key=lambda r: (r.occurred_at, r.id), reverse=True)]


def _shown_ids(html):
    return [int(n) for n in re.findall(r'href="/reports/(\d+)"', html)]


def test_reports_page_walks_every_report_newest_event_first_and_says_where_it_stops(
    runtime, users, client_for
):
    reports = _fill(runtime, users.observer, 120)
    client = client_for("obs1")
    seen, url, pages = [], "/reports", []
    while url:
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        seen.extend(_shown_ids(html))
        pages.append(html)
        found = NEXT_LINK.search(html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == _expected_order(reports)
    assert len(pages) == 3
    assert "Showing 50 — " in pages[0] and "older reports" in pages[0]
    assert "Showing 20: no older reports." in pages[2]
    assert 'href="/reports"' in pages[1]  # back to the newest


def test_a_limited_coordinator_pages_through_their_sectors_only(runtime, users, client_for):
    with runtime.db.session_scope() as session:
        west = add_sector(session, "W", 11.85, 43.47)
        east = add_sector(session, "E", 11.95, 43.47)
        mine = [
            add_report(session, users.observer, START + timedelta(minutes=i), sector=west)
            for i in range(60)
        ]
        for i in range(30):
            add_report(session, users.observer, START + timedelta(minutes=i), sector=east)
        set_coordinator_sectors(session, users.coordinator.id, [west.id], None)
    client = client_for("coord")
    first = client.get("/api/v1/reports?limit=40").get_json()
    second = client.get(first["links"]["next"]).get_json()
    ids = [r["id"] for r in first["reports"] + second["reports"]]
    assert ids == _expected_order(mine)
    assert second["links"]["next"] is None
    assert {r["sector"] for r in first["reports"]} == {"W"}


def test_api_pages_link_the_next_in_the_body_and_the_link_header(runtime, users, client_for):
    reports = _fill(runtime, users.observer, 25)
    client = client_for("admin")
    seen, url = [], "/api/v1/reports?limit=10"
    while url:
        answer = client.get(url)
        assert answer.status_code == 200
        body = answer.get_json()
        seen.extend(r["id"] for r in body["reports"])
        url = body["links"]["next"]
        if url:
            assert answer.headers["Link"] == f'<{url}>; rel="next"'
        else:
            assert "Link" not in answer.headers
    assert seen == _expected_order(reports)


def test_commission_pages_hold_verified_reports_only(runtime, users, client_for):
    with runtime.db.session_scope() as session:
        verified = [
            add_report(session, users.observer, START + timedelta(minutes=i)) for i in range(7)
        ]
        for i in range(5):
            add_report(session, users.observer, START + timedelta(minutes=i), status="submitted")
    body = client_for("comm").get("/api/v1/reports?limit=5").get_json()
    rest = client_for("comm").get(body["links"]["next"]).get_json()
    assert [r["id"] for r in body["reports"] + rest["reports"]] == _expected_order(verified)


BAD_CURSORS = ["nonsense", encode_cursor([1]), encode_cursor(["x", "y", "z"]), "%%%"]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_a_page_link_we_did_not_write_is_a_clear_400(runtime, users, client_for, cursor):
    client = client_for("admin")
    page = client.get("/reports", query_string={"after": cursor})
    assert page.status_code == 400
    assert "cannot be read" in page.get_data(as_text=True)
    for key in ("cursor", "since"):
        answer = client.get("/api/v1/reports", query_string={key: cursor})
        assert answer.status_code == 400
        assert "cursor" in answer.get_json()["message"]


def test_cursor_and_since_together_are_refused(runtime, users, client_for):
    answer = client_for("admin").get("/api/v1/reports?since=0&cursor=abc")
    assert answer.status_code == 400 and "not both" in answer.get_json()["message"]


def test_a_limit_above_the_most_is_cut_to_500_with_a_next_link(runtime, users, client_for):
    _fill(runtime, users.observer, 3)
    body = client_for("admin").get("/api/v1/reports?limit=2").get_json()
    assert len(body["reports"]) == 2 and body["links"]["next"]
    assert "limit=2" in body["links"]["next"]
    capped = client_for("admin").get("/api/v1/reports?limit=100000").get_json()
    assert len(capped["reports"]) == 3 and capped["links"]["next"] is None


def test_a_cursor_of_another_list_is_a_400_not_a_database_error(runtime, users, client_for):
    client = client_for("coord")
    event_cursor = encode_cursor([START, 5])
    change_cursor = encode_cursor([5, 5])
    assert client.get("/api/v1/reports", query_string={"cursor": change_cursor}).status_code == 400
    assert client.get("/api/v1/reports", query_string={"since": event_cursor}).status_code == 400
    assert client.get("/reports", query_string={"after": change_cursor}).status_code == 400
    page = client.get("/assignments", query_string={"after": change_cursor})
    assert page.status_code == 400 and "cannot be read" in page.get_data(as_text=True)
    assert client_for("admin").get("/admin/audit?older_than=x1").status_code == 400


def test_assignments_page_by_first_day_with_a_link_to_later_ones(runtime, users, client_for):
    today = datetime.now(runtime.settings.zone).date()
    with runtime.db.session_scope() as session:
        west = add_sector(session, "W", 11.85, 43.47)
        for i in range(55):
            day = today + timedelta(days=i)
            add_assignment(session, (users.observer, users.observer2)[i % 2], west, day, day)
    client = client_for("coord")
    first = client.get("/assignments").get_data(as_text=True)
    assert "Showing 50 — " in first and "later assignments" in first
    found = NEXT_LINK.search(first)
    second = client.get(found.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "Showing 5: no later assignments." in second
    last_day = format_date(today + timedelta(days=54), "d MMM y", locale="en")  # the one format
    assert last_day in second
    assert last_day not in first


def test_a_limited_coordinator_syncs_their_sectors_only(runtime, users, client_for):
    with runtime.db.session_scope() as session:
        west = add_sector(session, "W", 11.85, 43.47)
        east = add_sector(session, "E", 11.95, 43.47)
        mine = [add_report(session, users.observer, START, sector=west) for _ in range(12)]
        for _ in range(6):
            add_report(session, users.observer, START, sector=east)
        set_coordinator_sectors(session, users.coordinator.id, [west.id], None)
    client = client_for("coord")
    ids, url = [], "/api/v1/reports?since=0&limit=5"
    while True:
        body = client.get(url).get_json()
        if not body["reports"]:
            break
        ids.extend(r["id"] for r in body["reports"])
        url = body["links"]["next"]
    assert ids == sorted(r.id for r in mine)
