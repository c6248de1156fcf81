"""The benchmark scripts (benchmarks/): their checks and their failures, on tiny inputs."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
BENCHMARKS = PROJECT / "benchmarks"


def bench(script: str, *arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a benchmark script as `make bench-...` does, on this checkout's package."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT / "src")}
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_train_says_why_a_models_child_failed(tmp_path: Path) -> None:
    (tmp_path / "data" / "split").mkdir(parents=True)
    (tmp_path / "data" / "split" / "train.parquet").write_bytes(b"")
    (tmp_path / "params.yaml").write_text("train:\n  C: -1\n")
    done = bench("train.py", "--project", str(tmp_path), "--models", "linear_svc", cwd=tmp_path)
    assert done.returncode == 1
    line = last_line(done.stderr)
    assert line.startswith("measuring linear_svc failed (exit status 1): ")
    assert "params.yaml: train.C" in line
    assert "CalledProcessError" not in done.stderr


def test_predict_shows_the_commands_error_line(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.json").write_text("{}")
    with zipfile.ZipFile(tmp_path / "test.json.zip", "w") as archive:
        archive.writestr("test.json", '[{"id": 1, "ingredients": ["salt"]}]')
    done = bench(
        "predict.py", "--model", str(model), "--source", str(tmp_path), "--runs", "1", cwd=tmp_path
    )
    assert done.returncode == 1
    line = last_line(done.stderr)
    assert line.startswith("cuisineflow predict, usable cores failed (exit status 1): error: ")
    assert "CalledProcessError" not in done.stderr
