"""The house rules hold themselves: import contracts, no cycles, every module classified.

``lint-imports`` runs in ./scripts/test; these tests make sure its contracts can fail and cover
every module, and that no import cycle comes back (docs/architecture.md, "Layers").
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EDGE_PACKAGES = ("fieldreport.web", "fieldreport.api")
EDGE_MODULES = ("fieldreport", "fieldreport.cli")


def _load_code_shape():
    spec = importlib.util.spec_from_file_location("code_shape", ROOT / "bench" / "code_shape.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("code_shape", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def _below_edge_patterns() -> list[str]:
    (contract,) = [c for c in _contracts() if c["name"].startswith("Below the web edge")]
    return contract["source_modules"]


def _matches(module: str, pattern: str) -> bool:
    parts, wanted = module.split("."), pattern.split(".")
    return len(parts) == len(wanted) and all(
        w in ("*", p) for p, w in zip(parts, wanted, strict=True)
    )


def _is_edge(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return (
        module in EDGE_MODULES
        or module.startswith(EDGE_PACKAGES)
        or last == "forms"
        or "views" in last
        or last.startswith("view_")
    )


def _fieldreport_modules() -> list[str]:
    modules = []
    for path in sorted((ROOT / "fieldreport").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
            if len(parts) > 1:
                continue  # an empty domain package: nothing to classify
        modules.append(".".join(parts))
    return modules


def test_every_module_is_either_the_web_edge_or_bound_by_the_no_flask_contract():
    patterns = _below_edge_patterns()
    unclassified = [
        module
        for module in _fieldreport_modules()
        if not _is_edge(module) and not any(_matches(module, p) for p in patterns)
    ]
    assert unclassified == [], "add these to the no-Flask contract in pyproject.toml"


def test_the_code_has_no_import_cycle():
    assert _load_code_shape().import_cycles(ROOT) == []


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    for name in ("fieldreport", "worker"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    linter = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(linter), "--no-cache"], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_contracts_hold_and_break_when_a_service_imports_flask(repo_copy: Path):
    assert _lint_imports(repo_copy).returncode == 0
    service = repo_copy / "fieldreport" / "reports" / "service.py"
    service.write_text(service.read_text() + "\nimport flask  # noqa\n")
    broken = _lint_imports(repo_copy)
    assert broken.returncode == 1
    assert "BROKEN" in broken.stdout and "fieldreport.reports.service -> flask" in broken.stdout


def test_contracts_break_when_a_model_imports_a_service(repo_copy: Path):
    models = repo_copy / "fieldreport" / "review" / "models.py"
    models.write_text(models.read_text() + "\nimport fieldreport.review.service  # noqa\n")
    broken = _lint_imports(repo_copy)
    assert broken.returncode == 1
    assert "fieldreport.review.models -> fieldreport.review.service" in broken.stdout
