"""DESIGN.md's dependency direction, checked by import-linter (contracts in pyproject.toml)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import grimp
import yaml

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


# Modules that decide how a stage writes and what it says, never what it writes: listing
# them would rerun the whole pipeline for a reworded message.
NOT_RESULT_DEPS = {
    "src/cuisineflow/errors.py",
    "src/cuisineflow/settings.py",  # where the store is: environment, not results
    "src/cuisineflow/storage/__init__.py",
    "src/cuisineflow/storage/local.py",  # atomic writes
    "src/cuisineflow/storage/store.py",
}


def imported_files(module: str) -> set[str]:
    """The project's source files a module imports, directly or not, itself included."""
    graph = grimp.build_graph("cuisineflow", exclude_type_checking_imports=True)
    files = set()
    for name in graph.find_upstream_modules(module) | {module}:
        path = "src/" + name.replace(".", "/")
        files.add(f"{path}.py" if (PROJECT / f"{path}.py").exists() else f"{path}/__init__.py")
    return {f for f in files if not f.endswith("/__init__.py")} - NOT_RESULT_DEPS


def dep_problems(stages: dict[str, Any]) -> list[str]:
    """Where dvc.yaml's code deps and the stages' imports disagree."""
    problems = []
    for name, stage in stages.items():
        listed = [d for d in stage["deps"] if d.startswith("src/")]
        imported = imported_files(f"cuisineflow.stages.{name}")

        def covers(folder_or_file: str, file: str) -> bool:
            return file == folder_or_file or file.startswith(f"{folder_or_file}/")

        problems += [
            f"{name}: imports {f}, not in its deps"
            for f in sorted(imported)
            if not any(covers(d, f) for d in listed)
        ]
        problems += [
            f"{name}: lists {d}, which it never imports"
            for d in listed
            if not any(covers(d, f) for f in imported)
        ]
    return problems


def test_every_stage_lists_the_code_it_imports_as_deps() -> None:
    """DVC reruns a stage when a dep changes: code a stage runs but does not list would
    leave its outputs stale, and code it lists but does not run reruns it for nothing."""
    assert dep_problems(yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]) == []


def test_a_missing_or_needless_dep_is_named() -> None:
    split = yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]["split"]
    deps = [d for d in split["deps"] if d != "src/cuisineflow/stages/paths.py"]
    deps.append("src/cuisineflow/models/metrics.py")
    assert dep_problems({"split": {"deps": deps}}) == [
        "split: imports src/cuisineflow/stages/paths.py, not in its deps",
        "split: lists src/cuisineflow/models/metrics.py, which it never imports",
    ]
    assert "src/cuisineflow/errors.py" not in imported_files("cuisineflow.stages.split")
