"""The production topology under load and faults: PostgreSQL, Redis, gunicorn, two workers.

    python bench/topology.py [--phones 50] [--reports 1000] [--drop 0.3]

Starts its own PostgreSQL (initdb on a free port) and redis-server (tests/servers.py), runs
``fieldreport init-db``, serves the app with ``gunicorn -w 3`` and starts two ``fieldreport
worker`` processes, all sharing one data directory and one PROMETHEUS_MULTIPROC_DIR. Simulated
phones (threads, bench/phones.py) send reports with corpus photos through a proxy that loses
``--drop`` of the submissions' answers after the server has done its work
(bench/dropping_proxy.py), so the phones send again with the same ``client_id``. A third of the
way in Redis is stopped and started again (empty: nothing persisted), and at 60 % one worker is
killed with SIGKILL (with its work horse). Then it waits for the work to settle and checks that
no report is lost or doubled, every photo is processed and every job is done, and prints the
latencies the phones saw and what /metrics says. tests/test_topology.py runs a smaller one.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.phones import Phone, Tally, corpus_photos, outbox
from bench.topology_checks import Findings, check, print_findings
from bench.topology_processes import Processes
from tests.helpers import CORPUS, PASSWORD


def run(
    phones: int,
    reports: int,
    *,
    drop: float = 0.3,
    gunicorn_workers: int = 3,
    max_photo_bytes: int = 400_000,
    settle_s: float = 300.0,
    database_url: str | None = None,
) -> Findings:
    """Run the whole scenario and return what was found (bench and test alike)."""
    photos = corpus_photos(CORPUS / "photos", max_photo_bytes)
    per_phone = [reports // phones + (n < reports % phones) for n in range(phones)]
    with (
        tempfile.TemporaryDirectory(prefix="fieldreport-topology-") as directory,
        Processes(Path(directory), database_url, gunicorn_workers, drop) as processes,
    ):
        users = processes.add_observers(phones, PASSWORD)
        tally = Tally()
        faults = Faults(processes, tally, total=reports)
        outboxes = [outbox(number, per_phone[number], photos) for number in range(phones)]
        expected = {body["client_id"] for entries in outboxes for body, _ in entries}
        threads = [
            threading.Thread(
                target=Phone(processes.proxy.url, user, PASSWORD, tally).run,
                args=(outboxes[number], faults.tick),
            )
            for number, user in enumerate(users)
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sending_s = time.perf_counter() - began
        findings = check(processes, tally, expected, sending_s, settle_s, faults.log)
        if not findings.ok:  # keep the programs' logs for the post-mortem
            findings.post_mortem = processes.post_mortem()
            kept = Path(tempfile.mkdtemp(prefix="fieldreport-topology-logs-"))
            for log in Path(directory).glob("*.log"):
                shutil.copy(log, kept / log.name)
            findings.faults.append(f"logs kept in {kept}")
        return findings


class Faults:
    """Restarts Redis once a third of the reports are in, kills a worker at 60 %."""

    def __init__(self, processes: Processes, tally: Tally, total: int) -> None:
        self.processes, self.tally, self.total = processes, tally, total
        self.log: list[str] = []
        self.lock = threading.Lock()
        self.done = 0

    def tick(self) -> None:
        with self.lock:
            self.done += 1
            done = self.done
        if done == max(1, self.total // 3):
            threading.Thread(target=self._restart_redis, daemon=True).start()
        if done == max(2, self.total * 6 // 10):
            self.log.append(f"worker killed (SIGKILL) after {done} reports")
            self.processes.kill_worker(0)

    def _restart_redis(self) -> None:
        self.log.append(f"redis stopped after {self.done} reports")
        self.processes.redis.stop()
        time.sleep(2)
        self.processes.redis.start()
        self.log.append(f"redis started again (empty) after {self.done} reports")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--drop", type=float, default=0.3, help="share of answers lost")
    parser.add_argument("--settle", type=float, default=300.0, help="seconds to wait for jobs")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: our own)")
    args = parser.parse_args()
    findings = run(
        args.phones, args.reports, drop=args.drop, settle_s=args.settle, database_url=args.database
    )
    print_findings(findings)
    if not findings.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
