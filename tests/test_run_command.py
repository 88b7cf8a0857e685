"""``fieldreport run``: the one-command start serves with a production WSGI server (waitress),
not Flask's development server, with jobs in-process and no Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.servers import free_port

START_TIMEOUT_S = 60


def _wait_for_health(url: str, process: subprocess.Popen[str]) -> Any:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            return urllib.request.urlopen(url, timeout=2)  # noqa: S310 (our own loopback server)
        except OSError:
            assert time.monotonic() < deadline, f"fieldreport run did not answer {url}"
            time.sleep(0.2)


def test_run_serves_with_waitress_and_runs_jobs_in_process(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "FIELDREPORT_DATA_DIR": str(tmp_path / "data")}
    for name in ("DATABASE_URL", "REDIS_URL", "FIELDREPORT_TESTING"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "fieldreport.cli", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with _wait_for_health(f"http://127.0.0.1:{port}/healthz", process) as answer:
            body = answer.read().decode()
            server = answer.headers["Server"]
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert server == "fieldreport"  # waitress, named; Flask's server says "Werkzeug/…"
    assert '"queue":"in-process"' in body.replace(" ", "")
    assert "Empty database: created the demo mission." in output
