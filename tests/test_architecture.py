"""DESIGN.md's dependency direction, checked by import-linter (contracts in pyproject.toml)."""

from __future__ import annotations

import ast
import functools
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import grimp
import yaml

PROJECT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@functools.cache
def import_graph() -> grimp.ImportGraph:
    """The package's imports, annotations-only ones left out (built once: every test reads it)."""
    return grimp.build_graph("cuisineflow", exclude_type_checking_imports=True)


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


# Outside every contract, by design: what imports everything (entry points: the CLI, the
# workflow, every module under cuisineflow.stages) and package __init__s whose packages
# span layers. Exact names: a new module in data/ or monitoring/ is not exempt.
UNCONSTRAINED = {
    "cuisineflow",  # the version string
    "cuisineflow.__main__",
    "cuisineflow.cli",
    "cuisineflow.workflow",
    "cuisineflow.stages",
    "cuisineflow.data",  # the package: library rules and adapters side by side
    "cuisineflow.monitoring",  # likewise; it holds one constant
}


def unplaced(modules: set[str]) -> list[str]:
    """Modules no contract constrains and that are not knowingly left out."""
    contracts = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["importlinter"]
    sources = {s for contract in contracts["contracts"] for s in contract["source_modules"]}

    def placed(module: str) -> bool:
        return any(module == s or module.startswith(f"{s}.") for s in sources)

    return sorted(
        m
        for m in modules
        if not placed(m) and m not in UNCONSTRAINED and not m.startswith("cuisineflow.stages.")
    )


def test_every_module_falls_under_a_contract() -> None:
    """A new module outside every contract could import anything: it must be placed."""
    modules = import_graph().modules
    assert unplaced(modules) == []
    assert modules >= UNCONSTRAINED  # no stale names
    assert unplaced({*modules, "cuisineflow.data.new_source", "cuisineflow.alerts"}) == [
        "cuisineflow.alerts",
        "cuisineflow.data.new_source",
    ]


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


# Modules that decide where outputs go, how JSON is laid out and what errors say, never a
# value computed from the data: listing them would rerun the whole pipeline for a
# reworded message. (The store's address, which settings and the store decide, is
# written into the lake manifest and models/registered.json: it is environment, like
# CUISINEFLOW_STORE itself, which DVC does not track either.)
NOT_RESULT_DEPS = {
    "src/cuisineflow/__init__.py",  # the package's version string
    "src/cuisineflow/errors.py",
    "src/cuisineflow/settings.py",
    "src/cuisineflow/storage/__init__.py",  # open_store: which store, from the settings
    "src/cuisineflow/storage/local.py",  # atomic writes
    "src/cuisineflow/storage/store.py",
}


def holds_code(path: Path) -> bool:
    """A module with more than a docstring: an empty package __init__ runs nothing."""
    body = ast.parse(path.read_text()).body
    return any(
        not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) for node in body
    )


def source_file(module: str) -> str:
    path = "src/" + module.replace(".", "/")
    return f"{path}.py" if (PROJECT / f"{path}.py").exists() else f"{path}/__init__.py"


def imported_files(module: str) -> set[str]:
    """The project's source files a module runs on import, directly or not, itself included.

    Importing a.b.c also runs a/__init__.py and a/b/__init__.py: those are counted, but not
    what they import in turn (the package __init__s import only exempt modules, or lazily
    inside a function, which grimp cannot tell apart from an import at the top)."""
    graph = import_graph()
    modules = graph.find_upstream_modules(module) | {module}
    packages = {".".join(m.split(".")[:i]) for m in modules for i in range(1, m.count(".") + 1)}
    files = {source_file(name) for name in modules | packages}
    return {f for f in files if holds_code(PROJECT / f)} - NOT_RESULT_DEPS


def listed_files(deps: list[str]) -> set[str]:
    """The source files code deps name: a listed folder names every module in it."""
    files = set()
    for dep in deps:
        path = PROJECT / dep
        found = [path] if path.is_file() else sorted(path.rglob("*.py"))
        files |= {str(p.relative_to(PROJECT)) for p in found if holds_code(p)}
    return files


def dep_problems(stages: dict[str, Any]) -> list[str]:
    """Where dvc.yaml's code deps and the stages' imports disagree."""
    problems = []
    for name, stage in stages.items():
        listed = listed_files([d for d in stage["deps"] if d.startswith("src/")])
        imported = imported_files(f"cuisineflow.stages.{name}")
        problems += [f"{name}: imports {f}, not in its deps" for f in sorted(imported - listed)]
        problems += [
            f"{name}: lists {f}, which it never imports"
            for f in sorted(listed - imported - NOT_RESULT_DEPS)
        ]
    return problems


def test_every_stage_lists_the_code_it_imports_as_deps() -> None:
    """DVC reruns a stage when a dep changes: code a stage runs but does not list would
    leave its outputs stale, and code it lists but does not run reruns it for nothing."""
    assert dep_problems(yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]) == []


def test_a_missing_or_needless_dep_is_named() -> None:
    split = yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]["split"]
    deps = [d for d in split["deps"] if d != "src/cuisineflow/paths.py"]
    deps.append("src/cuisineflow/models/metrics.py")
    assert dep_problems({"split": {"deps": deps}}) == [
        "split: imports src/cuisineflow/paths.py, not in its deps",
        "split: lists src/cuisineflow/models/metrics.py, which it never imports",
    ]
    assert "src/cuisineflow/errors.py" not in imported_files("cuisineflow.stages.split")


def test_git_never_takes_recipe_data_whatever_is_added(tmp_path: Path) -> None:
    """The What's Cooking files may not be committed: the project's .gitignore keeps the raw
    recipes out of git, whether or not DVC's data/.gitignore is committed. (The pipeline's
    outputs it leaves to that file: `dvc exp run` fails on outputs ignored from above.)"""
    from tests.conftest import git

    git("init", "-q", cwd=tmp_path)
    shutil.copy(PROJECT / ".gitignore", tmp_path / ".gitignore")
    for name in ("data/raw/train.json.zip", "data/raw/test.json.zip", "data/raw.dvc",
                 "src/cuisineflow/data/lake.py"):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    git("add", "-A", cwd=tmp_path)
    staged = git("diff", "--cached", "--name-only", cwd=tmp_path).split()
    assert staged == [".gitignore", "data/raw.dvc", "src/cuisineflow/data/lake.py"]
