"""The processes of the production topology, started and stopped for bench/topology.py.

PostgreSQL and Redis come from tests/servers.py (the suite's own throwaway servers); the web app
runs under gunicorn and the jobs in ``fieldreport worker`` processes, each a real program with
the settings a server would have, but short sweep and heartbeat intervals so that the faults
are repaired in seconds rather than minutes.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

from bench.dropping_proxy import DroppingProxy
from fieldreport.accounts.service import create_user
from fieldreport.config import load_settings
from fieldreport.runtime import Runtime, build_runtime
from tests.servers import PostgresServer, RedisServer, free_port

BIN = Path(sys.executable).parent
METRICS_TOKEN = "topology-metrics-token"
SUBMISSIONS = (b"POST /api/v1/reports",)  # the report and photo uploads lose answers
WORKERS = 2
WORKER = [str(BIN / "fieldreport"), "worker"]


def _die_with_parent() -> None:
    """In the child: be sent SIGTERM when this bench (or test) process dies, however it dies,
    so no server outlives the run (Linux ``PR_SET_PDEATHSIG``)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class Processes:
    """Context manager: every server of the topology, and the runtime to inspect the results."""

    def __init__(self, directory: Path, database_url: str | None, web_workers: int, drop: float):
        self.directory = directory
        self.database_url = database_url
        self.web_workers = web_workers
        self.drop = drop
        self.postgres: PostgresServer | None = None
        self.redis = RedisServer()
        self.children: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self.web_port = free_port()
        self.env: dict[str, str] = {}
        self.killed: set[int] = set()  # workers killed on purpose: a lost machine stays lost
        self.restarts: list[str] = []
        self._stopping = threading.Event()

    def __enter__(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        if self.database_url is None:
            self.postgres = PostgresServer().start()
            self.database_url = self.postgres.url
        self.redis.start()
        self.env = self._environment()
        subprocess.run([str(BIN / "fieldreport"), "init-db"], env=self.env, check=True)
        self.runtime: Runtime = build_runtime(load_settings(self.env))
        self.children.append(self._spawn("web", self._gunicorn()))
        for number in range(WORKERS):
            self.workers.append(
                self._spawn(f"worker-{number}", [str(BIN / "fieldreport"), "worker"])
            )
        self.children.extend(self.workers)
        self._wait_for_web()
        threading.Thread(target=self._supervise, name="supervisor", daemon=True).start()
        self.proxy = DroppingProxy(self.web_port, self.drop, prefixes=SUBMISSIONS).start()

    def _environment(self) -> dict[str, str]:
        metrics_dir = self.directory / "prometheus"
        metrics_dir.mkdir()
        data = self.directory / "data"
        data.mkdir()
        return {
            **{key: value for key, value in os.environ.items() if not key.startswith("PG")},
            "DATABASE_URL": str(self.database_url),
            "REDIS_URL": self.redis.url,
            "FIELDREPORT_DATA_DIR": str(data),
            "SECRET_KEY": "topology-bench-secret-key",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "FIELDREPORT_METRICS_TOKEN": METRICS_TOKEN,
            "FIELDREPORT_TWO_FACTOR_ROLES": "",
            "FIELDREPORT_SWEEP_INTERVAL_S": "2",
            "FIELDREPORT_JOB_HEARTBEAT_S": "2",
            "FIELDREPORT_JOB_TIMEOUT_S": "30",
        }

    def _gunicorn(self) -> list[str]:
        return [
            str(BIN / "gunicorn"),
            f"--workers={self.web_workers}",
            "--threads=4",
            f"--bind=127.0.0.1:{self.web_port}",
            "--graceful-timeout=5",
            "fieldreport:create_app()",
        ]

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.directory / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        # A session of its own: a kill takes the process and its children (RQ's work horse).
        return subprocess.Popen(
            command,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def _wait_for_web(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.web_url}/healthz", timeout=5) as answer,  # noqa: S310
            ):
                if answer.status == 200:
                    return
            if self.children[0].poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not come up:\n{self.log_tail('web')}")

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.directory / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def add_observers(self, count: int, password: str) -> list[str]:
        names = [f"phone{number:03d}" for number in range(count)]
        with self.runtime.db.session_scope() as session:
            for number, name in enumerate(names):
                create_user(
                    session, name, role="observer", password=password, team_code=f"T-{number:03d}"
                )
        return names

    def kill_worker(self, index: int) -> None:
        self.killed.add(index)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.workers[index].pid, signal.SIGKILL)

    def post_mortem(self, lines: int = 60) -> str:
        """Every living worker's thread stacks (SIGUSR1: worker/main.py) and each worker log's
        tail without the routine lines: what a failed run must show where nobody can log in."""
        for worker in self.workers:
            if worker.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGUSR1)
        time.sleep(1)
        routine = ("Job OK", "result is kept", "Successfully completed", ": photos: fieldreport")
        parts = []
        for path in sorted(self.directory.glob("worker-*.log")):
            kept = [
                line
                for line in path.read_text(errors="replace").splitlines()
                if not any(word in line for word in routine)
            ]
            parts.append(f"--- {path.name} (last {lines} lines that are not routine)")
            parts.extend(kept[-lines:])
        return "\n".join(parts)

    def _supervise(self) -> None:
        """Start again a worker that quit by itself, as systemd or compose's restart policy
        would (an RQ worker quits when Redis goes away while it watches a job)."""
        while not self._stopping.wait(0.5):
            for index, worker in enumerate(self.workers):
                if index in self.killed or worker.poll() is None or self._stopping.is_set():
                    continue
                self.restarts.append(f"worker-{index} exited ({worker.returncode}); restarted")
                self.workers[index] = self._spawn(f"worker-{index}", WORKER)
                self.children.append(self.workers[index])

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping.set()
        if getattr(self, "proxy", None) is not None:
            self.proxy.close()
        for child in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(5)
        if getattr(self, "runtime", None) is not None:
            self.runtime.db.dispose()
        self.redis.close()
        if self.postgres is not None:
            self.postgres.close()
