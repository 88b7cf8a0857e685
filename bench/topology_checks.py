"""What bench/topology.py checks once the phones are done: the database, the queues, /metrics.

It first waits (up to ``settle_s``) for the work to settle — every photo processed, no photo job
queued or running — then counts: reports lost or doubled, photos missing, doubled or not done,
jobs left queued, running or failed, and the phones' latencies.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry, StartedJobRegistry
from sqlalchemy import func, select

from bench.phones import Tally
from bench.topology_processes import METRICS_TOKEN, Processes
from fieldreport.jobs import QUEUE_NAMES
from fieldreport.photos.models import Photo
from fieldreport.reports.models import Report


@dataclass
class Findings:
    sent: int
    stored: int
    lost: int
    doubled: int
    photos_missing: int
    photos_doubled: int
    photo_states: dict[str, int]
    jobs: dict[str, dict[str, int]]
    phone_errors: list[str]
    lost_answers: int
    statuses: dict[int, int]
    latency_ms: dict[str, tuple[float, float, int]]  # kind -> (p50, p99, n)
    sending_s: float
    settling_s: float
    faults: list[str]
    restarts: list[str]
    server: dict[str, float] = field(default_factory=dict)
    # The workers' stacks and logs when the run failed.
    post_mortem: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        not_done = sum(n for state, n in self.photo_states.items() if state != "done")
        unfinished = sum(sum(counts.values()) for counts in self.jobs.values())
        wrong = (self.lost, self.doubled, self.photos_missing, self.photos_doubled, not_done)
        return not any(wrong) and not unfinished and not self.phone_errors


def check(
    processes: Processes,
    tally: Tally,
    expected: set[str],
    sending_s: float,
    settle_s: float,
    faults: list[str],
) -> Findings:
    began = time.perf_counter()
    _settle(processes, settle_s)
    settling_s = time.perf_counter() - began
    with processes.runtime.db.session_scope(write=False) as session:
        stored = list(session.scalars(select(Report.client_id)))
        per_report = dict(
            session.execute(select(Photo.report_id, func.count()).group_by(Photo.report_id)).all()
        )
        report_ids = list(session.scalars(select(Report.id)))
        states = dict(
            session.execute(select(Photo.state, func.count()).group_by(Photo.state)).all()
        )
    return Findings(
        sent=len(expected),
        stored=len(stored),
        lost=len(expected - set(stored)),
        doubled=len(stored) - len(set(stored)) + len(set(stored) - expected),
        photos_missing=sum(1 for rid in report_ids if per_report.get(rid, 0) == 0),
        photos_doubled=sum(max(0, n - 1) for n in per_report.values()),
        photo_states=states,
        jobs=_jobs(processes),
        phone_errors=tally.errors,
        lost_answers=tally.lost_answers,
        statuses=dict(sorted(tally.statuses.items())),
        latency_ms={kind: _percentiles(values) for kind, values in tally.latencies.items()},
        sending_s=sending_s,
        settling_s=settling_s,
        faults=faults,
        restarts=processes.restarts,
        server=_server_view(processes),
    )


def _settle(processes: Processes, settle_s: float) -> None:
    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline:
        with processes.runtime.db.session_scope(write=False) as session:
            waiting = session.scalar(select(func.count()).where(Photo.state != "done"))
        jobs = _jobs(processes)
        if not waiting and not any(sum(counts.values()) for counts in jobs.values()):
            return
        time.sleep(1)


def _jobs(processes: Processes) -> dict[str, dict[str, int]]:
    """Per queue: queued, started (running or abandoned) and failed jobs; the periodic sweep,
    which the workers enqueue every few seconds, is not work left over."""
    connection = Redis.from_url(processes.redis.url, socket_timeout=10)
    try:
        found = {}
        for name in QUEUE_NAMES:
            queue = Queue(name, connection=connection)
            queued = [job_id for job_id in queue.job_ids if job_id != "sweep"]
            started = [j for j in StartedJobRegistry(queue=queue).get_job_ids() if j != "sweep"]
            failed = FailedJobRegistry(queue=queue).count
            found[name] = {"queued": len(queued), "started": len(started), "failed": failed}
        return found
    finally:
        connection.close()


def _percentiles(values: list[float]) -> tuple[float, float, int]:
    if not values:
        return (0.0, 0.0, 0)
    ordered = sorted(values)
    at = lambda share: ordered[min(len(ordered) - 1, int(share * len(ordered)))]  # noqa: E731
    return (at(0.50) * 1000, at(0.99) * 1000, len(ordered))


def _server_view(processes: Processes) -> dict[str, float]:
    """What the web app itself says: /metrics (all gunicorn workers added up) and its log."""
    request = urllib.request.Request(  # noqa: S310 - our own server
        f"{processes.web_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        text = answer.read().decode()
    view: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels: dict[str, Any] = sample.labels
            if sample.name == "fieldreport_http_request_duration_seconds_count":
                if labels["method"] == "POST" and labels["route"].startswith("/api/v1/reports"):
                    view[f"POST {labels['route']} {labels['status']}"] += sample.value
            elif sample.name in ("fieldreport_photos_pending", "fieldreport_queue_up"):
                view[sample.name] += sample.value
            elif sample.name == "fieldreport_queue_depth":
                view[f"queue_depth {labels['queue']}"] += sample.value
    lines = (processes.directory / "web.log").read_text(errors="replace").splitlines()
    posts = [json.loads(line) for line in lines if line.startswith('{"ts"')]
    view["log lines POST /api/v1/reports"] = sum(
        1 for line in posts if line["method"] == "POST" and line["route"] == "/api/v1/reports"
    )
    return dict(view)


def print_findings(findings: Findings) -> None:
    print(f"reports sent {findings.sent}, stored {findings.stored}")
    print(f"lost {findings.lost}, doubled {findings.doubled}")
    print(
        f"photos: missing {findings.photos_missing}, doubled {findings.photos_doubled}, "
        f"states {findings.photo_states}"
    )
    print(f"jobs left (per queue): {findings.jobs}")
    print(f"answers lost on the way (phone sent again): {findings.lost_answers}")
    print(f"answer statuses: {findings.statuses}")
    for kind, (p50, p99, count) in findings.latency_ms.items():
        print(f"latency {kind:>6}: p50 {p50:7.1f} ms, p99 {p99:7.1f} ms ({count} answers)")
    print(f"sending {findings.sending_s:.1f} s, settling afterwards {findings.settling_s:.1f} s")
    print("faults: " + "; ".join(findings.faults))
    print("supervisor: " + ("; ".join(findings.restarts) or "no worker quit by itself"))
    for key, number in sorted(findings.server.items()):
        print(f"server: {key} = {number:g}")
    for error in findings.phone_errors[:10]:
        print(f"PHONE ERROR {error}")
    if findings.post_mortem:
        print(findings.post_mortem)
    print("OK" if findings.ok else "FAILED")
