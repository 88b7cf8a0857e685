"""Metrics and the request log: what a scrape of /metrics shows, who may scrape, one JSON line
per request, several processes added up (fieldreport/metrics.py, fieldreport/web/metrics.py)."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fieldreport import metrics
from fieldreport.digests import pipeline
from fieldreport.jobs import JobQueue
from fieldreport.logs import REQUEST_LOGGER, enable_request_log
from fieldreport.runtime import build_runtime
from fieldreport.web.app import build_app
from tests.helpers import add_photo_row, file_report, make_settings, report_body
from tests.servers import free_port

TOKEN = "scrape-token-for-tests"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape: (name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(client: Any, token: str | None = TOKEN) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.status_code
    return answer.get_data(as_text=True)


@pytest.fixture
def app(runtime: Any) -> Any:
    settings = dataclasses.replace(runtime.settings, metrics_token=TOKEN)
    runtime.settings = settings
    runtime.queue.settings = settings
    return build_app(settings, runtime)


def test_a_request_is_timed_under_its_url_rule_and_status_class(app, users, client_for, runtime):
    with runtime.db.session_scope() as session:
        report = file_report(session, users.observer, 43.47, 11.88)
        client_id = report.client_id
    client = client_for("admin")
    before = scrape(client)
    assert client.get(f"/api/v1/reports/{client_id}").status_code == 200
    client.get("/no/such/page/at/all")
    after = scrape(client)
    rule = {"route": "/api/v1/reports/<client_id>", "method": "GET", "status": "2xx"}
    count = "fieldreport_http_request_duration_seconds_count"
    assert value(after, count, **rule) == value(before, count, **rule) + 1
    unmatched = {"route": "<unmatched>", "method": "GET", "status": "4xx"}
    assert value(after, count, **unmatched) >= 1
    assert client_id not in after and "/no/such/page" not in after


def test_metrics_answer_the_token_or_an_admin_and_no_one_else(app, users, client_for):
    anonymous = app.test_client()
    refused = anonymous.get("/metrics")
    assert refused.status_code == 401 and "Bearer" in refused.headers["WWW-Authenticate"]
    wrong = anonymous.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert client_for("obs1").get("/metrics").status_code == 403
    assert client_for("coord").get("/metrics").status_code == 403
    assert "fieldreport_queue_up" in scrape(anonymous)
    assert "fieldreport_queue_up" in scrape(client_for("admin"), token=None)


def test_without_a_token_setting_no_bearer_opens_the_metrics(runtime, users):
    client = build_app(runtime.settings, runtime).test_client()
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer None"}).status_code == 401


def test_photos_pending_are_counted_when_scraped(app, users, runtime):
    client = app.test_client()
    assert value(scrape(client), "fieldreport_photos_pending") == 0
    with runtime.db.session_scope() as session:
        report_id = file_report(session, users.observer, 43.47, 11.88).id
    add_photo_row(runtime, report_id, b"not yet processed")
    assert value(scrape(client), "fieldreport_photos_pending") == 1


def failing_job() -> None:
    raise RuntimeError("a job that fails, on purpose")


def test_an_in_process_job_that_raises_is_counted_under_its_queue(app, runtime):
    client = app.test_client()
    before = value(scrape(client), "fieldreport_jobs_failed_total", queue="digests")
    runtime.queue.enqueue(failing_job, job_id="fails", queue="digests")
    runtime.queue.drain()
    after = scrape(client)
    assert value(after, "fieldreport_jobs_failed_total", queue="digests") == before + 1
    assert value(after, "fieldreport_queue_depth", queue="digests") == 0
    assert value(after, "fieldreport_queue_up") == 1


def test_rq_queue_depth_and_failures_come_from_redis(tmp_path, sqlite_url, redis_url):
    queue = JobQueue(make_settings(tmp_path, sqlite_url, redis_url=redis_url), activate=None)
    assert queue.enqueue(failing_job, job_id="waits", queue="photos")
    counts = queue.counts()
    assert counts is not None
    assert counts["queued"] == {"photos": 1, "digests": 0, "default": 0}
    assert counts["failed"] == {"photos": 0, "digests": 0, "default": 0}
    queue.shutdown()


def test_a_queue_that_does_not_answer_reads_as_down_not_as_an_error(tmp_path, sqlite_url):
    down = f"redis://127.0.0.1:{free_port()}/0"
    runtime = build_runtime(make_settings(tmp_path, sqlite_url, redis_url=down))
    text, _ = metrics.exposition(
        metrics.LiveCollector(runtime.queue.counts, lambda: 0), multiprocess_dir=None
    )
    assert value(text.decode(), "fieldreport_queue_up") == 0
    runtime.db.dispose()


def test_a_digest_build_is_timed(runtime, users):
    before = metrics.DIGEST_BUILD_SECONDS.collect()[0]
    count = {s.name: s.value for s in before.samples}[
        "fieldreport_digest_build_duration_seconds_count"
    ]
    pipeline.build(runtime, date(2026, 11, 20))
    after = {s.name: s.value for s in metrics.DIGEST_BUILD_SECONDS.collect()[0].samples}
    assert after["fieldreport_digest_build_duration_seconds_count"] == count + 1


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_each_request_is_one_json_log_line_with_route_status_time_user_and_id(
    app, users, client_for
):
    client = client_for("obs1")
    handler = Lines()
    logging.getLogger(REQUEST_LOGGER).addHandler(handler)
    enable_request_log(True)  # off in tests (FIELDREPORT_TESTING), on in production
    try:
        answer = client.post(
            "/api/v1/reports",
            json=report_body(),
            headers={"X-CSRFToken": client.get("/api/v1/csrf").get_json()["csrf_token"]},
        )
        given = client.get("/api/v1/csrf", headers={"X-Request-ID": "from-the-proxy-42"})
        forged = client.get("/api/v1/csrf", headers={"X-Request-ID": "bad id <script>"})
    finally:
        enable_request_log(False)
        logging.getLogger(REQUEST_LOGGER).removeHandler(handler)
    lines = [json.loads(line) for line in handler.lines]
    posted = [line for line in lines if line["method"] == "POST"]
    assert len(posted) == 1 and answer.status_code == 201
    (line,) = posted
    assert line["route"] == "/api/v1/reports" and line["status"] == 201
    assert line["user_id"] == users.observer.id and line["ms"] > 0
    assert line["request_id"] == answer.headers["X-Request-ID"]
    assert given.headers["X-Request-ID"] == "from-the-proxy-42" == lines[-2]["request_id"]
    assert forged.headers["X-Request-ID"] != "bad id <script>"
    assert len(forged.headers["X-Request-ID"]) == 32


OTHER_PROCESS = """
from fieldreport import metrics
metrics.REQUEST_SECONDS.labels("/elsewhere", "GET", "2xx").observe(0.02)
metrics.JOB_FAILURES.labels("photos").inc(3)
"""


def test_values_of_other_processes_are_added_up_from_the_multiprocess_directory(tmp_path: Path):
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    for _ in range(2):  # two processes, as two gunicorn workers
        subprocess.run([sys.executable, "-c", OTHER_PROCESS], env=env, check=True, timeout=60)
    live = metrics.LiveCollector(lambda: None, lambda: 0)
    text = metrics.exposition(live, multiprocess_dir=directory)[0].decode()
    route = {"route": "/elsewhere", "method": "GET", "status": "2xx"}
    assert value(text, "fieldreport_http_request_duration_seconds_count", **route) == 2
    assert value(text, "fieldreport_jobs_failed_total", queue="photos") == 6
