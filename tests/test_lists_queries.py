"""No per-row queries: each list page and API list sends as many SQL statements for 50 rows as for
5 (counted with SQLAlchemy's ``before_cursor_execute`` on the app's engine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fieldreport.accounts.service import audit
from fieldreport.sectors.days import today_in
from fieldreport.sectors.limits import set_coordinator_sectors
from tests.helpers import add_assignment, add_report, add_sector, make_user

NOW = datetime.now(UTC).replace(microsecond=0)
PAGES = [
    ("obs1", "/reports"),
    ("coord", "/reports"),
    ("limited", "/reports"),
    ("comm", "/reports"),
    ("admin", "/reports"),
    ("obs1", "/api/v1/reports"),
    ("limited", "/api/v1/reports?limit=100"),
    ("admin", "/api/v1/reports?since=0"),
    ("comm", "/api/v1/reports?limit=100"),
    ("admin", "/admin/audit"),
    ("admin", "/admin/audit?action=list.test"),
    ("coord", "/assignments"),
    ("limited", "/assignments"),
    ("coord", "/roster"),
    ("coord", "/coverage"),
    ("coord", "/review"),
    ("limited", "/review"),
    ("admin", "/review?status=submitted&urgency=routine"),
    ("admin", "/api/v1/reports/export.csv?from={day}&to={day}"),
    ("comm", "/api/v1/reports/export.geojson?from={day}&to={day}"),
]


@pytest.fixture
def world(runtime, users):
    """Sectors W and E; ``limited``: a coordinator limited to W."""
    with runtime.db.session_scope() as session:
        west = add_sector(session, "W", 11.85, 43.47)
        east = add_sector(session, "E", 11.95, 43.47)
        limited = make_user(session, "limited", "coordinator")
        set_coordinator_sectors(session, limited.id, [west.id], None)
    return {"sectors": (west, east), "users": users}


def _add_rows(runtime, world, count):
    """``count`` of each kind of row a list shows: reports (both sectors, several observers and
    statuses), audit events and assignments (different observers and sectors)."""
    users = world["users"]
    observers = [users.observer, users.observer2]
    today = today_in(runtime.settings.zone)
    with runtime.db.session_scope() as session:
        for i in range(count):
            sector = world["sectors"][i % 2]
            status = ("verified", "submitted")[i % 3 == 0]
            when = NOW - timedelta(minutes=i + 1)
            add_report(session, observers[i % 2], when, sector=sector, status=status)
            audit(session, "list.test", user=users.admin, detail={"n": i})
            observer = make_user(session, f"extra{count}-{i}", team_code=f"X-{i}")
            add_assignment(session, observer, sector, today, today + timedelta(days=i))


def _count(client_for, statements, username, url):
    client = client_for(username)
    assert client.get(url).status_code == 200  # warm: the session's own bookkeeping settles
    statements.clear()
    answer = client.get(url)
    assert answer.status_code == 200
    answer.get_data()  # a streamed answer runs its queries while it is read
    return len(statements)


def test_each_list_sends_as_many_queries_for_50_rows_as_for_5(
    runtime, world, client_for, statements
):
    day = NOW.astimezone(runtime.settings.zone).date().isoformat()
    urls = [(user, url.format(day=day)) for user, url in PAGES]
    _add_rows(runtime, world, 5)
    few = {key: _count(client_for, statements, *key) for key in urls}
    _add_rows(runtime, world, 45)
    many = {key: _count(client_for, statements, *key) for key in urls}
    assert {k: (few[k], many[k]) for k in urls if few[k] != many[k]} == {}
    assert min(few.values()) > 0
