"""A report that becomes urgent later (its observer amends it) alerts as a new urgent report
does: one alert row written with the amendment, mailed by the same job once the amendment
commits, to the coordinators of the report's sector; never a second alert for the same report.
In-process jobs, a real SMTP server, both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from fieldreport.accounts.models import User
from fieldreport.alerts.models import Alert
from fieldreport.alerts.service import set_address
from fieldreport.db import utcnow
from fieldreport.reports.models import Report
from fieldreport.reports.schemas import validate_report
from fieldreport.reports.service import amend_report
from fieldreport.sectors.limits import set_coordinator_sectors
from fieldreport.sectors.models import Sector
from fieldreport.sectors.service import import_sector_collection
from tests.helpers import (
    EAST,
    WEST,
    collection,
    count,
    make_settings,
    make_user,
    post_report,
    report_body,
)

IN_WEST = {"latitude": 43.47, "longitude": 11.85}
IN_EAST = {"latitude": 43.47, "longitude": 11.94}


@pytest.fixture
def settings(tmp_path, database_url, smtp_sink):
    return make_settings(tmp_path, database_url, smtp_host=smtp_sink.host, smtp_port=smtp_sink.port)


@pytest.fixture
def sectors(runtime: Any, users: Any) -> None:
    """Sectors W and E, a coordinator limited to each; every coordinator has an address."""
    with runtime.db.session_scope() as session:
        import_sector_collection(session, collection(WEST, EAST))
        for code in ("W", "E"):
            sector_id = session.scalar(select(Sector.id).where(Sector.code == code))
            user = make_user(session, f"coord_{code.lower()}", "coordinator")
            session.flush()
            set_coordinator_sectors(session, user.id, [sector_id], None)
        for user in session.scalars(select(User).where(User.role == "coordinator")):
            set_address(session, user, f"{user.username}@mission.example")


def file_routine(client: Any, **fields: Any) -> dict[str, Any]:
    """File a report through the API; the body, to amend it from."""
    body = report_body(**{**IN_WEST, **fields})
    response = post_report(client, body)
    assert response.status_code == 201, response.get_json()
    return {**body, "id": response.get_json()["id"]}


def amend(runtime: Any, filed: dict[str, Any], **changes: Any) -> None:
    """The observer's amendment of ``filed``, committed as a request commits it."""
    body = {key: value for key, value in {**filed, **changes}.items() if key != "id"}
    data = validate_report(body, now=utcnow(), parties=runtime.settings.parties)
    with runtime.db.session_scope() as session:
        report = session.get_one(Report, filed["id"])
        observer = session.get_one(User, report.observer_id)
        amend_report(session, report, observer, data, queue=runtime.queue)


def alerts_of(runtime: Any, report_id: int) -> list[tuple[int, str | None]]:
    """(alert id, sector code) of each alert of the report."""
    with runtime.db.session_scope(write=False) as session:
        rows = session.execute(
            select(Alert.id, Sector.code)
            .outerjoin(Sector, Sector.id == Alert.sector_id)
            .where(Alert.report_id == report_id)
        )
        return [tuple(row) for row in rows]


def mailed_to(sink: Any) -> list[list[str]]:
    return [sorted(envelope.rcpt_tos) for envelope in sink.envelopes]


def test_an_amendment_making_a_report_urgent_alerts_once_and_a_second_amendment_not_again(
    runtime, client_for, sectors, smtp_sink
):
    filed = file_routine(client_for("obs1"))
    runtime.queue.drain()
    assert alerts_of(runtime, filed["id"]) == [] and smtp_sink.messages == []

    amend(runtime, filed, urgent=True, narrative="Patrol stopped at gunpoint.")
    runtime.queue.drain()
    ((alert_id, code),) = alerts_of(runtime, filed["id"])
    assert code == "W"
    (message,) = smtp_sink.wait_for(1)
    assert mailed_to(smtp_sink) == [["coord_w@mission.example"]]  # the sector's coordinator
    assert "Patrol stopped at gunpoint." in message.get_content()

    amend(runtime, filed, urgent=True, narrative="Patrol stopped at gunpoint; released at 14:10.")
    amend(runtime, filed, urgent=True, narrative="Patrol stopped at gunpoint; released at 14:10.")
    runtime.queue.drain()
    assert alerts_of(runtime, filed["id"]) == [(alert_id, "W")]
    assert len(smtp_sink.messages) == 1
    with runtime.db.session_scope(write=False) as session:
        assert session.get_one(Report, filed["id"]).version == 3  # the repeat added nothing


def test_a_routine_amendment_raises_no_alert(runtime, client_for, sectors, smtp_sink):
    filed = file_routine(client_for("obs1"))
    amend(runtime, filed, narrative="Bursts of fire from the ridge, then silence.")
    runtime.queue.drain()
    assert count(runtime, Alert) == 0 and smtp_sink.messages == []


def test_an_amendment_to_casualties_alerts_without_the_urgent_tick_in_its_new_sector(
    runtime, client_for, sectors, smtp_sink
):
    filed = file_routine(client_for("obs1"))
    amend(
        runtime,
        filed,
        category="civilian_harm",
        subcategory="injured",
        details={},
        urgent=False,
        **IN_EAST,
    )
    runtime.queue.drain()
    assert [code for _, code in alerts_of(runtime, filed["id"])] == ["E"]
    smtp_sink.wait_for(1)
    assert mailed_to(smtp_sink) == [["coord_e@mission.example"]]


def test_a_report_already_alerted_is_not_alerted_again_when_it_turns_urgent_once_more(
    runtime, client_for, sectors, smtp_sink
):
    filed = file_routine(client_for("obs1"), urgent=True)
    runtime.queue.drain()
    (first,) = alerts_of(runtime, filed["id"])
    amend(runtime, filed, urgent=False)
    amend(runtime, filed, urgent=True, narrative="Fire again from the ridge.")
    runtime.queue.drain()
    assert alerts_of(runtime, filed["id"]) == [first]
    assert len(smtp_sink.wait_for(1)) == 1


def test_an_amendment_rolled_back_leaves_no_alert_and_mails_nothing(
    runtime, client_for, sectors, smtp_sink
):
    filed = file_routine(client_for("obs1"))
    body = {key: value for key, value in filed.items() if key != "id"}
    data = validate_report({**body, "urgent": True}, now=utcnow(), parties=runtime.settings.parties)
    with pytest.raises(RuntimeError), runtime.db.session_scope() as session:
        report = session.get_one(Report, filed["id"])
        observer = session.get_one(User, report.observer_id)
        amend_report(session, report, observer, data, queue=runtime.queue)
        assert session.scalar(select(Alert.id).where(Alert.report_id == report.id))
        raise RuntimeError("the request failed after the amendment")
    runtime.queue.drain()
    assert count(runtime, Alert) == 0 and smtp_sink.messages == []
