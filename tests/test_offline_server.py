"""The server side of offline filing: the service worker script, the outbox page, and uploads
that a dropped connection cuts off — over a real HTTP server, as a phone would meet them."""

from __future__ import annotations

import hashlib
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from fieldreport.photos.models import Photo
from fieldreport.reports import offline_views
from fieldreport.reports.models import Report
from tests.helpers import (
    ON_POSTGRESQL_ONLY,
    count,
    held_at_statement,
    make_settings,
    report_body,
    run_together,
)
from tests.live_server import HttpClient, LiveServer, live_server, multipart_photo


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    with live_server(make_settings(tmp_path, database_url), observers=("obs1",)) as running:
        yield running


@pytest.fixture
def observer(server: LiveServer) -> HttpClient:
    client = HttpClient(server.url)
    client.login("obs1")
    return client


def _photos(server: LiveServer) -> list[str]:
    with server.runtime.db.session_scope(write=False) as session:
        return list(session.scalars(select(Photo.sha256)))


def _stored_files(server: LiveServer) -> list[Path]:
    root = server.runtime.settings.data_dir
    return [path for path in root.rglob("*") if path.is_file() and "originals" in path.parts]


def test_service_worker_is_served_from_the_root_and_never_cached(client_for) -> None:
    response = client_for("obs1").get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response.headers["Cache-Control"] or (
        "no-store" in response.headers["Cache-Control"]
    )
    text = response.get_data(as_text=True)
    assert 'const VERSION = "' in text
    assert '"/static/js/outbox.js"' in text and '"/reports/new"' in text


def test_a_changed_shell_file_makes_a_new_cache_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    static = tmp_path / "static"
    shutil.copytree(offline_views.STATIC, static)
    monkeypatch.setattr(offline_views, "STATIC", static)
    offline_views._asset_version.cache_clear()
    before = offline_views._asset_version()
    offline_views._asset_version.cache_clear()
    with (static / "css" / "app.css").open("a") as css:
        css.write("/* next release */\n")
    after = offline_views._asset_version()
    offline_views._asset_version.cache_clear()
    assert before != after


def test_manifest_is_served_as_a_web_app_manifest(client_for) -> None:
    response = client_for("obs1").get("/static/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    assert response.get_json()["start_url"] == "/home"


def test_outbox_page_is_for_observers(client_for, app) -> None:
    assert client_for("obs1").get("/outbox").status_code == 200
    assert client_for("coord").get("/outbox").status_code == 403
    assert app.test_client().get("/outbox").status_code == 302


def test_observer_pages_link_the_manifest_and_show_the_outbox_badge(client_for) -> None:
    html = client_for("obs1").get("/reports/new").get_data(as_text=True)
    assert 'rel="manifest"' in html
    assert 'id="outbox-count"' in html
    assert 'data-user="obs1"' in html
    assert 'id="send-original"' in html


def test_a_photo_upload_cut_off_part_way_stores_nothing_and_the_retry_completes(
    server: LiveServer, observer: HttpClient, corpus: Path
) -> None:
    body = report_body()
    assert observer.post_report(body).status == 201
    data = (corpus / "accept" / "gps_DSCN0010.jpg").read_bytes()
    payload, content_type = multipart_photo(data, "cut.jpg")
    head = (
        f"POST /api/v1/reports/{body['client_id']}/photos HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.server.server_port}\r\n"
        f"Cookie: {observer.cookie_header()}\r\nX-CSRFToken: {observer.token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.server.server_port), timeout=30) as sock:
        sock.sendall(head + payload[: len(payload) // 2])
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert _photos(server) == []
    assert _stored_files(server) == []

    again = observer.post_photo(body["client_id"], data, "cut.jpg")
    assert again.status == 201
    assert _photos(server) == [hashlib.sha256(data).hexdigest()]


@ON_POSTGRESQL_ONLY
def test_two_identical_reports_racing_over_http_make_one(server: LiveServer) -> None:
    clients = [HttpClient(server.url) for _ in range(2)]
    for client in clients:
        client.login("obs1")
    body = report_body()

    with held_at_statement(server.runtime.db.engine, "INSERT INTO reports (", 2) as held:
        responses = run_together(*(lambda c=client: c.post_report(body) for client in clients))

    assert len(held) == 2
    assert sorted(response.status for response in responses) == [200, 201]
    assert count(server.runtime, Report) == 1
