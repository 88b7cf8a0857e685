"""Who hears of a spot report, in-process (no Redis): the sector's coordinators, the unlimited
ones for reports outside every sector, the admins only once escalated; one alert per report."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from fieldreport.alerts.models import Alert, AlertAddress
from fieldreport.alerts.service import alerts_for, set_address
from fieldreport.sectors.limits import set_coordinator_sectors
from fieldreport.sectors.models import Sector
from fieldreport.sectors.service import import_sector_collection
from tests.helpers import (
    EAST,
    PASSWORD,
    WEST,
    collection,
    count,
    csrf_from,
    make_user,
    post_report,
    report_body,
)

OUTSIDE = {"latitude": 40.0, "longitude": 10.0}
IN_WEST = {"latitude": 43.47, "longitude": 11.85}


@pytest.fixture
def sectors(runtime: Any, users: Any) -> dict[str, int]:
    """Sectors W and E; ``western`` is limited to W; nobody is limited to E."""
    with runtime.db.session_scope() as session:
        import_sector_collection(session, collection(WEST, EAST))
        west = session.scalar(select(Sector.id).where(Sector.code == "W"))
        western = make_user(session, "western", "coordinator", password=PASSWORD)
        session.flush()
        set_coordinator_sectors(session, western.id, [west], None)
        return {"west": west}


def feed(client: Any) -> list[int]:
    return [a["id"] for a in client.get("/alerts/open.json").get_json()["alerts"]]


def test_a_report_outside_every_sector_alerts_the_unlimited_coordinators(
    client_for, runtime, sectors
):
    body = report_body(urgent=True, **OUTSIDE)
    assert post_report(client_for("obs1"), body).status_code == 201
    (alert_id,) = feed(client_for("coord"))
    assert feed(client_for("western")) == []
    assert feed(client_for("admin")) == []  # not escalated: the admins are not bothered yet
    with runtime.db.session_scope(write=False) as session:
        assert session.get_one(Alert, alert_id).sector_id is None


def test_a_report_in_a_limited_coordinators_sector_is_theirs_alone(client_for, sectors):
    assert post_report(client_for("obs1"), report_body(urgent=True, **IN_WEST)).status_code == 201
    assert len(feed(client_for("western"))) == 1
    assert feed(client_for("coord")) == []


def test_routine_reports_raise_none_and_a_repeated_submission_raises_one(
    client_for, runtime, sectors
):
    client = client_for("obs1")
    assert post_report(client, report_body(**IN_WEST)).status_code == 201
    assert count(runtime, Alert) == 0
    body = report_body(urgent=True, **IN_WEST)
    assert post_report(client, body).status_code == 201
    assert post_report(client, body).status_code == 200  # the phone's outbox sent it again
    assert count(runtime, Alert) == 1


def test_casualties_alert_even_when_the_observer_did_not_tick_urgent(client_for, runtime, sectors):
    body = report_body(
        category="civilian_harm", subcategory="injured", urgent=False, details={}, **IN_WEST
    )
    response = post_report(client_for("obs1"), body)
    assert response.status_code == 201, response.get_json()
    assert count(runtime, Alert) == 1


def test_the_alert_address_is_checked_and_can_be_emptied(client_for, runtime, users):
    client = client_for("coord")
    page = client.get("/alerts").get_data(as_text=True)
    token = csrf_from(page)
    bad = client.post(
        "/alerts/address",
        data={"csrf_token": token, "email": "not an address"},
        follow_redirects=True,
    )
    assert 'class="warning error"' in bad.get_data(as_text=True)
    assert count(runtime, AlertAddress) == 0
    client.post("/alerts/address", data={"csrf_token": token, "email": "carla@mission.example"})
    assert 'value="carla@mission.example"' in client.get("/alerts").get_data(as_text=True)
    client.post("/alerts/address", data={"csrf_token": token, "email": ""})
    assert count(runtime, AlertAddress) == 0


def test_nobody_outside_coordination_hears_of_alerts(runtime, users):
    with runtime.db.session_scope() as session:
        for user in (users.observer, users.commission):
            assert alerts_for(session, session.merge(user)) == []
        with pytest.raises(ValueError):
            set_address(session, session.merge(users.coordinator), "two words@x")
