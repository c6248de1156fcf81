"""DESIGN.md's dependency direction, checked by import-linter (contracts in pyproject.toml)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(source: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(PROJECT / "pyproject.toml")],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_imports_point_one_way() -> None:
    result = lint_imports(PROJECT / "src")
    assert result.returncode == 0, result.stdout
    assert "Contracts: 5 kept, 0 broken." in result.stdout


def test_a_library_module_reaching_for_the_store_breaks_a_contract(tmp_path: Path) -> None:
    shutil.copytree(
        PROJECT / "src" / "cuisineflow",
        tmp_path / "cuisineflow",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    features = tmp_path / "cuisineflow" / "features.py"
    features.write_text(features.read_text() + "\nimport cuisineflow.storage  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "The library knows no files of the store, S3, DVC or settings BROKEN" in result.stdout
    assert "cuisineflow.features -> cuisineflow.storage" in result.stdout
