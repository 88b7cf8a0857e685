"""The ``fieldreport`` command (also ``flask --app fieldreport …``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from fieldreport.accounts.roles import ROLES
from fieldreport.config import SettingsError, load_settings
from fieldreport.logs import setup_logging
from fieldreport.runtime import Runtime, build_runtime, set_process_default

RUN_THREADS = 8


def _runtime() -> Runtime:
    try:
        runtime = build_runtime(load_settings())
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    set_process_default(runtime)
    return runtime


def _migrate(runtime: Runtime) -> None:
    from fieldreport.migrate import upgrade

    upgrade(runtime.db)


def _check_totp_key(runtime: Runtime) -> None:
    """The start-up check of the two-step log-in key (and sealing of clear secrets), with the
    operator's words when it refuses (accounts/totp_startup.py)."""
    from fieldreport.accounts.totp_sealing import TotpKeyError
    from fieldreport.accounts.totp_startup import prepare_key

    try:
        with runtime.db.session_scope() as session:
            prepare_key(session, runtime.settings.data_dir)
    except TotpKeyError as error:
        raise click.ClickException(str(error)) from None


def _print_accounts(runtime: Runtime, created: list[str] | None) -> None:
    """Passwords go to the terminal once, when the demo is made; later runs name the file."""
    from fieldreport.demo import CREDENTIALS_FILE

    path = runtime.settings.data_dir / CREDENTIALS_FILE
    if created:
        click.echo("Demo accounts (username, role, password), shown this once:")
        click.echo("\n".join(created))
        click.echo(f"(kept for you, readable by you only, in {path})")
    elif path.exists():
        click.echo(f"Demo accounts: the passwords are in {path}")


def _ensure_demo(runtime: Runtime) -> list[str] | None:
    """The printed lines of a demo made now; None when the database had users already."""
    from fieldreport.demo import create_demo, has_users

    with runtime.db.session_scope() as session:
        if has_users(session):
            return None
        return create_demo(session, runtime.settings.data_dir, runtime.settings.parties)


@click.group(help="fieldreport: reports of a ceasefire monitoring mission.")
def main() -> None:
    setup_logging()


@main.command("init-db", help="Create the database or migrate it to the newest schema.")
def init_db() -> None:
    runtime = _runtime()
    _migrate(runtime)
    _check_totp_key(runtime)
    click.echo(f"Database ready: {runtime.db.engine.url.render_as_string(hide_password=True)}")


@main.command(help="Create the demo mission (sectors, one account per role, some reports).")
def demo() -> None:
    runtime = _runtime()
    _migrate(runtime)
    created = _ensure_demo(runtime)
    if created is None:
        click.echo("The database has users already; no demo data added.")
    _print_accounts(runtime, created)


@main.command(help="Serve the app (embedded default: SQLite, files on disk, jobs in-process).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    from fieldreport.accounts.totp_sealing import TotpKeyError
    from fieldreport.web.app import build_app

    runtime = _runtime()
    _migrate(runtime)
    created = _ensure_demo(runtime)  # only on an empty database, which holds no sealed secret
    if created is not None:
        click.echo("Empty database: created the demo mission.")
    _print_accounts(runtime, created)
    try:
        app = build_app(runtime.settings, runtime)  # checks the two-step log-in key, once
    except TotpKeyError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"fieldreport on http://{host}:{port}/ (queue: {runtime.queue.mode})")
    # A production WSGI server in one process, so that in-process jobs and the periodic sweep
    # live beside the requests (several processes would each run their own: use Redis then).
    from waitress import serve

    serve(
        app,
        host=host,
        port=port,
        threads=RUN_THREADS,
        ident="fieldreport",
        max_request_body_size=runtime.settings.max_request_bytes,
    )


@main.command("create-user", help="Create an account.")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--team", default=None, help="Team code (observers), e.g. T-07.")
@click.option("--name", default=None, help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(
    username: str, role: str, team: str | None, name: str | None, password_stdin: bool
) -> None:
    from fieldreport.accounts.service import AccountError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    runtime = _runtime()
    _migrate(runtime)
    try:
        with runtime.db.session_scope() as session:
            create_user(
                session, username, role=role, password=password, team_code=team, display_name=name
            )
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {role} {username.lower()}.")


@main.command("reset-two-factor", help="Turn two-step log-in off for every user (a lost key).")
@click.option("--all", "everyone", is_flag=True, required=True, help="Every user: say it.")
def reset_two_factor(everyone: bool) -> None:
    from fieldreport.accounts.two_factor import reset_everyone
    from fieldreport.db import utcnow

    runtime = _runtime()
    _migrate(runtime)
    with runtime.db.session_scope() as session:
        count = reset_everyone(session, utcnow(), by="command line")
    click.echo(f"Two-step log-in reset for {count} users; they set it up again at log-in.")


@main.command("import-sectors", help="Import sectors from a GeoJSON FeatureCollection.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_sectors(path: Path) -> None:
    from fieldreport.sectors.geojson import DOCUMENT, SectorImportError
    from fieldreport.sectors.import_limits import ImportLimits
    from fieldreport.sectors.service import import_sector_collection

    runtime = _runtime()
    _migrate(runtime)
    try:
        with runtime.db.session_scope() as session:
            outcome = import_sector_collection(
                session,
                path.read_bytes(),
                queue=runtime.queue,
                limits=ImportLimits.of(runtime.settings),
            )
    except SectorImportError as error:
        for problem in error.problems:
            where = "file" if problem.feature == DOCUMENT else f"feature {problem.feature}"
            click.echo(f"{where}: {problem.reason}", err=True)
        raise click.ClickException("nothing imported") from None
    runtime.queue.drain()
    click.echo(f"Imported {outcome.count} sectors (existing codes updated); reports re-derived.")


@main.command(help="Run an RQ worker (needs REDIS_URL).")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(burst: bool) -> None:
    # The worker process is its own program (``python -m worker``): this command becomes it.
    if not _runtime().settings.redis_url:
        raise click.ClickException("REDIS_URL is not set: without it jobs run inside the app.")
    arguments = [sys.executable, "-m", "worker", *(["--burst"] if burst else [])]
    os.execv(sys.executable, arguments)  # noqa: S606 (our own interpreter, fixed arguments)


@main.command(help="Build a day's digest and wait for it.")
@click.option("--day", required=True, help="YYYY-MM-DD, a day in the commission's time zone.")
def digest(day: str) -> None:
    from datetime import date

    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--day") from None
    runtime = _runtime()
    _migrate(runtime)
    from fieldreport.digests.service import get_digest
    from fieldreport.digests.tasks import build_and_wait

    click.echo(build_and_wait(runtime, parsed))
    with runtime.db.session_scope(write=False) as session:
        digest = get_digest(session, parsed)
        built = digest is not None and digest.state in ("ready", "sending", "sent")
    if not built:
        sys.exit(1)


@main.command(help="Check the evidence log against every report, photo, decision and digest.")
def verify() -> None:
    from fieldreport.ledger.verify import verify_all

    runtime = _runtime()
    with runtime.db.session_scope(write=False) as session:
        outcome = verify_all(session, runtime.storage, runtime.settings.data_dir)
    click.echo(", ".join(f"{n} {what}" for what, n in outcome.counts.items()) + " checked.")
    if outcome.clean:
        click.echo("The log and everything it records match.")
        return
    click.echo(f"First mismatch: {outcome.problems[0]}")
    for problem in outcome.problems[1:]:
        click.echo(f"  also: {problem}")
    sys.exit(1)


@main.command("ledger-backfill", help="Log what was recorded before the evidence log existed.")
def ledger_backfill() -> None:
    from fieldreport.ledger.backfill import backfill
    from fieldreport.ledger.heads import sign_head

    runtime = _runtime()
    _migrate(runtime)
    with runtime.db.session_scope() as session:
        added = backfill(session)
        head = sign_head(session, runtime.settings.data_dir)
    click.echo(f"Logged: {added or 'nothing was missing'}; signed head of {head.tree_size}.")


@main.command("rotate-key", help="Make a new mission signing key, announced by the old one.")
def rotate_key() -> None:
    from fieldreport.ledger.keys import grouped, rotate

    old, new = rotate(_runtime().settings.data_dir)
    click.echo(f"Old key: {grouped(old)}\nNew key: {grouped(new)} (announced by the old key)")


@main.command("verify-package", help="Check an evidence package offline (no server needed).")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_package(path: Path) -> None:
    import runpy

    from fieldreport.config import PROJECT_ROOT

    script = PROJECT_ROOT / "tools" / "verify_package.py"
    if not script.exists():
        raise click.ClickException(f"{script} is missing: it ships with the repository.")
    sys.exit(runpy.run_path(str(script))["verify"](str(path)))


if __name__ == "__main__":
    main()
