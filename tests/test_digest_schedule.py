"""The nightly digest: when it is due, RQ's real scheduler firing it, the in-process catch-up."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from fieldreport.clock import PeriodicRunner
from fieldreport.config import PROJECT_ROOT
from fieldreport.db import utcnow
from fieldreport.digests import schedule, service, tasks
from fieldreport.runtime import activated, build_runtime
from tests.helpers import add_report, make_settings, wait_until

RECIPIENTS = ("commission@example.org",)


def test_nightly_run_is_at_the_digest_hour_in_the_commission_zone(tmp_path, sqlite_url):
    settings = make_settings(tmp_path, sqlite_url, digest_hour=6)

    assert schedule.nightly_run(settings, date(2026, 10, 23)) == datetime(
        2026, 10, 24, 4, 0, tzinfo=UTC
    )
    # The night the clocks go back: 06:00 is CET again on the 26th.
    assert schedule.nightly_run(settings, date(2026, 10, 25)) == datetime(
        2026, 10, 26, 5, 0, tzinfo=UTC
    )
    assert schedule.due_day(settings, datetime(2026, 11, 25, 4, 59, tzinfo=UTC)) == date(
        2026, 11, 23
    )
    assert schedule.due_day(settings, datetime(2026, 11, 25, 5, 0, tzinfo=UTC)) == date(
        2026, 11, 24
    )
    assert schedule.next_nightly(settings, datetime(2026, 11, 25, 5, 0, tzinfo=UTC)) == (
        date(2026, 11, 25),
        datetime(2026, 11, 26, 5, 0, tzinfo=UTC),
    )


def test_a_day_is_over_at_midnight_in_the_commission_zone(tmp_path, sqlite_url):
    settings = make_settings(tmp_path, sqlite_url)  # Europe/Rome: UTC+1 in November

    assert not schedule.is_over(
        settings, date(2026, 11, 24), datetime(2026, 11, 24, 22, 59, tzinfo=UTC)
    )
    assert schedule.is_over(settings, date(2026, 11, 24), datetime(2026, 11, 24, 23, 0, tzinfo=UTC))


@pytest.fixture
def rq_runtime(tmp_path, database_url, redis_url, smtp_sink):
    settings = make_settings(
        tmp_path,
        database_url,
        redis_url=redis_url,
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        digest_recipients=RECIPIENTS,
        secret_key="digest-schedule-test",
    )
    runtime = build_runtime(settings)
    yield runtime
    runtime.queue.shutdown()
    runtime.db.dispose()


@pytest.fixture
def rq_worker(rq_runtime, smtp_sink):
    """A real ``rq worker --with-scheduler`` process on the digests queue, with our settings."""
    settings = rq_runtime.settings
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "FIELDREPORT_DATA_DIR": str(settings.data_dir),
        "FIELDREPORT_TIME_ZONE": settings.time_zone,
        "SECRET_KEY": settings.secret_key,
        "FIELDREPORT_DIGEST_RECIPIENTS": ",".join(RECIPIENTS),
        "SMTP_HOST": smtp_sink.host,
        "SMTP_PORT": str(smtp_sink.port),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    log = open(Path(settings.data_dir) / "worker.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "rq"),
            "worker",
            "--with-scheduler",
            "--url",
            settings.redis_url,
            "digests",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def test_nightly_digest_fires_through_the_rq_scheduler(rq_runtime, rq_worker, users, smtp_sink):
    now = utcnow()
    day, _ = schedule.next_nightly(rq_runtime.settings, now)
    with rq_runtime.db.session_scope() as session:
        add_report(session, users.observer, now - timedelta(minutes=5))
    fire_at = now + timedelta(seconds=3)

    tasks.schedule_nightly(rq_runtime.queue, now, at=fire_at)

    def state():
        with rq_runtime.db.session_scope(write=False) as session:
            digest = service.get_digest(session, day)
            return digest and digest.state == "sent" and digest

    digest = wait_until(state, "the scheduled digest to be sent", timeout=90)
    (message,) = smtp_sink.wait_for(1)
    assert digest.generated_at >= fire_at
    assert message["Subject"].endswith(f"daily digest {day.isoformat()}")
    assert "digest:" + day.isoformat() == tasks.job_id(day)


def test_a_days_build_requested_twice_is_queued_once_under_the_days_job_id(rq_runtime):
    day = date(2026, 11, 24)

    assert tasks.request_build(rq_runtime.queue, day, send=True)
    assert tasks.request_build(rq_runtime.queue, day, send=True)

    queue = rq_runtime.queue.rq_queue(tasks.QUEUE)
    assert tasks.job_id(day) == "digest:2026-11-24"
    assert queue.job_ids == ["digest_2026-11-24"]


def test_build_and_wait_with_rq_waits_for_the_worker(rq_runtime, rq_worker, users):
    day = date(2026, 11, 24)

    outcome = tasks.build_and_wait(rq_runtime, day, timeout=90)

    assert outcome.startswith("digest 2026-11-24: ready")


def test_periodic_check_catches_up_a_missed_night_once(runtime, users, smtp_sink, tmp_path):
    runtime.settings = runtime.queue.settings = make_settings(
        tmp_path,
        runtime.settings.database_url,
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        digest_recipients=RECIPIENTS,
    )
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    # As the periodic runner calls it: inside the runtime's context.
    with activated(runtime):
        first = tasks.enqueue_due_digest(runtime.queue, now)
        runtime.queue.drain()
        tasks.enqueue_due_digest(runtime.queue, now + timedelta(minutes=1))
        runtime.queue.drain()

    assert first == date(2026, 11, 24)
    assert len(smtp_sink.wait_for(1)) == 1
    with runtime.db.session_scope(write=False) as session:
        assert service.get_digest(session, first).state == "sent"


def test_digest_task_plugs_into_the_periodic_runner(runtime, users):
    due = schedule.due_day(runtime.settings, utcnow())

    PeriodicRunner(runtime.queue, [tasks.DIGEST_TASK]).run_due()
    runtime.queue.drain()

    with runtime.db.session_scope(write=False) as session:
        assert service.get_digest(session, due).state == "ready"  # no recipients: not sent
