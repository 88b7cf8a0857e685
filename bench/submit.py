"""JSON report submission against /healthz on the same server, in the same run.

The budget is in docs/architecture.md, "Budgets".

Target: report submissions reach at least 40 % of the health check's throughput, i.e. the
validation, the insert and the ledger append do not dominate a request.

    python bench/submit.py [--requests 600] [--database sqlite|postgresql-url]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.serving import make_server

from fieldreport.accounts.service import create_user
from fieldreport.config import load_settings
from fieldreport.migrate import upgrade
from fieldreport.runtime import build_runtime
from fieldreport.web.app import build_app

PASSWORD = "benchmark password"


def _serve(database_url: str | None, data_dir: Path) -> tuple[object, int]:
    env = {"FIELDREPORT_DATA_DIR": str(data_dir)}
    if database_url:
        env["DATABASE_URL"] = database_url
    settings = load_settings(env)
    runtime = build_runtime(settings)
    upgrade(runtime.db)
    with runtime.db.session_scope() as session:
        create_user(session, "bench", role="observer", password=PASSWORD, team_code="T-99")
    server = make_server("127.0.0.1", 0, build_app(settings, runtime), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_port


def _login(port: int) -> tuple[str, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", "/login")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = SimpleCookie(response.getheader("Set-Cookie"))
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    body = f"username=bench&password={PASSWORD.replace(' ', '+')}&csrf_token={token}"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"fieldreport_session={cookie['fieldreport_session'].value}",
    }
    connection.request("POST", "/login", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    session = SimpleCookie(response.getheader("Set-Cookie"))["fieldreport_session"].value
    connection.request("GET", "/api/v1/csrf", headers={"Cookie": f"fieldreport_session={session}"})
    response = connection.getresponse()
    csrf = json.loads(response.read())["csrf_token"]
    new_cookie = response.getheader("Set-Cookie")
    if new_cookie:
        session = SimpleCookie(new_cookie)["fieldreport_session"].value
    return session, csrf


def _report() -> bytes:
    return json.dumps(
        {
            "client_id": str(uuid.uuid4()),
            "category": "ceasefire_violation",
            "subcategory": "small_arms_fire",
            "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "latitude": 43.4675,
            "longitude": 11.8851,
            "accuracy_m": 10,
            "basis": "seen",
            "narrative": "Bench report.",
            "details": {"count": 3},
        }
    ).encode()


def _run(port: int, count: int, workers: int, make_request: object) -> float:
    """Requests per second with ``workers`` keep-alive connections sharing ``count`` requests."""
    remaining = iter(range(count))
    lock = threading.Lock()
    statuses: list[int] = []

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            statuses.append(make_request(connection))  # type: ignore[operator]

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    bad = [status for status in statuses if status not in (200, 201)]
    if bad:
        raise SystemExit(f"unexpected statuses: {sorted(set(bad))}")
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database", default=None, help="DATABASE_URL (default: SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        server, port = _serve(args.database, Path(data_dir))
        session, csrf = _login(port)
        headers = {"Cookie": f"fieldreport_session={session}"}

        def health(connection: http.client.HTTPConnection) -> int:
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            return response.status

        def submit(connection: http.client.HTTPConnection) -> int:
            connection.request(
                "POST",
                "/api/v1/reports",
                body=_report(),
                headers={**headers, "Content-Type": "application/json", "X-CSRFToken": csrf},
            )
            response = connection.getresponse()
            response.read()
            return response.status

        _run(port, 50, args.workers, health)
        _run(port, 50, args.workers, submit)
        healthz = _run(port, args.requests, args.workers, health)
        reports = _run(port, args.requests, args.workers, submit)
        server.shutdown()  # type: ignore[attr-defined]
    ratio = reports / healthz
    print(f"database: {args.database or 'sqlite (embedded default)'}")
    print(f"requests per kind: {args.requests}, client connections: {args.workers}")
    print(f"/healthz            {healthz:8.1f} req/s")
    print(f"POST /api/v1/reports {reports:8.1f} req/s")
    print(f"ratio reports/healthz: {ratio:.2f} (target >= 0.40) {'OK' if ratio >= 0.4 else 'MISS'}")


if __name__ == "__main__":
    main()
