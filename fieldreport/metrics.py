"""Prometheus metrics: what the app counts, and the text a scrape gets (no Flask, no domain).

Counters and histograms are defined once, here, and observed where the work happens: request
latency by the web edge (``fieldreport.web.metrics``), in-process job failures by
``fieldreport.jobs``, digest build time by ``fieldreport.digests.pipeline``. Values that are a
state of the system (queue depth, failed jobs on RQ, photos pending) are not kept by any process:
a :class:`LiveCollector` reads them when Prometheus scrapes, so every process answers the same.

Several processes (gunicorn's workers, RQ workers and their work horses): prometheus_client
keeps each process's values in files under ``PROMETHEUS_MULTIPROC_DIR`` when that variable is
set before the first import (it reads it itself), and :func:`exposition` adds them up. The
directory must be empty when the first process starts (README, "Metrics").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# Request latencies: most answers take milliseconds, uploads and exports seconds.
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
DIGEST_BUCKETS_S = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

REQUEST_SECONDS = Histogram(
    "fieldreport_http_request_duration_seconds",
    "Time from the request's arrival at the app to its answer, by route and status class.",
    ("route", "method", "status"),
    buckets=LATENCY_BUCKETS_S,
)
JOB_FAILURES = Counter(
    "fieldreport_jobs_failed",
    "In-process jobs that raised, by queue (RQ's failures: fieldreport_queue_failed_jobs).",
    ("queue",),
)
DIGEST_BUILD_SECONDS = Histogram(
    "fieldreport_digest_build_duration_seconds",
    "Time to build one day's digest (figures, pictures, PDF, stored files).",
    buckets=DIGEST_BUCKETS_S,
)

# name -> (number per queue); None when the queue could not be asked (Redis down).
QueueCounts = Mapping[str, Mapping[str, int]] | None


def status_class(status: int) -> str:
    """``2xx``, ``4xx`` …: a label with few values, so a scanner's 404s cost no new series."""
    return f"{status // 100}xx"


class LiveCollector(Collector):
    """Gauges read at scrape time from callbacks: queue depths and failures, photos pending.

    ``queue_counts`` returns ``{"queued": {queue: n}, "failed": {queue: n}}`` or None when the
    queue is unreachable; ``photos_pending`` counts photos waiting for their derivatives.
    """

    def __init__(
        self, queue_counts: Callable[[], QueueCounts], photos_pending: Callable[[], int]
    ) -> None:
        self.queue_counts = queue_counts
        self.photos_pending = photos_pending

    def collect(self) -> Iterator[Metric]:
        counts = self.queue_counts()
        up = GaugeMetricFamily("fieldreport_queue_up", "1 when the job queue answered the scrape.")
        up.add_metric([], 0 if counts is None else 1)
        yield up
        depth = GaugeMetricFamily(
            "fieldreport_queue_depth",
            "Jobs waiting (or running, in-process) by queue.",
            labels=["queue"],
        )
        failed = GaugeMetricFamily(
            "fieldreport_queue_failed_jobs",
            "Jobs RQ gave up on (its failed registry, kept 7 days), by queue.",
            labels=["queue"],
        )
        for queue, number in (counts or {}).get("queued", {}).items():
            depth.add_metric([queue], number)
        for queue, number in (counts or {}).get("failed", {}).items():
            failed.add_metric([queue], number)
        yield depth
        yield failed
        pending = GaugeMetricFamily(
            "fieldreport_photos_pending", "Photos whose derivatives are not made yet."
        )
        pending.add_metric([], self.photos_pending())
        yield pending


def exposition(live: Collector, multiprocess_dir: Path | None) -> tuple[bytes, str]:
    """The scrape's body and content type: this process's metrics (or every process's, from
    ``multiprocess_dir``) and the live gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir is not None:
        multiprocess.MultiProcessCollector(registry, path=str(multiprocess_dir))
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(live)
    return body + generate_latest(registry), CONTENT_TYPE_LATEST
