"""The whole workflow on the real What's Cooking files, in a copy of this project."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.conftest import cli, copy_of_project

pytestmark = pytest.mark.slow


def real_source() -> Path:
    source = os.environ.get("CUISINEFLOW_SOURCE")
    if not source or not Path(source).is_dir():
        pytest.skip("CUISINEFLOW_SOURCE does not name the What's Cooking folder")
    return Path(source)


@pytest.fixture(scope="module")
def workflow_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    source = real_source()
    project = copy_of_project(tmp_path_factory.mktemp("e2e") / "project")
    env = {"CUISINEFLOW_STORE": str(project.parent / "store"), "CUISINEFLOW_SOURCE": str(source)}
    result = cli("run", cwd=project, env=env)
    return project, result.stdout


def test_raw_data_is_imported_unchanged_and_pushed(workflow_run: tuple[Path, str]) -> None:
    project, stdout = workflow_run
    source = real_source()
    for name in ("train.json.zip", "test.json.zip"):
        imported = (project / "data" / "raw" / name).read_bytes()
        assert (
            hashlib.sha256(imported).digest()
            == hashlib.sha256((source / name).read_bytes()).digest()
        )
    assert "raw data: test.json.zip, train.json.zip (imported from" in stdout
    status = cli(
        "data", "status", cwd=project, env={"CUISINEFLOW_STORE": str(project.parent / "store")}
    )
    assert status.stdout.strip() == "Cache and remote 'store' are in sync."
