"""A report filed offline on a phone (real Chromium), synced, verified by the phone's own
signature; the same report altered on the server then fails ``verify``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext
from sqlalchemy import select

from fieldreport.ledger.devices import signature_ok
from fieldreport.ledger.models import DeviceKey, DeviceSignature, LedgerLeaf
from fieldreport.ledger.verify import verify_all
from fieldreport.reports.models import ReportVersion
from tests.helpers import count, make_settings
from tests.live_server import LiveServer, live_server
from tests.test_offline_browser import WAIT_MS, _file_offline, _open_form, _wait_until


@pytest.fixture
def server(tmp_path: Path, sqlite_url: str) -> Iterator[LiveServer]:
    with live_server(make_settings(tmp_path, sqlite_url)) as running:
        yield running


def _problems(server: LiveServer) -> list[str]:
    runtime = server.runtime
    with runtime.db.session_scope(write=False) as session:
        return verify_all(session, runtime.storage, runtime.settings.data_dir).problems


def test_a_report_filed_offline_is_signed_on_the_phone_and_verified_by_that_signature(
    server: LiveServer, phone_context: BrowserContext, corpus: Path
) -> None:
    page = phone_context.new_page()
    _open_form(page, server)  # online at log-in: the phone makes its key and registers it
    _wait_until(page, lambda: count(server.runtime, DeviceKey) == 1)
    phone_context.set_offline(True)
    page.reload()
    hashes = _file_offline(
        page, "Shelling near the bridge.", corpus / "accept" / "gps_DSCN0010.jpg"
    )
    phone_context.set_offline(False)
    page.wait_for_selector("#outbox-count", state="hidden", timeout=WAIT_MS)
    with server.runtime.db.session_scope(write=False) as session:
        device = session.scalar(select(DeviceSignature))
        key = session.scalar(select(DeviceKey))
        assert device is not None, "the report arrived unsigned"
        signed = json.loads(device.signed_body)
        leaf = session.scalar(select(LedgerLeaf).where(LedgerLeaf.kind == "report_version"))
        assert json.loads(leaf.data)["device"]["signature"] == device.signature
        assert signature_ok(key, device)  # type: ignore[arg-type]
    assert signed["report"]["narrative"] == "Shelling near the bridge."
    assert signed["photos"] == hashes
    assert _problems(server) == []
    with server.runtime.db.session_scope() as session:
        version = session.scalar(select(ReportVersion))
        version.content = version.content.replace("Shelling", "Shooting")
    problems = _problems(server)
    assert problems and "version 1" in problems[0]
