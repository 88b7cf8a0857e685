"""Proof that each service fixture talks to a real server, and that the CI guard works."""

from __future__ import annotations

import http.server
import smtplib
import socket
import textwrap
import threading
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest
import redis
import sqlalchemy as sa

from tests import servers
from tests.servers import RedisServer, ServerUnavailable, SmtpSink

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

pytest_plugins = ["pytester"]


# --------------------------------------------------------------------------------------------
# servers.py without fixtures
# --------------------------------------------------------------------------------------------


def test_free_port_is_bindable_on_loopback() -> None:
    port = servers.free_port()
    assert 1024 < port < 65536
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_missing_postgres_binaries_raise_server_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("TEST_PG_BINDIR", str(tmp_path))
    with pytest.raises(ServerUnavailable, match="initdb, postgres"):
        servers.PostgresServer()


def test_missing_chromium_raises_server_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMIUM_PATH", "/nonexistent/chromium")
    with pytest.raises(ServerUnavailable, match="CHROMIUM_PATH"):
        servers.chromium_executable()


def test_server_start_error_carries_log_tail() -> None:
    """A port that is already taken makes redis-server exit; the error must say why."""
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        taken = blocker.getsockname()[1]
        server = RedisServer(port=taken)
        with (
            pytest.raises(servers.ServerStartError, match=r"(?i)address already in use"),
            server,
        ):
            pass
    assert server.base_dir is None  # cleaned up after the failed start


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


def test_postgres_select_and_create_table(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://")
    metadata = sa.MetaData()
    probe = sa.Table(  # unique name: TEST_DATABASE_URL may point at a shared database
        f"probe_{uuid.uuid4().hex[:12]}",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("note", sa.Text, nullable=False),
    )
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
            assert conn.execute(sa.text("show server_encoding")).scalar_one() == "UTF8"
            metadata.create_all(conn)
            conn.execute(probe.insert().values(note="généré ✓"))
            assert conn.execute(sa.select(probe.c.note)).scalar_one() == "généré ✓"
            metadata.drop_all(conn)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:1/d", "postgresql+psycopg://u@h:1/d"),
        ("postgres://u@h:1/d", "postgresql+psycopg://u@h:1/d"),
        ("postgresql+psycopg://u@h:1/d", "postgresql+psycopg://u@h:1/d"),
    ],
)
def test_test_database_url_is_used_with_psycopg(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", given)
    pytester.makepyfile(f"def test_url(postgres_url):\n    assert postgres_url == {expected!r}\n")
    pytester.runpytest("-p", "tests.service_fixtures", "-p", "no:cacheprovider").assert_outcomes(
        passed=1
    )


def test_test_database_url_must_be_postgresql(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", "sqlite:///x.db")
    pytester.makepyfile("def test_url(postgres_url):\n    pass\n")
    result = pytester.runpytest("-p", "tests.service_fixtures", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*TEST_DATABASE_URL must be a postgresql:// URL*"])


# --------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------


def test_redis_url_pings(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_redis_stop_refuses_then_start_on_same_url(redis_server: RedisServer) -> None:
    url = redis_server.url
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    try:
        assert client.ping() is True
        redis_server.stop()
        assert not redis_server.running
        with pytest.raises(redis.ConnectionError):
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((redis_server.host, redis_server.port), timeout=2).close()

        redis_server.start()
        assert redis_server.url == url
        assert redis.Redis.from_url(url, socket_timeout=5).ping() is True
        assert client.ping() is True  # the old client reconnects to the same URL
    finally:
        client.close()


def test_redis_server_left_stopped_is_restarted_for_the_next_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(
        test_restart=textwrap.dedent(
            """
            def test_a_leaves_it_stopped(redis_server):
                redis_server.stop(kill=True)  # as if the test failed before start()

            def test_b_finds_it_running(redis_server):
                assert redis_server.running
            """
        )
    )
    result = pytester.runpytest("-p", "tests.service_fixtures", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


# --------------------------------------------------------------------------------------------
# SMTP
# --------------------------------------------------------------------------------------------


def test_smtp_receives_message_with_attachment(smtp_sink: SmtpSink) -> None:
    assert smtp_sink.messages == []
    msg = EmailMessage()
    msg["From"] = "noreply@fieldreport.test"
    msg["To"] = "monitor@fieldreport.test"
    msg["Subject"] = "Rapport quotidien – secteur 7"
    msg.set_content("Résumé du jour.")
    pdf = b"%PDF-1.4\n% fake pdf body\n"
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="digest.pdf")

    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
        client.send_message(msg, to_addrs=["monitor@fieldreport.test", "audit@fieldreport.test"])

    (received,) = smtp_sink.wait_for(1, timeout=10)
    assert received["Subject"] == "Rapport quotidien – secteur 7"
    body = received.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().strip() == "Résumé du jour."
    (attachment,) = received.iter_attachments()
    assert attachment.get_filename() == "digest.pdf"
    assert attachment.get_content() == pdf
    assert smtp_sink.envelopes[0].rcpt_tos == ["monitor@fieldreport.test", "audit@fieldreport.test"]


def test_smtp_sink_is_cleared_between_tests(smtp_sink: SmtpSink) -> None:
    assert smtp_sink.messages == []
    with pytest.raises(TimeoutError, match="expected 1 message"):
        smtp_sink.wait_for(1, timeout=0.2)


# --------------------------------------------------------------------------------------------
# Browser
# --------------------------------------------------------------------------------------------

_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>probe</title></head><body><h1>fieldreport</h1></body></html>"""


class _PageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(_PAGE)))
        self.end_headers()
        self.wfile.write(_PAGE)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def page_url() -> Iterator[str]:
    """A page served by http.server on loopback (exercises real networking, not data:)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_phone_context_is_a_360px_touch_phone(phone_context: BrowserContext, page_url: str) -> None:
    page = phone_context.new_page()
    page.goto(page_url)
    assert page.locator("h1").inner_text() == "fieldreport"
    assert page.evaluate("window.innerWidth") == 360
    assert page.evaluate("window.devicePixelRatio") == 2
    assert page.evaluate("navigator.maxTouchPoints") > 0
    assert "Mobile" in page.evaluate("navigator.userAgent")


def test_tablet_context_is_1024px_with_touch(tablet_context: BrowserContext) -> None:
    page = tablet_context.new_page()
    page.goto("data:text/html," + _PAGE.decode())
    assert page.evaluate("[window.innerWidth, window.innerHeight]") == [1024, 768]
    assert page.evaluate("navigator.maxTouchPoints") > 0


# --------------------------------------------------------------------------------------------
# CI guard
# --------------------------------------------------------------------------------------------

_GUARDED = textwrap.dedent(
    """
    import pytest

    def test_passes():
        pass

    def test_skips():
        pytest.skip("no widget here")

    @pytest.mark.skipif(True, reason="marker says no")
    def test_marked():
        pass

    @pytest.fixture
    def missing_service():
        pytest.skip("service binary missing")

    def test_fixture_skips(missing_service):
        pass

    @pytest.mark.xfail(reason="known bug")
    def test_xfails():
        assert False
    """
)


def _run_guarded(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> pytest.RunResult:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makepyfile(test_guarded=_GUARDED)
    return pytester.runpytest("-p", "tests.service_fixtures", "-p", "no:cacheprovider", "-rA")


@pytest.mark.parametrize("ci", ["true", "1", "TRUE"])
def test_ci_guard_turns_skips_into_failures(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    result = _run_guarded(pytester, monkeypatch, ci)
    result.assert_outcomes(passed=1, failed=3, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*skip reason: no widget here*",
            "*skip reason: marker says no*",
            "*skip reason: service binary missing*",
            "*CI guard: 3 skipped test(s) and 0 skipped collector(s) counted as failures*",
        ]
    )
    result.stdout.no_fnmatch_line("*ERROR*")  # a fixture skip is a FAILURE, not a setup error


@pytest.mark.parametrize("ci", [None, "false", "0", ""])
def test_without_ci_skips_stay_skips(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    result = _run_guarded(pytester, monkeypatch, ci)
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "SKIPPED*no widget here*",
            "SKIPPED*marker says no*",
            "SKIPPED*service binary missing*",
        ]
    )
    result.stdout.fnmatch_lines(["*CI guard: 3 skip(s) here; with CI=true they would fail*"])


def test_ci_guard_fails_a_skipped_module(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(
        test_mod="import pytest\npytest.skip('whole module', allow_module_level=True)\n",
        test_other="def test_ok():\n    pass\n",
    )
    result = pytester.runpytest("-p", "tests.service_fixtures", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*SKIP->FAIL test_mod.py: whole module*"])


def test_ci_guard_fails_a_real_missing_service(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: object
) -> None:
    """End to end: no PostgreSQL binaries -> postgres_url skips -> FAILED under CI."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("TEST_PG_BINDIR", str(pytester.path / "no-such-bindir"))
    pytester.makepyfile(test_db="def test_db(postgres_url):\n    pass\n")
    result = pytester.runpytest("-p", "tests.service_fixtures", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*skip reason: PostgreSQL unavailable: *initdb, postgres*"])
