"""Report submission on the production servers against /healthz, same server, same run.

    python bench/throughput.py [--requests 1500] [--clients 32] [--postgres URL]

For each database (SQLite in a temporary directory; PostgreSQL: our own throwaway cluster unless
``--postgres`` names one) and each server — ``gunicorn -w 3 --threads 4`` and ``fieldreport
run`` (waitress, one process, 8 threads, jobs in-process) — it starts the real program, logs an
observer in, and has ``--clients`` keep-alive connections share ``--requests`` GETs of
/healthz, then as many JSON report submissions. It prints requests per second, the ratio
submissions/healthz (target ≥ 0.40, docs/architecture.md "Budgets") and p50/p99 latency.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.submit import _report
from fieldreport.accounts.service import create_user
from fieldreport.config import load_settings
from fieldreport.runtime import build_runtime
from tests.live_server import HttpClient
from tests.servers import PostgresServer, free_port

BIN = Path(sys.executable).parent
PASSWORD = "throughput bench password"
SERVERS = {
    "gunicorn -w 3": lambda port: [
        str(BIN / "gunicorn"),
        "-w",
        "3",
        "--threads",
        "4",
        "-b",
        f"127.0.0.1:{port}",
        "fieldreport:create_app()",
    ],
    "fieldreport run": lambda port: [str(BIN / "fieldreport"), "run", "--port", str(port)],
}


@contextmanager
def serving(name: str, database_url: str, directory: Path) -> Iterator[int]:
    """The server ``name`` on a free port, with a migrated database and the observer ``bench``."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PG", "REDIS_URL"))},
        "DATABASE_URL": database_url,
        "FIELDREPORT_DATA_DIR": str(directory),
        "FIELDREPORT_TWO_FACTOR_ROLES": "",
        "FIELDREPORT_REQUEST_LOG": "false",  # measured: the server, not a terminal
    }
    subprocess.run([str(BIN / "fieldreport"), "init-db"], env=env, check=True, capture_output=True)
    runtime = build_runtime(load_settings(env))
    with runtime.db.session_scope() as session:
        create_user(session, "bench", role="observer", password=PASSWORD, team_code="T-99")
    runtime.db.dispose()
    port = free_port()
    log = open(directory / f"{name.split()[0]}.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        SERVERS[name](port), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait_for(port, server)
        yield port
    finally:
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        log.close()


def _wait_for(port: int, server: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        url = f"http://127.0.0.1:{port}/healthz"
        with suppress(OSError), urllib.request.urlopen(url) as answer:
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the server did not come up")


def measure(
    port: int, count: int, clients: int, send: Callable[..., int]
) -> tuple[float, list[float], list[int]]:
    """Requests per second, each request's seconds and the statuses that were not 2xx (SQLite
    answers 503 when a writer waited FIELDREPORT_SQLITE_BUSY_TIMEOUT_MS), ``clients`` at once."""
    left = iter(range(count))
    lock = threading.Lock()
    seconds: list[float] = []
    bad: list[int] = []

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if next(left, None) is None:
                    return
            began = time.perf_counter()
            status = send(connection)
            with lock:
                seconds.append(time.perf_counter() - began)
                if status not in (200, 201):
                    bad.append(status)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if set(bad) - {503}:
        raise SystemExit(f"unexpected statuses: {sorted(set(bad))}")
    return count / elapsed, sorted(seconds), bad


def senders(port: int) -> tuple[Callable[..., int], Callable[..., int]]:
    phone = HttpClient(f"http://127.0.0.1:{port}")
    phone.login("bench", PASSWORD)
    headers = {
        "Cookie": phone.cookie_header(),
        "X-CSRFToken": phone.token,
        "Content-Type": "application/json",
    }

    def health(connection: http.client.HTTPConnection) -> int:
        connection.request("GET", "/healthz")
        answer = connection.getresponse()
        answer.read()
        return answer.status

    def submit(connection: http.client.HTTPConnection) -> int:
        connection.request("POST", "/api/v1/reports", body=_report(), headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status

    return health, submit


def p(seconds: list[float], share: float) -> float:
    return seconds[min(len(seconds) - 1, int(share * len(seconds)))] * 1000


def one_run(name: str, label: str, url: str, directory: Path, args: argparse.Namespace) -> None:
    with serving(name, url, directory) as port:
        health, submit = senders(port)
        measure(port, 100, args.clients, health)  # warm up every process and connection
        measure(port, 100, args.clients, submit)
        healthz, h_times, _ = measure(port, args.requests, args.clients, health)
        reports, r_times, busy = measure(port, args.requests, args.clients, submit)
    print(
        f"| {name} | {label} | {healthz:6.0f} | {reports:6.0f} | {reports / healthz:4.2f} "
        f"| {p(h_times, 0.5):5.0f} / {p(h_times, 0.99):5.0f} "
        f"| {p(r_times, 0.5):5.0f} / {p(r_times, 0.99):5.0f} | {len(busy)} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--postgres", default=None, help="an empty PostgreSQL database's URL")
    parser.add_argument("--servers", default=",".join(SERVERS))
    args = parser.parse_args()
    cores = os.cpu_count()
    print(
        f"{args.requests} requests of each kind, {args.clients} concurrent clients, {cores} cores"
    )
    print(
        "| server | database | /healthz req/s | reports req/s | ratio | /healthz p50 / p99 ms "
        "| reports p50 / p99 ms | 503 busy |\n|---|---|---|---|---|---|---|---|"
    )
    own = None if args.postgres else PostgresServer().start()
    try:
        for name in args.servers.split(","):
            for label in ("SQLite", "PostgreSQL"):
                with tempfile.TemporaryDirectory() as directory:
                    url = f"sqlite:///{directory}/bench.db"
                    if label == "PostgreSQL":
                        url = args.postgres or _fresh_database(own, name)  # type: ignore[arg-type]
                    one_run(name, label, url, Path(directory), args)
    finally:
        if own is not None:
            own.close()


def _fresh_database(server: PostgresServer, name: str) -> str:
    import psycopg

    database = "bench_" + name.split()[0]
    dsn = f"host={server.host} port={server.port} user=fieldreport dbname=fieldreport_test"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {database}")  # type: ignore[arg-type]
    return server.url.rsplit("/", 1)[0] + "/" + database


if __name__ == "__main__":
    main()
