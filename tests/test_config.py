"""The app's public address (``FIELDREPORT_PUBLIC_URL``): what links in mail are built on,
checked once at start; a value that would make broken links stops the app with the reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fieldreport.config import PROJECT_ROOT, SettingsError, load_settings


def settings_with(tmp_path: Path, value: str | None) -> object:
    env = {"FIELDREPORT_DATA_DIR": str(tmp_path / "data")}
    if value is not None:
        env["FIELDREPORT_PUBLIC_URL"] = value
    return load_settings(env)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("https://fieldreport.example.org", "https://fieldreport.example.org"),
        ("https://fieldreport.example.org/", "https://fieldreport.example.org"),
        (" http://10.0.0.5:8080/mission// ", "http://10.0.0.5:8080/mission"),
        ("HTTPS://fieldreport.example.org/fr", "https://fieldreport.example.org/fr"),
    ],
)
def test_a_public_address_is_kept_without_its_trailing_slash(tmp_path, value, stored):
    settings = settings_with(tmp_path, value)
    assert settings.public_url == stored
    assert settings.public_link("/reports/12") == f"{stored}/reports/12"


@pytest.mark.parametrize("value", [None, "", "  "])
def test_without_a_public_address_there_are_no_links(tmp_path, value):
    settings = settings_with(tmp_path, value)
    assert settings.public_url is None and settings.public_link("/alerts") is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("fieldreport.example.org", "expected an http:// or https:// address"),
        ("/review", "expected an http:// or https:// address"),
        ("ftp://fieldreport.example.org", "expected an http:// or https:// address"),
        ("javascript:alert(1)", "expected an http:// or https:// address"),
        ("https://", "expected an http:// or https:// address"),
        ("https://fieldreport.example.org/?next=/", "no spaces, ?query or #fragment"),
        ("https://fieldreport.example.org/#top", "no spaces, ?query or #fragment"),
        ("https://fieldreport.example.org?", "no spaces, ?query or #fragment"),
        ("https://field report.example.org", "no spaces, ?query or #fragment"),
        ("https://fieldreport.example.org:99999", "not a web address"),
        ("https://[fieldreport", "not a web address"),
    ],
)
def test_a_bad_public_address_is_refused_naming_the_setting(tmp_path, value, reason):
    with pytest.raises(SettingsError) as refused:
        settings_with(tmp_path, value)
    assert str(refused.value).startswith("FIELDREPORT_PUBLIC_URL: ")
    assert reason in str(refused.value)


def test_an_address_with_a_password_is_refused_without_repeating_it(tmp_path):
    with pytest.raises(SettingsError) as refused:
        settings_with(tmp_path, "https://admin:s3cret@fieldreport.example.org")
    assert "no user name or password" in str(refused.value)
    assert "s3cret" not in str(refused.value)


def test_an_override_is_held_to_the_same_rule(tmp_path):
    env = {"FIELDREPORT_DATA_DIR": str(tmp_path / "data")}
    assert load_settings(env, public_url="https://x.example/").public_url == "https://x.example"
    with pytest.raises(SettingsError):
        load_settings(env, public_url="x.example")


@pytest.mark.parametrize(
    ("command", "code"),
    [(["-m", "fieldreport.cli", "init-db"], 1), (["-m", "worker", "--burst"], 2)],
)
def test_the_app_and_the_worker_refuse_to_start_with_a_bad_public_address(tmp_path, command, code):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FIELDREPORT_")},
        "FIELDREPORT_DATA_DIR": str(tmp_path / "data"),
        "FIELDREPORT_PUBLIC_URL": "fieldreport.example.org",
        "REDIS_URL": "redis://127.0.0.1:9/0",
    }
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, *command],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = done.stdout + done.stderr
    assert done.returncode == code, said
    assert "FIELDREPORT_PUBLIC_URL: expected an http:// or https:// address" in said
    assert "Traceback" not in said
    assert not (tmp_path / "data" / "fieldreport.db").exists()  # refused before any work
