"""The review desk: the queue's filters, counts and pages (no silent cap, no query per row),
one-click decisions with errors shown as errors, the reviewed list and an admin's reopening."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from fieldreport.accounts.models import AuditLog
from fieldreport.db import utcnow
from fieldreport.reports.models import Report
from fieldreport.review.models import ReviewEvent
from fieldreport.sectors.models import Sector
from fieldreport.sectors.service import import_sector_collection
from tests.helpers import EAST, WEST, add_photo_row, add_report, collection, csrf_from


@pytest.fixture
def desk(runtime: Any, users: Any) -> dict[str, Any]:
    """Sectors W and E; in W two routine reports waiting, one urgent and one verified; in E one."""
    now = utcnow()
    with runtime.db.session_scope() as session:
        import_sector_collection(session, collection(WEST, EAST))
        west = session.scalar(select(Sector).where(Sector.code == "W"))
        east = session.scalar(select(Sector).where(Sector.code == "E"))
        obs = users.observer
        ids = {
            "old": add_report(
                session,
                obs,
                now - timedelta(hours=5),
                status="submitted",
                sector=west,
                narrative="Old shelling " * 30,
            ).id,
            "new": add_report(
                session, obs, now - timedelta(hours=1), status="in_review", sector=west
            ).id,
            "urgent": add_report(
                session,
                obs,
                now - timedelta(hours=9),
                status="submitted",
                sector=west,
                urgent=True,
                category="civilian_harm",
                subcategory="injured",
            ).id,
            "east": add_report(
                session,
                obs,
                now - timedelta(hours=2),
                status="submitted",
                sector=east,
                category="freedom_of_movement",
                subcategory="denied_access",
            ).id,
            "done": add_report(
                session, obs, now - timedelta(hours=3), status="verified", sector=west
            ).id,
        }
        ids |= {"west": west.id, "east_sector": east.id}
    add_photo_row(runtime, ids["new"], b"one")
    add_photo_row(runtime, ids["new"], b"two")
    return ids


def queue_ids(html: str) -> list[int]:
    import re

    return [int(n) for n in re.findall(r'href="/review/(\d+)" data-client-id', html)]


def test_queue_lists_urgent_first_then_newest_event_with_excerpt_and_photo_count(client_for, desk):
    html = client_for("coord").get("/review").get_data(as_text=True)
    assert queue_ids(html) == [desk["urgent"], desk["new"], desk["east"], desk["old"]]
    assert "2 photos" in html and "0 photos" in html
    assert "Old shelling Old shelling" in html and "…" in html  # the narrative, cut short
    assert "4 reports" in html


def test_filters_narrow_the_queue_and_each_shows_its_count(client_for, desk):
    client = client_for("coord")
    html = client.get("/review?urgency=urgent").get_data(as_text=True)
    assert queue_ids(html) == [desk["urgent"]]
    assert "Routine (3)" in html and "Urgent (1)" in html
    html = client.get(f"/review?sector={desk['west']}&status=submitted").get_data(as_text=True)
    assert queue_ids(html) == [desk["urgent"], desk["old"]]
    assert "In review (1)" in html and "Submitted (2)" in html
    html = client.get("/review?category=freedom_of_movement").get_data(as_text=True)
    assert queue_ids(html) == [desk["east"]]
    assert "1 report" in html


def test_queue_pages_show_every_report_once_with_the_same_queries_per_page(
    client_for, runtime, users, desk
):
    with runtime.db.session_scope() as session:
        for minute in range(120):
            add_report(
                session, users.observer, utcnow() - timedelta(minutes=minute), status="submitted"
            )
    client = client_for("coord")
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(runtime.db.engine, "before_cursor_execute", listen)
    seen: list[int] = []
    per_page: list[int] = []
    url = "/review"
    try:
        while url:
            statements.clear()
            html = client.get(url).get_data(as_text=True)
            per_page.append(len(statements))
            seen += queue_ids(html)
            found = [part for part in html.split('"') if part.startswith("/review?cursor=")]
            url = found[0].replace("&amp;", "&") if found else ""
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", listen)
    assert len(seen) == len(set(seen)) == 124  # no report lost or repeated, no cap
    assert len(per_page) == 3 and len(set(per_page)) == 1, per_page  # 50, 50 and 24 rows
    assert seen[0] == desk["urgent"]
    assert client.get("/review?cursor=not-ours").status_code == 400


def test_one_click_verify_goes_to_the_next_report_and_ask_without_question_is_an_error(
    client_for, runtime, desk
):
    client = client_for("coord")
    page = client.get(f"/review/{desk['urgent']}").get_data(as_text=True)
    assert 'data-key="v"' in page and "<kbd>V</kbd>" in page and 'id="mini-map"' in page
    token = csrf_from(page)
    done = client.post(
        f"/review/{desk['urgent']}",
        data={"csrf_token": token, "status": "verified", "then": "next"},
    )
    assert done.headers["Location"].endswith(f"/review/{desk['new']}")
    assert "Review saved." in client.get(done.headers["Location"]).get_data(as_text=True)
    asked = client.post(
        f"/review/{desk['new']}",
        data={"csrf_token": token, "status": "needs_info", "comment": " "},
        follow_redirects=True,
    )
    html = asked.get_data(as_text=True)
    assert 'class="warning error" role="alert"' in html and "write the question" in html
    assert 'class="notice"' not in html
    with runtime.db.session_scope(write=False) as session:
        assert session.get_one(Report, desk["urgent"]).status == "verified"
        assert session.get_one(Report, desk["new"]).status == "in_review"


def test_reviewed_list_shows_who_decided_what_and_when(client_for, desk):
    client = client_for("coord")
    token = csrf_from(client.get(f"/review/{desk['east']}").get_data(as_text=True))
    client.post(
        f"/review/{desk['east']}",
        data={"csrf_token": token, "status": "rejected", "comment": "Duplicate of T-02."},
    )
    html = client.get("/review/reviewed").get_data(as_text=True)
    assert "Rejected" in html and "Carla Coordinator" in html and "Duplicate of T-02." in html
    assert f'href="/review/{desk["east"]}"' in html
    assert queue_ids(client.get("/review").get_data(as_text=True)).count(desk["east"]) == 0


def test_admin_reopens_a_decision_with_a_reason_kept_in_history_and_audit(
    client_for, runtime, desk
):
    coordinator = client_for("coord")
    page = coordinator.get(f"/review/{desk['done']}").get_data(as_text=True)
    assert "Reopen the decision" not in page
    refused = coordinator.post(
        f"/review/{desk['done']}/reopen", data={"csrf_token": csrf_from(page), "reason": "Wrong."}
    )
    assert refused.status_code == 403
    admin = client_for("admin")
    page = admin.get(f"/review/{desk['done']}").get_data(as_text=True)
    token = csrf_from(page)
    empty = admin.post(
        f"/review/{desk['done']}/reopen",
        data={"csrf_token": token, "reason": ""},
        follow_redirects=True,
    )
    assert 'class="warning error"' in empty.get_data(as_text=True)
    admin.post(
        f"/review/{desk['done']}/reopen",
        data={"csrf_token": token, "reason": "The photo was of another village."},
    )
    with runtime.db.session_scope(write=False) as session:
        assert session.get_one(Report, desk["done"]).status == "in_review"
        reopened = session.scalar(select(ReviewEvent).where(ReviewEvent.kind == "reopen"))
        assert (reopened.from_status, reopened.comment) == (
            "verified",
            "The photo was of another village.",
        )
        audit = session.scalar(select(AuditLog).where(AuditLog.action == "review.reopened"))
        assert audit.detail["report"] == desk["done"]
    html = admin.get(f"/review/{desk['done']}").get_data(as_text=True)
    assert "reopened the decision" in html and "The photo was of another village." in html
    assert "Reopened" in admin.get("/review/reviewed").get_data(as_text=True)


def test_a_coordinator_limited_to_a_sector_sees_only_its_reports_on_the_desk(
    client_for, runtime, users, desk
):
    from fieldreport.accounts.service import create_user
    from fieldreport.sectors.limits import set_coordinator_sectors
    from tests.helpers import PASSWORD

    with runtime.db.session_scope() as session:
        limited = create_user(session, "eastern", role="coordinator", password=PASSWORD)
        session.flush()
        set_coordinator_sectors(session, limited.id, [desk["east_sector"]], None)
    client = client_for("eastern")
    assert queue_ids(client.get("/review").get_data(as_text=True)) == [desk["east"]]
    assert client.get(f"/review/{desk['urgent']}").status_code == 404
