"""Settings: environment variables turned into one typed object, read once.

Nothing else in the code base reads ``os.environ``. Every setting has a safe default so that
``fieldreport run`` works on an empty machine (SQLite, files on disk, jobs in-process).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fieldreport.keyfiles import write_private

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KNOWN_DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


class SettingsError(ValueError):
    """A setting has a value the app cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    redis_url: str | None
    mission_name: str
    parties: tuple[str, ...]
    time_zone: str
    languages: tuple[str, ...]
    digest_recipients: tuple[str, ...]
    digest_hour: int
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_sender: str
    smtp_starttls: bool
    max_photo_bytes: int
    max_request_bytes: int
    max_photo_pixels: int
    photo_distance_flag_m: float
    photo_time_flag_hours: float
    map_tile_url: str
    accuracy_warning_m: float
    secure_cookies: bool
    testing: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)
    # How long a SQLite writer waits for the lock before the request answers 503.
    sqlite_busy_timeout_ms: int = 5000
    # Background jobs: how long one job may run, and how often the sweep re-enqueues missed work.
    job_timeout_s: int = 600
    job_heartbeat_s: int = 30
    sweep_interval_s: float = 300.0
    # Sector imports (file, API, command, drawing): bounded so one file cannot stall the locator.
    max_sector_features: int = 2000
    max_sector_vertices: int = 20_000  # per sector
    max_sector_total_vertices: int = 200_000  # in one import
    max_sector_import_bytes: int = 5 * 1024 * 1024
    # A session ends after this long without a request, and this long after its log-in. The
    # idle limit is long: an observer may be out of signal for a day or two.
    session_idle_hours: float = 72.0
    session_max_days: float = 14.0
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none).
    proxy_hops: int = 0
    # Roles that must log in with a second factor (a code from an authenticator app); other
    # roles may choose to. Empty: nobody must.
    two_factor_roles: tuple[str, ...] = ("coordinator", "commission", "admin")
    # Spot-report alerts: minutes an alert may stay unacknowledged before the admins are told,
    # and seconds between sweeps (escalations, and mail whose enqueue Redis lost).
    alert_escalate_minutes: float = 15.0
    alert_sweep_s: float = 30.0
    # The address people open the app at (``https://fieldreport.example.org``, no trailing
    # slash): links in mail are built on it. None: mail says in words where to go.
    public_url: str | None = None
    # /metrics: a scraper shows this bearer token (admins need none); None: admins only.
    metrics_token: str | None = None
    # Where every process of this machine keeps its metric values (prometheus_client reads the
    # same variable itself); None: each process answers for itself.
    metrics_multiprocess_dir: Path | None = None
    # One JSON line per request on standard error (fieldreport.logs).
    request_log: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def public_link(self, path: str) -> str | None:
        """``path`` (``/reports/12``) as a link a mail reader can open; None without a public
        address (a relative path is useless in a mail client: say where to go in words)."""
        return f"{self.public_url}{path}" if self.public_url else None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a number, got {raw!r}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}: expected true or false, got {raw!r}")


def _list(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in env.get(name, default).split(",") if part.strip())


def _database_url(env: Mapping[str, str], data_dir: Path) -> str:
    url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'fieldreport.db'}"
    scheme = url.split(":", 1)[0]
    if scheme not in KNOWN_DATABASE_SCHEMES:
        raise SettingsError(
            f"DATABASE_URL: unknown scheme {scheme!r} (use sqlite:///path or postgresql://…)"
        )
    if scheme == "postgresql":
        url = "postgresql+psycopg" + url[len("postgresql") :]
    return url


def _create_sqlite_file(url: str) -> None:
    """Create a new SQLite file readable by its owner only (SQLite gives its WAL and shared
    memory files the same mode); an existing file is left as it is."""
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not url.startswith("sqlite") or not path or path == ":memory:" or Path(path).exists():
        return
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _secret_key(env: Mapping[str, str], data_dir: Path) -> str:
    """Use SECRET_KEY, or one generated on first run and kept beside the data (mode 0600;
    several processes may start at once: fieldreport.keyfiles)."""
    if env.get("SECRET_KEY"):
        return env["SECRET_KEY"]
    path = data_dir / "secret_key"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(48).encode())
    return path.read_text().strip()


def _mission(env: Mapping[str, str]) -> dict[str, object]:
    time_zone = env.get("FIELDREPORT_TIME_ZONE", "UTC")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"FIELDREPORT_TIME_ZONE: unknown time zone {time_zone!r}") from None
    parties = _list(env, "FIELDREPORT_PARTIES", "Party A,Party B")
    if len(parties) < 2:
        raise SettingsError("FIELDREPORT_PARTIES: name at least two parties, comma-separated")
    return {
        "mission_name": env.get("FIELDREPORT_MISSION_NAME", "Ceasefire Monitoring Mission"),
        "parties": parties,
        "time_zone": time_zone,
        "languages": _list(env, "FIELDREPORT_LANGUAGES", "en,uk,ru"),
        "map_tile_url": env.get("FIELDREPORT_MAP_TILE_URL", ""),
        "accuracy_warning_m": _float(env, "FIELDREPORT_ACCURACY_WARNING_M", 100.0),
        "photo_distance_flag_m": _float(env, "FIELDREPORT_PHOTO_DISTANCE_FLAG_M", 2000.0),
        "photo_time_flag_hours": _float(env, "FIELDREPORT_PHOTO_TIME_FLAG_HOURS", 6.0),
    }


PUBLIC_URL = "FIELDREPORT_PUBLIC_URL"


def check_public_url(raw: str) -> str:
    """The app's public address, checked and without a trailing slash (links add the path).

    An http(s) address with a host, optionally a path prefix (``https://example.org/fr``); no
    query, fragment or user name, which would break or leak in every link built on it.
    """
    example = "such as https://fieldreport.example.org"
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018  (raises ValueError for a port that is not one)
    except ValueError:
        raise SettingsError(f"{PUBLIC_URL}: not a web address ({example})") from None
    if parts.username is not None or parts.password is not None:
        # The value is not echoed: it holds a password.
        raise SettingsError(f"{PUBLIC_URL}: no user name or password in the address ({example})")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            f"{PUBLIC_URL}: expected an http:// or https:// address {example}, got {raw!r}"
        )
    if parts.query or parts.fragment or raw.endswith(("?", "#")) or any(c.isspace() for c in raw):
        raise SettingsError(
            f"{PUBLIC_URL}: no spaces, ?query or #fragment in the address ({example}), got {raw!r}"
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _public_url(env: Mapping[str, str]) -> dict[str, object]:
    raw = env.get(PUBLIC_URL, "").strip()
    return {"public_url": check_public_url(raw) if raw else None}


def _mail(env: Mapping[str, str]) -> dict[str, object]:
    """The daily digest's recipients, hour and mail server."""
    return {
        "digest_recipients": _list(env, "FIELDREPORT_DIGEST_RECIPIENTS", ""),
        "digest_hour": _int(env, "FIELDREPORT_DIGEST_HOUR", 6),
        "smtp_host": env.get("SMTP_HOST") or None,
        "smtp_port": _int(env, "SMTP_PORT", 25),
        "smtp_user": env.get("SMTP_USER") or None,
        "smtp_password": env.get("SMTP_PASSWORD") or None,
        "smtp_sender": env.get("SMTP_SENDER", "fieldreport@localhost"),
        "smtp_starttls": _bool(env, "SMTP_STARTTLS", False),
    }


def _limits(env: Mapping[str, str]) -> dict[str, object]:
    """Upload and import sizes: what one request or file may cost the server."""
    return {
        "max_photo_bytes": _int(env, "FIELDREPORT_MAX_PHOTO_BYTES", 20 * 1024 * 1024),
        "max_request_bytes": _int(env, "FIELDREPORT_MAX_REQUEST_BYTES", 64 * 1024 * 1024),
        "max_photo_pixels": _int(env, "FIELDREPORT_MAX_PHOTO_PIXELS", 40_000_000),
        "max_sector_features": _int(env, "FIELDREPORT_MAX_SECTOR_FEATURES", 2000),
        "max_sector_vertices": _int(env, "FIELDREPORT_MAX_SECTOR_VERTICES", 20_000),
        "max_sector_total_vertices": _int(env, "FIELDREPORT_MAX_SECTOR_TOTAL_VERTICES", 200_000),
        "max_sector_import_bytes": _int(
            env, "FIELDREPORT_MAX_SECTOR_IMPORT_BYTES", 5 * 1024 * 1024
        ),
    }


def _jobs(env: Mapping[str, str]) -> dict[str, object]:
    return {
        "sqlite_busy_timeout_ms": _int(env, "FIELDREPORT_SQLITE_BUSY_TIMEOUT_MS", 5000),
        "job_timeout_s": _int(env, "FIELDREPORT_JOB_TIMEOUT_S", 600),
        "job_heartbeat_s": _int(env, "FIELDREPORT_JOB_HEARTBEAT_S", 30),
        "sweep_interval_s": _float(env, "FIELDREPORT_SWEEP_INTERVAL_S", 300.0),
    }


def _security(env: Mapping[str, str]) -> dict[str, object]:
    """Cookies, sessions, proxies and who must use two-step log-in."""
    proxy_hops = _int(env, "FIELDREPORT_PROXY_HOPS", 0)
    if proxy_hops < 0:
        raise SettingsError("FIELDREPORT_PROXY_HOPS: 0 or more")
    return {
        "secure_cookies": _bool(env, "FIELDREPORT_SECURE_COOKIES", False),
        "session_idle_hours": _float(env, "FIELDREPORT_SESSION_IDLE_HOURS", 72.0),
        "session_max_days": _float(env, "FIELDREPORT_SESSION_MAX_DAYS", 14.0),
        "proxy_hops": proxy_hops,
        "two_factor_roles": _list(
            env, "FIELDREPORT_TWO_FACTOR_ROLES", "coordinator,commission,admin"
        ),
    }


def _alerts(env: Mapping[str, str]) -> dict[str, object]:
    return {
        "alert_escalate_minutes": _float(env, "FIELDREPORT_ALERT_ESCALATE_MINUTES", 15.0),
        "alert_sweep_s": _float(env, "FIELDREPORT_ALERT_SWEEP_S", 30.0),
    }


def _observability(env: Mapping[str, str]) -> dict[str, object]:
    """Metrics (README, "Metrics") and the request log."""
    directory = env.get("PROMETHEUS_MULTIPROC_DIR") or None
    if directory and not Path(directory).is_dir():
        raise SettingsError(f"PROMETHEUS_MULTIPROC_DIR: {directory!r} is not a directory")
    return {
        "metrics_token": env.get("FIELDREPORT_METRICS_TOKEN") or None,
        "metrics_multiprocess_dir": Path(directory) if directory else None,
        "request_log": _bool(env, "FIELDREPORT_REQUEST_LOG", True),
    }


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build the settings from ``env`` (default: the process environment).

    ``overrides`` replace single fields; tests use them instead of touching the environment.
    """
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("FIELDREPORT_DATA_DIR") or PROJECT_ROOT / "instance").resolve()
    # Photos, the database and the secret key are for this service's user only.
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": _database_url(env, data_dir),
        "secret_key": _secret_key(env, data_dir),
        "redis_url": env.get("REDIS_URL") or None,
        "testing": _bool(env, "FIELDREPORT_TESTING", False),
        **_mission(env),
        **_public_url(env),
        **_mail(env),
        **_limits(env),
        **_jobs(env),
        **_security(env),
        **_alerts(env),
        **_observability(env),
    }
    values.update(overrides)
    if values["proxy_hops"] < 0:  # type: ignore[operator]  (an override, tests)
        raise SettingsError("FIELDREPORT_PROXY_HOPS: 0 or more")
    if values["public_url"]:  # an override (tests) is held to the same rule
        values["public_url"] = check_public_url(str(values["public_url"]))
    _create_sqlite_file(str(values["database_url"]))
    return Settings(**values)  # type: ignore[arg-type]
