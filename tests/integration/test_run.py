"""`cuisineflow run`, the main job, on a tiny data set in a fresh project."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import S3Endpoint, cli, commit_and_clone

pytestmark = pytest.mark.integration


def test_run_imports_then_reuses_raw_data(project: Path, tiny_zip: Path, tmp_path: Path) -> None:
    first = cli("run", "--source", str(tiny_zip), cwd=project)
    assert f"raw data: train.json.zip (imported from {tiny_zip})" in first.stdout
    assert (project / "data" / "raw" / "train.json.zip").read_bytes() == tiny_zip.read_bytes()
    assert any((tmp_path / "store" / "dvc" / "files" / "md5").rglob("*"))
    second = cli("run", cwd=project)
    assert "raw data: train.json.zip (already in data/raw)" in second.stdout


def test_run_without_data_or_source_says_what_to_do(project: Path) -> None:
    result = cli("run", cwd=project, check=False)
    assert result.returncode == 1
    assert "no raw data: data/raw is absent. Give --source PATH (or CUISINEFLOW_SOURCE)" in (
        result.stderr
    )


def test_run_in_a_clone_pulls_raw_data_from_the_s3_store(
    project: Path, tiny_zip: Path, tmp_path: Path, s3_endpoint: S3Endpoint
) -> None:
    env = {**s3_endpoint.store_env("run-clone"), "CUISINEFLOW_SOURCE": str(tiny_zip)}
    cli("run", cwd=project, env=env)
    clone = commit_and_clone(project, tmp_path / "clone")
    result = cli("run", cwd=clone, env={k: v for k, v in env.items() if k != "CUISINEFLOW_SOURCE"})
    assert "(pulled from the store)" in result.stdout
    assert (clone / "data" / "raw" / "train.json.zip").read_bytes() == tiny_zip.read_bytes()


def test_run_in_a_clone_whose_store_lacks_the_raw_data_imports_or_says_so(
    project: Path, tiny_zip: Path, tmp_path: Path
) -> None:
    cli("data", "import", str(tiny_zip), cwd=project)
    clone = commit_and_clone(project, tmp_path / "clone")
    empty = {"CUISINEFLOW_STORE": str(tmp_path / "empty-store")}
    refused = cli("run", cwd=clone, env=empty, check=False)
    assert refused.returncode == 1
    assert (
        f"no raw data: data/raw is absent and the store, local store {tmp_path / 'empty-store'}, "
        "does not hold what data/raw.dvc tracks (" in refused.stderr
    )
    assert "give --source PATH" in refused.stderr
    imported = cli("run", "--source", str(tiny_zip), cwd=clone, env=empty)
    # One line of ours, not DVC's failed pull followed by a run that succeeds.
    assert "does not hold what data/raw.dvc tracks" in imported.stderr
    assert f"importing the raw data from {tiny_zip}" in imported.stderr
    assert "ERROR" not in imported.stderr
    assert f"raw data: train.json.zip (imported from {tiny_zip})" in imported.stdout


def test_run_imports_when_data_raw_holds_only_a_killed_imports_leftover(
    project: Path, tiny_zip: Path
) -> None:
    raw = project / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / ".train.json.zip.importing").write_bytes(tiny_zip.read_bytes()[:50])
    result = cli("run", "--source", str(tiny_zip), cwd=project)
    assert f"raw data: train.json.zip (imported from {tiny_zip})" in result.stdout
    assert sorted(p.name for p in raw.iterdir()) == ["train.json.zip"]
