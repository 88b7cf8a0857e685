"""Spot-report alerts through a real RQ worker, a real Redis and a real SMTP server: raised when
an urgent report arrives, mailed once to the coordinators responsible for its sector, taken by
one of them (the others see who), escalated to the admins when nobody takes it, and never lost
when Redis restarts between the report and the mail."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from fieldreport.accounts.models import User
from fieldreport.alerts import tasks
from fieldreport.alerts.models import Alert
from fieldreport.alerts.service import set_address
from fieldreport.config import Settings
from fieldreport.runtime import activated
from fieldreport.sectors.limits import set_coordinator_sectors
from fieldreport.sectors.models import Sector
from fieldreport.sectors.service import import_sector_collection
from tests.helpers import (
    EAST,
    collection,
    make_settings,
    make_user,
    post_report,
    report_body,
    wait_until,
)
from tests.test_worker_rq import running_worker, worker_env

EAST_POINT = {"latitude": 43.47, "longitude": 11.94}


@pytest.fixture
def settings(tmp_path: Path, database_url: str, own_redis_url: str, smtp_sink: Any) -> Settings:
    """RQ mode on a Redis of the test's own (tests here restart it), mail to the test's SMTP."""
    return make_settings(
        tmp_path,
        database_url,
        redis_url=own_redis_url,
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        job_timeout_s=8,
        job_heartbeat_s=1,
    )


def mail_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {"SMTP_HOST": str(settings.smtp_host), "SMTP_PORT": str(settings.smtp_port), **extra}


@pytest.fixture
def east(runtime: Any, users: Any) -> dict[str, Any]:
    """Sector E with two coordinators limited to it; every coordinator and admin has an address."""
    with runtime.db.session_scope() as session:
        import_sector_collection(session, collection(EAST))
        sector = session.scalar(select(Sector).where(Sector.code == "E"))
        for name in ("east1", "east2"):
            user = make_user(session, name, "coordinator", display_name=f"Coordinator {name}")
            set_coordinator_sectors(session, user.id, [sector.id], actor=None)
        for user in session.scalars(select(User).where(User.role.in_(("coordinator", "admin")))):
            set_address(session, user, f"{user.username}@mission.example")
        return {"sector_id": sector.id}


def urgent_report(client: Any, **overrides: Any) -> dict[str, Any]:
    body = report_body(urgent=True, narrative="Patrol stopped at gunpoint.", **EAST_POINT)
    body.update(overrides)
    response = post_report(client, body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def alert_of(runtime: Any, report_id: int) -> Alert:
    with runtime.db.session_scope(write=False) as session:
        alert = session.scalar(select(Alert).where(Alert.report_id == report_id))
        assert alert is not None, "no alert row for the urgent report"
        session.expunge(alert)
        return alert


def rcpts(sink: Any) -> list[list[str]]:
    return [sorted(envelope.rcpt_tos) for envelope in sink.envelopes]


def test_urgent_report_is_mailed_to_its_sectors_coordinators_by_a_real_worker_and_taken_by_one(
    runtime, client_for, east, smtp_sink
):
    report = urgent_report(client_for("obs1"))
    started = time.monotonic()
    with running_worker(runtime.settings, **mail_env(runtime.settings)):
        (message,) = smtp_sink.wait_for(1, timeout=60)
        # The job records the send once the server has taken the mail: a moment after it arrives.
        alert = wait_until(
            lambda: (found := alert_of(runtime, report["id"])).mailed_at and found, "mailed_at"
        )
    assert time.monotonic() - started < 60
    assert rcpts(smtp_sink) == [["east1@mission.example", "east2@mission.example"]]
    assert "Urgent report" in message["Subject"] and "E" in message["Subject"]
    assert "Patrol stopped at gunpoint." in message.get_content()
    assert (alert.mailed_to, alert.mailed_at is not None) == (2, True)
    # No public address set: no link that cannot open, but where to go in words.
    words = " ".join(message.get_content().split())
    assert "/reports/" not in words and "/alerts" not in words
    assert "open “Alerts” in the menu at the top: this alert is listed there as" in words
    assert "“I take it” acknowledges it." in words

    first, second, unlimited = client_for("east1"), client_for("east2"), client_for("coord")
    feed = first.get("/alerts/open.json").get_json()
    assert [a["id"] for a in feed["alerts"]] == [alert.id]
    assert second.get("/alerts/open.json").get_json()["alerts"][0]["id"] == alert.id
    assert unlimited.get("/alerts/open.json").get_json()["alerts"] == []

    taken = second.post(
        f"/alerts/{alert.id}/acknowledge",
        headers={"X-CSRFToken": token(second), "Accept": "application/json"},
    )
    assert taken.status_code == 200 and taken.get_json()["acknowledged_by"] == "Coordinator east2"
    again = first.post(
        f"/alerts/{alert.id}/acknowledge",
        headers={"X-CSRFToken": token(first), "Accept": "application/json"},
    )
    assert again.get_json()["acknowledged_by"] == "Coordinator east2"  # the first one keeps it
    feed = first.get("/alerts/open.json").get_json()
    assert feed["alerts"] == [] and feed["taken"][0]["acknowledged_by"] == "Coordinator east2"
    assert "Taken by Coordinator east2" in first.get("/alerts").get_data(as_text=True)


def test_alert_mail_links_to_the_report_at_the_public_address(runtime, client_for, east, smtp_sink):
    report = urgent_report(client_for("obs1"))
    public = "https://fieldreport.example.org/mission/"  # the trailing slash is dropped
    with running_worker(
        runtime.settings, **mail_env(runtime.settings, FIELDREPORT_PUBLIC_URL=public)
    ):
        (message,) = smtp_sink.wait_for(1, timeout=60)
    lines = message.get_content().splitlines()
    report_link = f"https://fieldreport.example.org/mission/reports/{report['id']}"
    assert f"Open the report: {report_link}" in lines
    assert (
        "Acknowledge it on the alerts page: https://fieldreport.example.org/mission/alerts" in lines
    )
    # Behind the prefix, the paths are the app's: each opens for the coordinator mailed.
    coordinator = client_for("east1")
    for link in (report_link, "https://fieldreport.example.org/mission/alerts"):
        path = link.removeprefix("https://fieldreport.example.org/mission")
        assert coordinator.get(path).status_code == 200, path


def token(client: Any) -> str:
    return client.get("/api/v1/csrf").get_json()["csrf_token"]


def test_unacknowledged_alert_escalates_to_the_admins_once(runtime, client_for, east, smtp_sink):
    report = urgent_report(client_for("obs1"))
    env = mail_env(runtime.settings, FIELDREPORT_ALERT_ESCALATE_MINUTES="0")
    run_burst_worker_env(runtime.settings, env)  # the periodic sweep escalates at start
    messages = smtp_sink.wait_for(2, timeout=30)
    run_burst_worker_env(runtime.settings, env)  # a second sweep escalates nothing again
    assert len(smtp_sink.messages) == 2
    assert sorted(rcpts(smtp_sink)) == [
        ["admin@mission.example"],
        ["east1@mission.example", "east2@mission.example"],
    ]
    assert any(m["Subject"].count("Not acknowledged") for m in messages)
    alert = alert_of(runtime, report["id"])
    assert alert.escalated_at is not None and alert.escalation_mailed_at is not None
    admin_feed = client_for("admin").get("/alerts/open.json").get_json()
    assert [(a["id"], a["escalated"]) for a in admin_feed["alerts"]] == [(alert.id, True)]


def test_acknowledged_alert_never_escalates(runtime, client_for, east, smtp_sink):
    report = urgent_report(client_for("obs1"))
    alert = alert_of(runtime, report["id"])
    taker = client_for("east1")
    assert (
        taker.post(f"/alerts/{alert.id}/acknowledge", data={"csrf_token": token(taker)}).status_code
        == 302
    )
    run_burst_worker_env(
        runtime.settings, mail_env(runtime.settings, FIELDREPORT_ALERT_ESCALATE_MINUTES="0")
    )
    assert rcpts(smtp_sink) == [["east1@mission.example", "east2@mission.example"]]
    assert alert_of(runtime, report["id"]).escalated_at is None
    assert client_for("admin").get("/alerts/open.json").get_json()["alerts"] == []


def run_burst_worker_env(settings: Settings, env: dict[str, str]) -> None:
    import subprocess
    import sys

    from fieldreport.config import PROJECT_ROOT

    done = subprocess.run(
        [sys.executable, "-m", "worker", "--burst"],
        cwd=PROJECT_ROOT,
        env=worker_env(settings, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_a_retried_alert_job_mails_once_and_a_refused_mail_is_retried(
    runtime, client_for, east, smtp_sink, tmp_path
):
    report = urgent_report(client_for("obs1"))
    alert_id = alert_of(runtime, report["id"]).id
    refusing = make_settings(
        tmp_path / "down", runtime.settings.database_url, smtp_host="127.0.0.1", smtp_port=9
    )
    down = type(runtime)(refusing, runtime.db, runtime.storage, runtime.queue)
    with activated(down), pytest.raises(OSError):
        tasks.send_alert(alert_id)
    refused = alert_of(runtime, report["id"])
    assert (refused.mailed_at, refused.mail_claimed_at) == (None, None) and refused.mail_error
    with activated(runtime):
        assert tasks.send_alert(alert_id) == "sent"
        assert tasks.send_alert(alert_id) == "already sent"
    run_burst_worker_env(runtime.settings, mail_env(runtime.settings))  # RQ runs it once more
    assert tasks.enqueue_alert(runtime.queue, alert_id)
    run_burst_worker_env(runtime.settings, mail_env(runtime.settings))
    assert len(smtp_sink.messages) == 1
    assert alert_of(runtime, report["id"]).mail_error is None


def test_alert_accepted_while_redis_restarts_is_mailed_by_the_sweep(
    runtime, client_for, east, smtp_sink, redis_server
):
    redis_server.stop()
    report = urgent_report(client_for("obs1"))  # accepted: the commit never waits for Redis
    assert alert_of(runtime, report["id"]).mailed_at is None
    redis_server.start()  # empty: the job enqueued after the commit is gone
    assert Queue(tasks.QUEUE, connection=Redis.from_url(redis_server.url)).count == 0
    run_burst_worker_env(runtime.settings, mail_env(runtime.settings))  # its sweep finds it
    assert rcpts(smtp_sink) == [["east1@mission.example", "east2@mission.example"]]
    assert alert_of(runtime, report["id"]).mailed_at is not None
