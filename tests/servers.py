"""Throwaway PostgreSQL, Redis, SMTP and Chromium helpers for tests and bench scripts.

Why this module exists: the suite must run on any machine that has the binaries, without relying
on (or disturbing) services that happen to run there. Each helper starts its own server on a free
loopback port, waits for a real readiness condition under a deadline (never a fixed sleep), and
removes everything it created afterwards. It deliberately does not import pytest, so bench
scripts can use the very same code.

Two kinds of failure are kept apart on purpose:

* ``ServerUnavailable`` -- the binary/library is not installed here. Fixtures turn this into a
  skip (which the CI guard turns into a failure).
* ``ServerStartError`` -- the binary exists but the server did not come up. That is a real error
  and carries the tail of the server's log.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any, Self

__all__ = [
    "CHROMIUM_ARGS",
    "CHROMIUM_HEADLESS_ARGS",
    "PostgresServer",
    "RedisServer",
    "ServerStartError",
    "ServerUnavailable",
    "SmtpEnvelope",
    "SmtpSink",
    "chromium_executable",
    "free_port",
    "postgres_server",
    "redis_server",
    "smtp_server",
]

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 60.0  # a busy CI machine (two test processes on two cores) starts servers slowly
STOP_TIMEOUT = 10.0
_PORT_ATTEMPTS = 3  # free_port() is racy by nature; retry a start whose port got taken.

PG_USER = "fieldreport"
PG_DATABASE = "fieldreport_test"
# Where distributions put the server binaries when they are not on PATH (Debian/Ubuntu, RHEL).
PG_BIN_GLOBS: tuple[str, ...] = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin")
REDIS_CANDIDATES: tuple[str, ...] = (
    "/usr/bin/redis-server",
    "/usr/local/bin/redis-server",
    "/usr/sbin/redis-server",
)

# Flags that make Debian's Chromium behave on a closed, GPU-less machine running as root.
# Playwright adds --headless itself, so it is not in CHROMIUM_ARGS; use CHROMIUM_HEADLESS_ARGS
# when launching the binary directly. Without the background-networking flags Chromium keeps
# trying to reach Google's hosts, which this network refuses.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
CHROMIUM_HEADLESS_ARGS: tuple[str, ...] = ("--headless", *CHROMIUM_ARGS)


class ServerUnavailable(RuntimeError):
    """The binary or library needed for a server is not installed on this machine."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ServerStartError(RuntimeError):
    """The server's binary exists but the server did not become ready."""


# --------------------------------------------------------------------------------------------
# Small shared helpers
# --------------------------------------------------------------------------------------------


def free_port(host: str = LOOPBACK) -> int:
    """Return a TCP port that is free on *host* right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _log_tail(path: Path | None, lines: int = 30) -> str:
    if path is None or not path.exists():
        return "(no log)"
    text = path.read_text(encoding="utf-8", errors="replace").rstrip()
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(log is empty)"


def _port_in_use_logged(path: Path | None) -> bool:
    tail = _log_tail(path, 60).lower()
    return "address already in use" in tail or "could not bind" in tail


def _poll_until(
    ready: Callable[[], bool],
    *,
    timeout: float,
    proc: subprocess.Popen[bytes] | None,
    what: str,
    log: Path | None,
) -> None:
    """Wait for *ready* with a deadline, failing fast (with the log tail) if *proc* dies."""
    deadline = time.monotonic() + timeout
    interval = 0.005
    while True:
        if proc is not None and proc.poll() is not None:
            raise ServerStartError(
                f"{what} exited with code {proc.returncode} before it was ready.\n"
                f"--- last lines of the server log ---\n{_log_tail(log)}"
            )
        if ready():
            return
        if time.monotonic() >= deadline:
            raise ServerStartError(
                f"{what} was not ready within {timeout:.0f} s.\n"
                f"--- last lines of the server log ---\n{_log_tail(log)}"
            )
        # Polling back-off, not a fixed sleep: we re-check the condition every few ms.
        time.sleep(interval)
        interval = min(interval * 2, 0.1)


def _stop_process(proc: subprocess.Popen[bytes] | None, sig: int, timeout: float) -> None:
    """Send *sig*, wait up to *timeout*, then SIGKILL as the last resort."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()  # postgres backends notice their postmaster's death and exit by themselves
        proc.wait(timeout)


def _clean_env(**extra: str) -> dict[str, str]:
    """Child environment without PG* variables that could redirect or alter our clients."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({"LC_ALL": "C", "LANG": "C"})  # English log text, so failures are recognisable.
    env.update(extra)
    return env


def _is_executable(path: str | Path) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Account:
    """An unprivileged OS account to run initdb/postgres, which refuse to run as root."""

    name: str
    uid: int
    gid: int

    def popen_kwargs(self) -> dict[str, Any]:
        # extra_groups=[] drops root's supplementary groups (group 0 would otherwise remain).
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def _postgres_account() -> _Account | None:
    if os.geteuid() != 0:
        return None
    for name in (os.environ.get("TEST_PG_OS_USER"), "postgres", "nobody"):
        if not name:
            continue
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return _Account(name, entry.pw_uid, entry.pw_gid)
    raise ServerUnavailable(
        "running as root, and PostgreSQL refuses root: no 'postgres' or 'nobody' account exists "
        "(set TEST_PG_OS_USER to an unprivileged account)"
    )


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path))


def pg_bindir() -> Path:
    """Find a directory holding both ``initdb`` and ``postgres``.

    Order: ``$TEST_PG_BINDIR`` (exclusively, if set), the real directory of ``initdb`` on PATH,
    then the distributions' versioned directories, newest version first.
    """
    explicit = os.environ.get("TEST_PG_BINDIR")
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    else:
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(Path(os.path.realpath(on_path)).parent)
            candidates.append(Path(on_path).parent)
        for pattern in PG_BIN_GLOBS:
            candidates.extend(Path(p) for p in sorted(glob.glob(pattern), key=_version_key)[::-1])
    for directory in candidates:
        if _is_executable(directory / "initdb") and _is_executable(directory / "postgres"):
            return directory
    where = f"TEST_PG_BINDIR={explicit}" if explicit else "PATH or " + ", ".join(PG_BIN_GLOBS)
    raise ServerUnavailable(
        f"PostgreSQL server binaries (initdb, postgres) not found in {where}; install the "
        "PostgreSQL server package or set TEST_DATABASE_URL to an existing database"
    )


def _private_tempdir(prefix: str, account: _Account | None) -> Path:
    """A fresh temp dir owned by *account*; falls back to /tmp if $TMPDIR is not reachable."""
    bases = list(dict.fromkeys([tempfile.gettempdir(), "/tmp", "/var/tmp"]))
    for base in bases:
        if not os.path.isdir(base):
            continue
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
        if account is None:
            return path
        os.chown(path, account.uid, account.gid)
        probe = subprocess.run(["test", "-w", str(path)], check=False, **account.popen_kwargs())
        if probe.returncode == 0:
            return path
        shutil.rmtree(path, ignore_errors=True)
    raise ServerUnavailable(f"no temp directory writable by OS user {account and account.name}")


class PostgresServer:
    """A throwaway PostgreSQL cluster: initdb into a temp dir, postgres on a free port.

    Durability is switched off (fsync, full_page_writes, synchronous_commit) because the data
    is thrown away; it listens on 127.0.0.1 only, with its unix socket inside the temp dir so it
    never collides with a system server.
    """

    def __init__(self, *, port: int | None = None, database: str = PG_DATABASE) -> None:
        self.bindir = pg_bindir()
        self.account = _postgres_account()
        self.host = LOOPBACK
        self.port = port or 0
        self._fixed_port = port is not None
        self.database = database
        self.base_dir: Path | None = None
        self.data_dir: Path | None = None
        self.log_path: Path | None = None
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """SQLAlchemy URL for the psycopg 3 driver (trust auth, so no password)."""
        return f"postgresql+psycopg://{PG_USER}@{self.host}:{self.port}/{self.database}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _run(self, cmd: list[str], what: str, stdin: bytes | None = None) -> None:
        account = self.account.popen_kwargs() if self.account else {}
        try:
            done = subprocess.run(
                cmd,
                input=stdin,
                capture_output=True,
                cwd=self.base_dir,
                env=_clean_env(),
                timeout=START_TIMEOUT,
                check=False,
                **account,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServerStartError(f"{what} timed out after {START_TIMEOUT:.0f} s") from exc
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace").strip()
            tail = "\n".join(output.splitlines()[-30:])
            raise ServerStartError(f"{what} failed (exit {done.returncode}):\n{tail}")

    def start(self, timeout: float = START_TIMEOUT) -> Self:
        """Create the cluster (first time only) and start the server; no-op if running.

        On any failure everything created so far is removed before the error propagates.
        """
        if self.running:
            return self
        began = time.monotonic()
        first = self.base_dir is None
        try:
            if first:
                self._init_cluster()
            # Only the first start may move to another port; a restart keeps the URL.
            attempts = _PORT_ATTEMPTS if (first and not self._fixed_port) else 1
            for attempt in range(1, attempts + 1):
                if first and not self._fixed_port:
                    self.port = free_port()
                try:
                    self._start_postmaster(timeout)
                    break
                except ServerStartError:
                    if attempt == attempts or not _port_in_use_logged(self.log_path):
                        raise
            if first:
                self._create_database()
        except BaseException:
            self.close()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _init_cluster(self) -> None:
        self.base_dir = _private_tempdir("fieldreport-pg-", self.account)
        self.data_dir = self.base_dir / "data"
        self.log_path = self.base_dir / "postgres.log"
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "--auth=trust",
                f"--username={PG_USER}",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            "initdb",
        )

    def _start_postmaster(self, timeout: float) -> None:
        assert self.base_dir is not None and self.data_dir is not None
        assert self.log_path is not None
        settings = {
            "listen_addresses": self.host,
            "unix_socket_directories": str(self.base_dir),
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
            "wal_level": "minimal",
            "max_wal_senders": "0",
            "logging_collector": "off",
        }
        cmd = [str(self.bindir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        account = self.account.popen_kwargs() if self.account else {}
        # Deliberately NOT start_new_session: staying in the test run's process group means a
        # Ctrl-C or a group kill (CI timeout) takes the servers down too instead of orphaning them.
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.base_dir,
                env=_clean_env(),
                **account,
            )
        pid_file = self.data_dir / "postmaster.pid"

        def ready() -> bool:
            # pg_ctl -w's criterion: line 8 of postmaster.pid says "ready"; then TCP must accept.
            try:
                lines = pid_file.read_text().splitlines()
            except OSError:
                return False
            return len(lines) >= 8 and lines[7].strip() == "ready" and self._tcp_ready()

        try:
            _poll_until(ready, timeout=timeout, proc=self._proc, what="postgres", log=self.log_path)
        except ServerStartError:
            _stop_process(self._proc, signal.SIGQUIT, STOP_TIMEOUT)
            self._proc = None
            raise

    def _tcp_ready(self) -> bool:
        return _port_accepts(self.host, self.port)

    def _create_database(self) -> None:
        createdb = self.bindir / "createdb"
        if not _is_executable(createdb):
            createdb = Path(shutil.which("createdb") or "")
        if _is_executable(createdb):
            self._run(
                [
                    str(createdb),
                    "-h",
                    self.host,
                    "-p",
                    str(self.port),
                    "-U",
                    PG_USER,
                    self.database,
                ],
                "createdb",
            )
            return
        try:
            import psycopg  # optional: only needed when createdb is missing
        except ImportError as exc:
            raise ServerUnavailable("neither createdb nor psycopg is available") from exc
        dsn = f"host={self.host} port={self.port} user={PG_USER} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self) -> None:
        """Immediate shutdown: SIGQUIT is exactly what ``pg_ctl stop -m immediate`` sends."""
        _stop_process(self._proc, signal.SIGQUIT, STOP_TIMEOUT)
        self._proc = None

    def close(self) -> None:
        """Stop the server and delete the cluster directory."""
        try:
            self.stop()
        finally:
            if self.base_dir is not None:
                shutil.rmtree(self.base_dir, ignore_errors=True)
                self.base_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@contextlib.contextmanager
def postgres_server(*, timeout: float = START_TIMEOUT) -> Iterator[str]:
    """Yield the SQLAlchemy URL of a fresh cluster with database ``fieldreport_test``."""
    server = PostgresServer().start(timeout)  # start() cleans up after itself on failure
    try:
        yield server.url
    finally:
        server.close()


# --------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------


def redis_executable() -> str:
    """``$TEST_REDIS_SERVER``, else ``redis-server`` on PATH or in the usual places."""
    explicit = os.environ.get("TEST_REDIS_SERVER")
    if explicit:
        found = explicit if _is_executable(explicit) else shutil.which(explicit)
        if not found:
            raise ServerUnavailable(f"TEST_REDIS_SERVER={explicit!r} is not an executable")
        return found
    found = shutil.which("redis-server")
    if found:
        return found
    for candidate in REDIS_CANDIDATES:
        if _is_executable(candidate):
            return candidate
    raise ServerUnavailable(
        "redis-server not found on PATH or in /usr/bin, /usr/local/bin, /usr/sbin; install "
        "redis-server or set TEST_REDIS_URL"
    )


def _redis_ping(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A throwaway redis-server that can be stopped and started again on the SAME port.

    Why a class: tests stop Redis in the middle of a request to check the app's behaviour and
    then start it again; the URL must stay valid across that. Nothing is persisted
    (``--save "" --appendonly no``), so a restart comes back empty.
    """

    def __init__(self, *, port: int | None = None, executable: str | None = None) -> None:
        self.executable = executable or redis_executable()
        self.host = LOOPBACK
        self.port = port or free_port()
        self._fixed_port = port is not None
        self.base_dir: Path | None = None
        self.log_path: Path | None = None
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._started_once = False

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<RedisServer {self.url} {state}>"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = START_TIMEOUT) -> Self:
        """Start (or restart) the server on ``self.port``; no-op if it is already running."""
        if self.running:
            return self
        began = time.monotonic()
        if self.base_dir is None:
            self.base_dir = Path(tempfile.mkdtemp(prefix="fieldreport-redis-"))
            self.log_path = self.base_dir / "redis.log"
        # Only the very first start may move to another port; a restart must keep the URL.
        attempts = 1 if (self._fixed_port or self._started_once) else _PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                self._spawn(timeout)
                break
            except ServerStartError:
                if attempt == attempts or not _port_in_use_logged(self.log_path):
                    raise
                self.port = free_port()
        self._started_once = True
        self.startup_seconds = time.monotonic() - began
        return self

    def _spawn(self, timeout: float) -> None:
        assert self.base_dir is not None and self.log_path is not None
        cmd = [
            self.executable,
            "--port",
            str(self.port),
            "--bind",
            self.host,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.base_dir),
            "--daemonize",
            "no",
            "--logfile",
            "",
        ]
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.base_dir,
            )
        try:
            _poll_until(
                lambda: _redis_ping(self.host, self.port),
                timeout=timeout,
                proc=self._proc,
                what=f"redis-server on port {self.port}",
                log=self.log_path,
            )
        except ServerStartError:
            _stop_process(self._proc, signal.SIGKILL, STOP_TIMEOUT)
            self._proc = None
            raise

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server; afterwards connections to the port are refused.

        ``kill=True`` simulates a crash (SIGKILL) instead of a clean SIGTERM shutdown.
        """
        _stop_process(self._proc, signal.SIGKILL if kill else signal.SIGTERM, STOP_TIMEOUT)
        self._proc = None

    def close(self) -> None:
        """Stop the server and delete its directory."""
        try:
            self.stop()
        finally:
            if self.base_dir is not None:
                shutil.rmtree(self.base_dir, ignore_errors=True)
                self.base_dir = None

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def redis_server(*, port: int | None = None) -> RedisServer:
    """Return a (not yet started) ``RedisServer``; ``with redis_server() as srv:`` starts it.

    ``srv.url`` is ``redis://127.0.0.1:PORT/0`` and ``str(srv)`` gives the same URL.
    """
    return RedisServer(port=port)


# --------------------------------------------------------------------------------------------
# SMTP
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpEnvelope:
    """SMTP envelope of one delivery (Bcc recipients appear only here, not in headers)."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes = field(repr=False)


class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback that keeps every message it receives.

    ``messages`` holds ``email.message.EmailMessage`` objects parsed with ``policy.default``
    so tests can use ``get_content()``, ``iter_attachments()`` etc.
    """

    def __init__(self, *, host: str = LOOPBACK, port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._fixed_port = port is not None
        self.messages: list[EmailMessage] = []
        self.envelopes: list[SmtpEnvelope] = []
        self.startup_seconds: float | None = None
        self._cond = threading.Condition()
        self._controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd handler hook (runs on the controller's thread)."""
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        with self._cond:
            self.messages.append(message)
            self.envelopes.append(SmtpEnvelope(envelope.mail_from, list(envelope.rcpt_tos), raw))
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def start(self, timeout: float = START_TIMEOUT) -> Self:
        try:
            from aiosmtpd.controller import Controller  # optional dependency
        except ImportError as exc:
            raise ServerUnavailable("aiosmtpd is not installed (pip install aiosmtpd)") from exc
        began = time.monotonic()
        attempts = 1 if self._fixed_port else _PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            # server_hostname avoids socket.getfqdn(), a DNS lookup that can hang offline.
            controller = Controller(
                self,
                hostname=self.host,
                port=self.port,
                ready_timeout=timeout,
                server_hostname="fieldreport-test-smtp",
            )
            try:
                controller.start()
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or attempt == attempts:
                    raise ServerStartError(f"SMTP sink could not start: {exc}") from exc
                self.port = free_port(self.host)
                continue
            except Exception as exc:
                raise ServerStartError(f"SMTP sink could not start: {exc!r}") from exc
            self._controller = controller
            break
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        if self._controller is not None:
            with contextlib.suppress(Exception):
                self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()
            self.envelopes.clear()

    def wait_for(self, count: int = 1, timeout: float = START_TIMEOUT) -> list[EmailMessage]:
        """Block until at least *count* messages arrived; return a snapshot of all of them."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= count, timeout):
                subjects = [m.get("Subject") for m in self.messages]
                raise TimeoutError(
                    f"expected {count} message(s) within {timeout:.0f} s on "
                    f"{self.host}:{self.port}, got {len(self.messages)}: {subjects}"
                )
            return list(self.messages)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def smtp_server() -> Iterator[SmtpSink]:
    """Yield a started ``SmtpSink``; it is stopped on exit."""
    with SmtpSink() as sink:
        yield sink


# --------------------------------------------------------------------------------------------
# Chromium
# --------------------------------------------------------------------------------------------


def chromium_executable() -> str:
    """``$CHROMIUM_PATH``, else Debian's /usr/bin/chromium, else ``chromium`` on PATH."""
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        found = explicit if _is_executable(explicit) else shutil.which(explicit)
        if not found:
            raise ServerUnavailable(f"CHROMIUM_PATH={explicit!r} is not an executable")
        return found
    if _is_executable("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    found = shutil.which("chromium")
    if found:
        return found
    raise ServerUnavailable(
        "Chromium not found (looked at $CHROMIUM_PATH, /usr/bin/chromium, PATH); install "
        "Debian's chromium package or set CHROMIUM_PATH"
    )
