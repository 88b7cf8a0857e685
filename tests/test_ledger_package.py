"""Evidence packages: downloaded by a coordinator, checked offline by tools/verify_package.py
(no fieldreport import), and any changed byte in them is refused."""

from __future__ import annotations

import io
import json
import runpy
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import select

from fieldreport.cli import main
from fieldreport.reports.models import Report
from tests.helpers import file_report
from tests.test_ledger import _world

SCRIPT = "tools/verify_package.py"
verify_zip = runpy.run_path(SCRIPT)["verify"]


def _download(client, url: str, tmp_path, name: str = "package.zip"):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "application/zip"
    path = tmp_path / name
    path.write_bytes(response.data)
    return path


def _rewrite(path, change) -> None:
    """Rewrite the ZIP with ``change(name, data) -> data`` applied to each member."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, change(name, data))
    path.write_bytes(buffer.getvalue())


def _flip_last(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


def test_a_reports_package_verifies_offline_with_the_stand_alone_script(
    runtime, users, corpus, client_for, tmp_path
):
    _world(runtime, users, corpus)
    with runtime.db.session_scope() as s:  # filed after the digest: the package's head covers it
        file_report(s, users.observer, 43.47, 11.85, occurred_at=datetime.now(UTC))
        first = s.scalar(select(Report.client_id).order_by(Report.id))
    path = _download(client_for("coord"), f"/reports/{first}/evidence.zip", tmp_path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        body = json.loads(archive.read("package.json"))
    assert {"README.txt", "package.json", f"reports/{first}/version-1.json"} <= names
    assert any(name.startswith("photos/") for name in names)
    assert [e["kind"] for e in body["entries"]] == ["report_version", "photo", "review"]
    assert body["digest_head"]["consistency_proof"]
    run = subprocess.run(
        [sys.executable, SCRIPT, str(path)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout
    assert "VERIFIED" in run.stdout and "FAIL" not in run.stdout


def test_a_changed_photo_version_or_head_in_a_package_is_refused(
    runtime, users, corpus, client_for, tmp_path
):
    _world(runtime, users, corpus)
    with runtime.db.session_scope(write=False) as s:
        first = s.scalar(select(Report.client_id).order_by(Report.id))
    clean = _download(client_for("admin"), f"/api/v1/reports/{first}/evidence", tmp_path)
    assert verify_zip(str(clean)) == 0
    changes = {
        "photos/": _flip_last,
        "reports/": lambda d: d.replace(b"Bursts", b"bursts"),
        "package.json": lambda d: d.replace(b'"tree_size": ', b'"tree_size": 1', 1),
    }
    for prefix, change in changes.items():
        path = tmp_path / f"changed-{prefix.strip('/').replace('.', '-')}.zip"
        path.write_bytes(clean.read_bytes())
        _rewrite(
            path, lambda name, data, p=prefix, c=change: c(data) if name.startswith(p) else data
        )
        assert verify_zip(str(path)) == 1, prefix


def test_a_days_package_holds_the_days_reports_and_the_command_checks_it(
    runtime, users, corpus, client_for, tmp_path
):
    world = _world(runtime, users, corpus)
    path = _download(client_for("coord"), f"/evidence/{world['day'].isoformat()}.zip", tmp_path)
    with zipfile.ZipFile(path) as archive:
        body = json.loads(archive.read("package.json"))
    reports = {json.loads(e["leaf"])["report"] for e in body["entries"]}
    assert len(reports) == 2
    result = CliRunner().invoke(main, ["verify-package", str(path)])
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output
    yesterday = (world["day"] - timedelta(days=1)).isoformat()
    empty = _download(client_for("coord"), f"/evidence/{yesterday}.zip", tmp_path, "empty.zip")
    with zipfile.ZipFile(empty) as archive:
        assert json.loads(archive.read("package.json"))["entries"] == []
