"""The audit log page for admins: events in words, filters, keyset pages, a safe CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldreport.accounts.models import AuditLog
from fieldreport.audit import service
from fieldreport.audit.export import neutralise
from fieldreport.audit.labels import ACTION_LABELS
from tests.helpers import login

ROME = ZoneInfo("Europe/Rome")
SOURCE = Path(__file__).resolve().parents[1] / "fieldreport"
AUDIT_CALL = re.compile(r"audit\(\s*session,\s*\"([a-z_.]+)\"")
# Actions chosen at run time (the service passes a variable to audit()): named where they are.
ACTION_CONSTANT = re.compile(
    r"(?:return |action = |else |record_change\(\s*session,\s*)\"((?:sectors|user)\.[a-z_]+)\""
)


def _rows_html(page) -> str:
    """The table body of the page (the filter's options name every event too)."""
    text = page.get_data(as_text=True)
    return text[text.index("<tbody>") : text.index("</tbody>")] if "<tbody>" in text else ""


def _add(runtime, action, username, at, address=None, detail=None):
    with runtime.db.session_scope() as session:
        session.add(
            AuditLog(action=action, username=username, at=at, address=address, detail=detail)
        )


def test_every_action_a_service_writes_has_words():
    sources = [path.read_text() for path in SOURCE.rglob("*.py") if "audit" not in path.parts]
    written = {code for text in sources for code in AUDIT_CALL.findall(text)}
    assert {"login", "login.failed", "logout"} <= written
    written |= {code for text in sources for code in ACTION_CONSTANT.findall(text)}
    assert {"sectors.edit", "user.reactivate"} <= written
    missing = written - set(ACTION_LABELS)
    assert not missing, f"add these to fieldreport/audit/labels.py ACTION_LABELS: {missing}"


def test_page_shows_log_ins_and_failures_in_words_with_address(app, client_for, users):
    client = app.test_client()
    login(client, "obs1", "wrong password")
    page = client_for("admin").get("/admin/audit")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Failed log-in" in text and "Logged in" in text and "127.0.0.1" in text
    assert "login.failed" not in _rows_html(page)  # codes are not shown where there are words
    assert 'href="/admin/audit"' in text  # the admin's nav link
    assert 'href="/admin/audit"' not in client_for("coord").get("/reports").get_data(as_text=True)


def test_only_admins_open_it(client_for, users):
    for name in ("obs1", "coord", "comm"):
        assert client_for(name).get("/admin/audit").status_code == 403
        assert client_for(name).get("/admin/audit.csv").status_code == 403


def test_filters_by_actor_action_days_and_address(runtime, client_for, users):
    noon = datetime(2025, 11, 20, 11, 0, tzinfo=UTC)
    _add(runtime, "login", "obs1", noon, "10.0.0.7")
    _add(runtime, "login.failed", "obs1", noon + timedelta(days=1), "10.0.0.8")
    _add(runtime, "login.failed", "mallory", noon + timedelta(days=2), "192.168.1.5")
    _add(runtime, "sectors.import", "coord", noon + timedelta(days=3), None, {"created": ["W"]})
    with runtime.db.session_scope(write=False) as session:

        def actions(**wanted):
            found = service.audit_page(session, service.AuditFilter(zone=ROME, **wanted))
            return [(row.action, row.username) for row in found.rows if row.at.year == 2025]

        assert actions(actor="obs1") == [("login.failed", "obs1"), ("login", "obs1")]
        assert actions(action="login.failed") == [
            ("login.failed", "mallory"),
            ("login.failed", "obs1"),
        ]
        assert actions(since=date(2025, 11, 21), until=date(2025, 11, 22)) == [
            ("login.failed", "mallory"),
            ("login.failed", "obs1"),
        ]
        assert actions(address="10.0.") == [("login.failed", "obs1"), ("login", "obs1")]
        assert actions(address="10_0") == []  # LIKE wildcards are taken literally
    page = client_for("admin").get("/admin/audit?actor=coord&action=sectors.import")
    text = _rows_html(page)
    assert "Sector imported" in text and "created: W" in text and "Failed log-in" not in text


def test_a_day_is_the_viewers_day(runtime):
    # 23:30 UTC on the 20th is 00:30 on the 21st in Rome.
    _add(runtime, "login", "late", datetime(2026, 11, 20, 23, 30, tzinfo=UTC))
    with runtime.db.session_scope(write=False) as session:
        on = service.AuditFilter(zone=ROME, actor="late", since=date(2026, 11, 21))
        before = service.AuditFilter(zone=ROME, actor="late", until=date(2026, 11, 20))
        assert len(service.audit_page(session, on).rows) == 1
        assert service.audit_page(session, before).rows == []


def test_pages_go_back_in_time_by_keyset(runtime, client_for, users):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minute in range(7):
        _add(runtime, "login", "paged", start + timedelta(minutes=minute))
    with runtime.db.session_scope(write=False) as session:
        wanted = service.AuditFilter(zone=ROME, actor="paged")
        first = service.audit_page(session, wanted, size=3)
        second = service.audit_page(session, wanted, first.older_than, size=3)
        third = service.audit_page(session, wanted, second.older_than, size=3)
        minutes = [[row.at.minute for row in page.rows] for page in (first, second, third)]
    assert minutes == [[6, 5, 4], [3, 2, 1], [0]]
    assert third.older_than is None
    client = client_for("admin")
    for minute in range(60):
        _add(runtime, "login", "many", start + timedelta(minutes=minute))
    page = client.get("/admin/audit?actor=many")
    link = re.search(r'href="([^"]+)" rel="next"', page.get_data(as_text=True))
    older = link.group(1).replace("&amp;", "&")
    assert "actor=many" in older and "older_than=" in older
    assert _rows_html(page).count("<tr>") == service.PAGE_SIZE
    last = client.get(older)
    assert _rows_html(last).count("<tr>") == 60 - service.PAGE_SIZE
    assert 'rel="next"' not in last.get_data(as_text=True)


def test_invalid_filter_is_400_with_the_reason(client_for, users):
    response = client_for("admin").get("/admin/audit?since=2026-11-20&until=2026-11-01")
    assert response.status_code == 400
    assert "The end is before the start." in response.get_data(as_text=True)
    assert client_for("admin").get("/admin/audit?actor=nobody").status_code == 400


def test_csv_export_is_the_filtered_list_with_formulas_neutralised(runtime, client_for, users):
    at = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    _add(runtime, "login.failed", '=HYPERLINK("http://x")', at, "+1-555")
    _add(runtime, "login.failed", "@SUM(A1)", at, "10.0.0.1")
    _add(runtime, "login", "obs9", at, "10.0.0.2")
    client = client_for("admin")
    response = client.get("/admin/audit.csv?action=login.failed")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {row["user"] for row in rows} >= {'\'=HYPERLINK("http://x")', "'@SUM(A1)"}
    assert "obs9" not in {row["user"] for row in rows}
    assert {row["event"] for row in rows} == {"Failed log-in"}
    flagged = next(row for row in rows if row["user"].startswith("'="))
    assert flagged["address"] == "'+1-555"
    assert flagged["time"] == "2026-11-20T12:00:00+01:00"


def test_neutralise_only_touches_formula_starts():
    assert [neutralise(c) for c in ("=1", "+1", "-1", "@a", "\tx", "\rx", "a=1", "")] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\tx",
        "'\rx",
        "a=1",
        "",
    ]


def test_unlabelled_action_is_shown_as_other_event_with_its_code(runtime, client_for, users):
    _add(runtime, "user.teleported", "admin", datetime.now(UTC))
    text = client_for("admin").get("/admin/audit").get_data(as_text=True)
    assert "Other event" in text and "(user.teleported)" in text


def test_known_actors_and_actions_feed_the_filter(runtime, users):
    _add(runtime, "login", "obs1", datetime.now(UTC))
    with runtime.db.session_scope(write=False) as session:
        assert "obs1" in service.known_actors(session)
        assert "login" in service.known_actions(session)
        assert session.scalars(select(AuditLog)).first() is not None
