"""The production topology under faults, smaller than bench/topology.py but the same scenario:
PostgreSQL, our own Redis, gunicorn with three processes and two ``fieldreport worker``
processes; phones whose answers are lost 30 % of the time; Redis restarted (empty) a third of
the way in and a worker killed with SIGKILL at 60 %. Nothing may be lost, doubled or left
undone, and /metrics must add up the requests of every gunicorn process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench.topology import run
from tests.servers import ServerUnavailable

PHONES = 8
REPORTS = 60 * PHONES


@pytest.fixture
def empty_database(postgres_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database (``fieldreport init-db`` migrates it), dropped after."""
    name = f"topology_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    yield postgres_url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_no_report_is_lost_or_doubled_and_every_photo_is_processed_through_every_fault(
    empty_database: str,
):
    try:
        findings = run(PHONES, REPORTS, max_photo_bytes=170_000, database_url=empty_database)
    except ServerUnavailable as error:
        pytest.skip(f"the topology needs redis-server: {error.reason}")
    summary = f"{findings}\n{findings.post_mortem}"
    assert findings.phone_errors == [], summary
    assert (findings.sent, findings.stored) == (REPORTS, REPORTS), summary
    assert (findings.lost, findings.doubled) == (0, 0), summary
    assert (findings.photos_missing, findings.photos_doubled) == (0, 0), summary
    assert findings.photo_states == {"done": REPORTS}, summary
    for queue, counts in findings.jobs.items():
        assert counts == {"queued": 0, "started": 0, "failed": 0}, (queue, summary)
    # The faults did happen: answers were lost and sent again, Redis went away, a worker died.
    assert findings.lost_answers > REPORTS // 10, summary
    kinds = sorted(" ".join(fault.split()[:2]) for fault in findings.faults)
    assert kinds == ["redis started", "redis stopped", "worker killed"], summary
    # Every gunicorn process's requests reach /metrics (PROMETHEUS_MULTIPROC_DIR), each once.
    posted = sum(
        number for key, number in findings.server.items() if key.startswith("POST /api/v1/reports ")
    )
    assert posted == findings.server["log lines POST /api/v1/reports"] >= REPORTS
    assert findings.server["fieldreport_photos_pending"] == 0
