"""pytest plugin: the external servers tests talk to (PostgreSQL, Redis, SMTP, Chromium), each
started by the fixture named for it, plus the skip guard.

Load it with ``pytest_plugins = ["tests.external_servers"]`` in the root conftest (or
``-p tests.external_servers``). House rules it enforces: service tests talk to real servers that
the fixtures start themselves on free loopback ports (unless a URL is given by env var), and
nothing is skipped silently. When a server's binary is missing the fixture skips, and the skip
guard reports every skip as a failure naming the reason — under ``CI=true``/``CI=1`` always,
and locally too unless ``FIELDREPORT_ALLOW_SKIPS=1`` says skips are wanted on this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests import servers
from tests.servers import CHROMIUM_ARGS, RedisServer, ServerUnavailable, SmtpSink

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

PHONE_VIEWPORT = {"width": 360, "height": 740}
TABLET_VIEWPORT = {"width": 1024, "height": 768}
PHONE_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{major}.0.0.0 Mobile Safari/537.36"
)
CONTEXT_TIMEOUT_MS = 20_000
EXPECT_TIMEOUT_MS = 15_000

_TIMINGS = pytest.StashKey[dict[str, float]]()  # service name -> start-up seconds


ALLOW_SKIPS_VAR = "FIELDREPORT_ALLOW_SKIPS"


def ci_enabled() -> bool:
    """True when the CI env var asks for the no-skips rule (``CI=true`` or ``CI=1``)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def skips_allowed() -> bool:
    """True when skips were asked for on this machine (``FIELDREPORT_ALLOW_SKIPS=1``), never
    in CI."""
    allowed = os.environ.get(ALLOW_SKIPS_VAR, "").strip().lower() in {"true", "1"}
    return allowed and not ci_enabled()


def _why_no_skips() -> str:
    if ci_enabled():
        return f"CI={os.environ.get('CI')}"
    return f"{ALLOW_SKIPS_VAR} is not set (set {ALLOW_SKIPS_VAR}=1 to allow skips locally)"


def _record_timing(config: pytest.Config, name: str, seconds: float | None) -> None:
    if seconds is not None:
        config.stash.setdefault(_TIMINGS, {})[name] = seconds


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


def _sqlalchemy_pg_url(url: str) -> str:
    """Accept ``postgres://``/``postgresql://`` and pin the installed psycopg 3 driver."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0] not in {"postgresql", "postgres"}:
        pytest.fail(
            f"TEST_DATABASE_URL must be a postgresql:// URL, got {scheme or url!r}", pytrace=False
        )
    _base, plus, driver = scheme.partition("+")
    scheme = f"postgresql+{driver if plus else 'psycopg'}"  # SQLAlchemy rejects "postgres"
    return f"{scheme}://{rest}"


@pytest.fixture(scope="session")
def postgres_url(pytestconfig: pytest.Config) -> Iterator[str]:
    """SQLAlchemy URL of a PostgreSQL database the session may freely create tables in.

    ``$TEST_DATABASE_URL`` if set (plain ``postgresql://`` is rewritten to use psycopg 3);
    otherwise a throwaway cluster with database ``fieldreport_test``, started once per session
    (per xdist worker) and deleted at the end. Missing binaries -> skip (a failure in CI).
    """
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield _sqlalchemy_pg_url(given)
        return
    try:
        server = servers.PostgresServer().start()
    except ServerUnavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc.reason}")
    _record_timing(pytestconfig, "postgres", server.startup_seconds)
    try:
        yield server.url
    finally:
        server.close()


# --------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server(pytestconfig: pytest.Config) -> Iterator[RedisServer]:
    """Our OWN redis-server (never ``$TEST_REDIS_URL``): ``.url``, ``.stop()``, ``.start()``.

    Use it when a test must stop Redis and start it again on the same URL. A test that leaves
    it stopped gets it restarted (empty) after the test by ``_restart_stopped_redis``.
    """
    try:
        server = servers.RedisServer()
    except ServerUnavailable as exc:
        pytest.skip(f"Redis unavailable: {exc.reason}")
    with server:
        _record_timing(pytestconfig, "redis", server.startup_seconds)
        yield server


def _given_redis_url() -> str | None:
    given = os.environ.get("TEST_REDIS_URL")
    if given and not given.startswith(("redis://", "rediss://")):
        pytest.fail(f"TEST_REDIS_URL must be a redis:// URL, got {given!r}", pytrace=False)
    return given or None


def redis_database(worker_id: str) -> int:
    """The Redis database number of an xdist worker (``gw0`` -> 1, ``master`` -> 1, …).

    Why: two workers may share one Redis (``$TEST_REDIS_URL``); a database of its own keeps
    one worker's jobs, job ids and scheduled jobs away from the other's. Database 0 is left to
    whoever else uses that Redis. Redis has 16 databases by default: up to 15 workers.
    """
    index = int(worker_id.removeprefix("gw")) if worker_id.startswith("gw") else 0
    if index >= 15:
        pytest.fail(f"at most 15 xdist workers may share a Redis, this is {worker_id}")
    return index + 1


def _in_database(url: str, number: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{number}", parts.query, parts.fragment))


def _owned(url: str) -> Iterator[str]:
    """Empty the database before the test and after it: the test sees only its own keys."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    try:
        client.flushdb()
        yield url
        with contextlib.suppress(redis.RedisError):  # a test may leave the server stopped
            client.flushdb()
    finally:
        client.close()


@pytest.fixture
def redis_url(request: pytest.FixtureRequest, worker_id: str) -> Iterator[str]:
    """A Redis database this test owns, empty at its start: on ``$TEST_REDIS_URL`` if set,
    else on the session's own ``redis_server``; one database per xdist worker."""
    given = _given_redis_url()
    base = given or request.getfixturevalue("redis_server").url
    yield from _owned(_in_database(base, redis_database(worker_id)))


@pytest.fixture
def own_redis_url(redis_server: RedisServer, worker_id: str) -> Iterator[str]:
    """Like ``redis_url``, but always on our own ``redis_server``: for tests that stop it."""
    yield from _owned(_in_database(redis_server.url, redis_database(worker_id)))


@pytest.fixture(autouse=True)
def _restart_stopped_redis(request: pytest.FixtureRequest) -> Iterator[None]:
    """Why: ``redis_server`` is shared by the session, so a test that stopped it (or failed
    before starting it again) must not break the tests after it."""
    yield
    # funcargs is None when teardown is deferred to session end (e.g. after Ctrl-C).
    server = (getattr(request.node, "funcargs", None) or {}).get("redis_server")
    if isinstance(server, RedisServer) and not server.running:
        server.start()


# --------------------------------------------------------------------------------------------
# SMTP
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def smtp_server(pytestconfig: pytest.Config) -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on a free loopback port for the whole session."""
    try:
        sink = servers.SmtpSink().start()
    except ServerUnavailable as exc:
        pytest.skip(f"SMTP sink unavailable: {exc.reason}")
    _record_timing(pytestconfig, "smtp", sink.startup_seconds)
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def smtp_sink(smtp_server: SmtpSink) -> SmtpSink:
    """The session's SMTP sink with ``messages`` emptied, so each test sees only its mail."""
    smtp_server.clear()
    return smtp_server


# --------------------------------------------------------------------------------------------
# Browser
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(pytestconfig: pytest.Config) -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright's sync API, shared by the session."""
    try:
        executable = servers.chromium_executable()
    except ServerUnavailable as exc:
        pytest.skip(f"Chromium unavailable: {exc.reason}")
    try:
        from playwright.sync_api import expect, sync_playwright  # optional dependency
    except ImportError:
        pytest.skip("Chromium unavailable: playwright (Python) is not installed")
    # An ``expect`` waits for what the page will show; 5 s (Playwright's default) is too short
    # when two test processes, servers and Chromium share two busy cores (CI).
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with contextlib.suppress(RuntimeError):  # RuntimeError == no loop running: what we want
        asyncio.get_running_loop()
        pytest.fail(
            "Playwright's sync API cannot run inside a running asyncio loop; run browser tests "
            "as plain (non-async) tests on the main thread",
            pytrace=False,
        )
    began = time.monotonic()
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(
            executable_path=executable,
            args=list(CHROMIUM_ARGS),
            headless=True,
            timeout=CONTEXT_TIMEOUT_MS,
        )
    except BaseException:
        playwright.stop()
        raise
    _record_timing(pytestconfig, "chromium", time.monotonic() - began)
    try:
        yield launched
    finally:
        with contextlib.suppress(Exception):
            launched.close()
        playwright.stop()


def _new_context(browser: Browser, **options: Any) -> BrowserContext:
    context = browser.new_context(**options)
    context.set_default_timeout(CONTEXT_TIMEOUT_MS)
    return context


@pytest.fixture
def phone_context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh phone-sized context: 360x740 CSS px, touch, mobile viewport, DPR 2, Android UA.

    Note: with ``is_mobile`` a page without ``<meta name="viewport" content="width=device-width">``
    is laid out 980 px wide, as on a real phone.
    """
    major = browser.version.split(".", 1)[0]
    context = _new_context(
        browser,
        viewport=PHONE_VIEWPORT,
        screen=PHONE_VIEWPORT,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        user_agent=PHONE_USER_AGENT.format(major=major),
    )
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def tablet_context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh tablet-sized context: 1024x768 CSS px with touch (desktop UA, DPR 1)."""
    context = _new_context(
        browser, viewport=TABLET_VIEWPORT, screen=TABLET_VIEWPORT, has_touch=True
    )
    try:
        yield context
    finally:
        context.close()


# --------------------------------------------------------------------------------------------
# Skip guard: nothing is skipped unless asked for (and never in CI)
# --------------------------------------------------------------------------------------------


class SkipGuard:
    """Per-config state and hooks of the skip guard (an object, so nested pytester runs and
    xdist controller/workers each keep their own)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.enabled = not skips_allowed()
        self.converted: list[tuple[str, str]] = []  # (nodeid, reason) turned into failures
        self.skipped: list[tuple[str, str]] = []  # (nodeid, reason) left as skips
        self.collect_skips: list[tuple[str, str]] = []  # whole files/directories skipped

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Turn a skip (in any phase; xfail excepted) into a failure with its reason."""
        report = yield
        if self.enabled and report.skipped and not hasattr(report, "wasxfail"):
            reason = _skip_reason(report)
            report.outcome = "failed"
            report.longrepr = (
                f"[skip guard] skip not allowed: {_why_no_skips()}; skip reason: {reason}"
            )
            # A plain attribute survives pytest-xdist's report serialisation to the controller.
            report.skip_guard_reason = reason  # type: ignore[attr-defined]
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(
        self, report: pytest.TestReport | pytest.CollectReport
    ) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
        """Count a converted setup-phase skip as FAILED rather than as a setup ERROR."""
        if getattr(report, "skip_guard_reason", None) is not None and report.failed:
            return "failed", "F", ("FAILED", {"red": True})
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Runs where the terminal is (also the xdist controller), so the summary sees all.
        reason = getattr(report, "skip_guard_reason", None)
        if reason is not None:
            self.converted.append((report.nodeid, reason))
        elif report.skipped and not hasattr(report, "wasxfail"):
            self.skipped.append((report.nodeid, _skip_reason(report)))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # Failing a collect report would abort the whole run ("error during collection"), so
        # a skipped module is only recorded here and fails the exit status at the end.
        if report.skipped:
            self.collect_skips.append((report.nodeid, _skip_reason(report)))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        passing = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
        if self.enabled and self.collect_skips and session.exitstatus in passing:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        timings = self.config.stash.get(_TIMINGS, {})
        failing = self.enabled and (self.converted or self.collect_skips)
        noting = not self.enabled and (self.skipped or self.collect_skips)
        if not (timings or failing or noting):
            return
        terminalreporter.section("external servers", sep="-", red=bool(failing), bold=True)
        if timings:
            parts = ", ".join(f"{name} {secs:.2f}s" for name, secs in timings.items())
            write(f"start-up: {parts}")
        if failing:
            for nodeid, reason in self.converted + self.collect_skips:
                write(f"SKIP->FAIL {nodeid}: {reason}", red=True)
            write(
                f"skip guard: {len(self.converted)} skipped test(s) and {len(self.collect_skips)} "
                f"skipped collector(s) counted as failures because {_why_no_skips()}",
                red=True,
                bold=True,
            )
        elif noting:
            count = len(self.skipped) + len(self.collect_skips)
            write(
                f"skip guard: {count} skip(s) allowed by {ALLOW_SKIPS_VAR}=1; "
                "without it (and always with CI=true) they would fail",
                yellow=True,
            )


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
    else:
        reason = str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_TIMINGS] = {}
    config.pluginmanager.register(SkipGuard(config), "fieldreport-skip-guard")
