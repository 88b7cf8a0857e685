"""Proof that each external-server fixture talks to a real server, and that the skip guard
works."""

from __future__ import annotations

import smtplib
import socket
import textwrap
import uuid
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest
import redis
import sqlalchemy as sa

from tests import servers
from tests.servers import RedisServer, ServerUnavailable, SmtpSink

if TYPE_CHECKING:
    pass

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


def test_postgres_url_takes_a_new_table_and_unicode_text(postgres_url: str) -> None:
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
    pytester.runpytest("-p", "tests.external_servers", "-p", "no:cacheprovider").assert_outcomes(
        passed=1
    )


def test_test_database_url_must_be_postgresql(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", "sqlite:///x.db")
    pytester.makepyfile("def test_url(postgres_url):\n    pass\n")
    result = pytester.runpytest("-p", "tests.external_servers", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*TEST_DATABASE_URL must be a postgresql:// URL*"])


# --------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------


def test_redis_url_answers_a_ping(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_each_test_owns_an_empty_redis_database_of_its_worker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_REDIS_URL", raising=False)
    pytester.makepyfile(
        test_owned=textwrap.dedent(
            """
            import redis

            def test_a_leaves_a_job_behind(redis_url):
                assert redis_url.endswith("/1")  # never database 0, shared with others
                redis.Redis.from_url(redis_url).set("rq:job:digest_2026-11-24", "left over")

            def test_b_does_not_see_it(redis_url):
                assert redis.Redis.from_url(redis_url).keys("*") == []
            """
        )
    )
    result = pytester.runpytest("-p", "tests.external_servers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_xdist_workers_get_different_redis_databases() -> None:
    from tests.external_servers import redis_database

    assert [redis_database(worker) for worker in ("master", "gw0", "gw1", "gw13")] == [
        1,
        1,
        2,
        14,
    ]


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
    result = pytester.runpytest("-p", "tests.external_servers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


# --------------------------------------------------------------------------------------------
# SMTP
# --------------------------------------------------------------------------------------------


def test_smtp_sink_receives_a_message_and_its_attachment(smtp_sink: SmtpSink) -> None:
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
# Skip guard
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
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    ci: str | None,
    allow_skips: str | None = None,
) -> pytest.RunResult:
    for name, value in (("CI", ci), ("FIELDREPORT_ALLOW_SKIPS", allow_skips)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    pytester.makepyfile(test_guarded=_GUARDED)
    return pytester.runpytest("-p", "tests.external_servers", "-p", "no:cacheprovider", "-rA")


def _assert_skips_failed(result: pytest.RunResult, because: str) -> None:
    result.assert_outcomes(passed=1, failed=3, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*skip reason: no widget here*",
            "*skip reason: marker says no*",
            "*skip reason: service binary missing*",
            f"*skip guard: 3 skipped test(s) and 0 skipped collector(s) counted as failures "
            f"because {because}*",
        ]
    )
    result.stdout.no_fnmatch_line("*ERROR*")  # a fixture skip is a FAILURE, not a setup error


@pytest.mark.parametrize("ci", ["true", "1", "TRUE"])
@pytest.mark.parametrize("allow_skips", [None, "1"])
def test_in_ci_every_skip_is_a_failure_even_when_skips_are_allowed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, allow_skips: str | None
) -> None:
    result = _run_guarded(pytester, monkeypatch, ci, allow_skips)
    _assert_skips_failed(result, f"CI={ci}")


@pytest.mark.parametrize("ci", [None, "false", "0", ""])
def test_outside_ci_a_skip_is_a_failure_that_says_how_to_allow_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    result = _run_guarded(pytester, monkeypatch, ci)
    _assert_skips_failed(result, "FIELDREPORT_ALLOW_SKIPS is not set")
    result.stdout.fnmatch_lines(["*set FIELDREPORT_ALLOW_SKIPS=1 to allow skips locally*"])


@pytest.mark.parametrize("ci", [None, "false", "0", ""])
@pytest.mark.parametrize("allow_skips", ["1", "true"])
def test_skips_stay_skips_only_when_allowed_outside_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None, allow_skips: str
) -> None:
    result = _run_guarded(pytester, monkeypatch, ci, allow_skips)
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "SKIPPED*no widget here*",
            "SKIPPED*marker says no*",
            "SKIPPED*service binary missing*",
        ]
    )
    result.stdout.fnmatch_lines(["*skip guard: 3 skip(s) allowed by FIELDREPORT_ALLOW_SKIPS=1*"])


def _no_skips_allowed(monkeypatch: pytest.MonkeyPatch, ci: str | None) -> None:
    monkeypatch.delenv("FIELDREPORT_ALLOW_SKIPS", raising=False)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)


@pytest.mark.parametrize("ci", ["true", None])
def test_a_whole_skipped_file_fails_the_run_in_ci_and_locally(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    _no_skips_allowed(monkeypatch, ci)
    pytester.makepyfile(
        test_mod="import pytest\npytest.skip('whole module', allow_module_level=True)\n",
        test_other="def test_ok():\n    pass\n",
    )
    result = pytester.runpytest("-p", "tests.external_servers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*SKIP->FAIL test_mod.py: whole module*"])


@pytest.mark.parametrize("ci", ["true", None])
def test_a_missing_server_binary_is_a_failure_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    """End to end: no PostgreSQL binaries -> postgres_url skips -> FAILED (in CI and locally)."""
    _no_skips_allowed(monkeypatch, ci)
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("TEST_PG_BINDIR", str(pytester.path / "no-such-bindir"))
    pytester.makepyfile(test_db="def test_db(postgres_url):\n    pass\n")
    result = pytester.runpytest("-p", "tests.external_servers", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*skip reason: PostgreSQL unavailable: *initdb, postgres*"])
