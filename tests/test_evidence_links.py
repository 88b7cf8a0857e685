"""A coordinator finds the evidence package of a report where they read it; details in words."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.helpers import add_report


def test_the_report_and_desk_pages_link_the_evidence_package_for_coordinators(
    client_for, runtime, users
):
    with runtime.db.session_scope() as session:
        report = add_report(
            session,
            users.observer,
            datetime(2026, 11, 24, 9, tzinfo=UTC),
            status="submitted",
            details={"weapon_class": "small_arms", "count": 12},
        )
        report_id, client_id = report.id, report.client_id
    link = f'href="/reports/{client_id}/evidence.zip"'

    coordinator = client_for("coord")
    detail = coordinator.get(f"/reports/{report_id}").get_data(as_text=True)
    desk = coordinator.get(f"/review/{report_id}").get_data(as_text=True)
    mine = client_for("obs1").get(f"/reports/{report_id}").get_data(as_text=True)

    assert link in detail and link in desk
    assert link not in mine
    assert "Small arms" in desk and "small_arms" not in desk  # words, never codes
    assert coordinator.get(f"/reports/{client_id}/evidence.zip").status_code == 200
